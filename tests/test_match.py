"""tengen match: the GTP client, the referee, forfeits, resume and the summary."""

import sys
from pathlib import Path

import pytest

from go_engine.gtp_client import GtpClient, GtpCommandError, GtpTimeout, Limit
from go_engine.sgf import parse_sgf
from go_engine.stats import wilson
from selfplay.match import EngineStartError, GameResult, MatchConfig, load_results, run_match, summary

GNUGO = "/usr/games/gnugo"
FAULTY = f"{sys.executable} {Path(__file__).parent / 'engines' / 'faulty_gtp.py'}"
needs_gnugo = pytest.mark.skipif(not Path(GNUGO).exists(), reason="GNU Go 3.8 is not installed")


def test_wilson_interval():
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson(50, 50)
    assert hi == 1.0 and lo == pytest.approx(0.9287, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


@needs_gnugo
def test_summary_counts_games_that_repeat_an_earlier_one():
    cfg = MatchConfig(engines=("a", "b"), names=("a", "b"), games=3, size=9, komi=7)

    def rec(i, digest):
        black, white = ("a", "b") if i % 2 == 0 else ("b", "a")
        return GameResult(i, black, white, "a", "B+R" if black == "a" else "W+R", "resign", "", 40, None, {},
                          {"a": [0.1], "b": [0.1]}, digest)

    text = summary(cfg, {0: rec(0, "x"), 1: rec(1, "y"), 2: rec(2, "x")})
    assert "repeated games: 1 of 3 replay an earlier game move for move, 2 distinct" in text
    assert "repeated" not in summary(cfg, {0: rec(0, "x"), 1: rec(1, "y"), 2: rec(2, "")})  # old records: no digest


def test_client_answers_errors_and_timeouts():
    with GtpClient(f"{GNUGO} --mode gtp --level 0") as c:
        assert c.name == "GNU Go"
        c.send("boardsize 9")
        assert c.send("genmove b").upper() in {f"{col}{r}" for col in "ABCDEFGHJ" for r in range(1, 10)} | {"PASS"}
        with pytest.raises(GtpCommandError, match="Z99"):
            c.send("play b Z99")
        assert c.known("play") and not c.known("no_such_command")
    with GtpClient(f"{FAULTY} slow") as c:
        c.send("genmove b")
        with pytest.raises(GtpTimeout):
            c.send("genmove b", timeout=0.3)


@pytest.mark.parametrize("mode,reason,result", [("illegal", "illegal", "B+F"), ("slow", "time", "B+T"),
                                                ("crash", "error", "B+F"), ("garbage", "illegal", "B+F")])
def test_faulty_engine_forfeits(tmp_path, mode, reason, result):
    # "good" is Black and plays A1, B1...; "bad" is White and fails at its second move
    cfg = MatchConfig(engines=(f"{FAULTY} sane", f"{FAULTY} {mode}"), names=("good", "bad"), games=1, size=5,
                      komi=0.5, limit=Limit(seconds=0.5, grace=1.0), out=str(tmp_path))
    res = run_match(cfg, progress=lambda s: None)
    rec = res[0]
    assert (rec.black, rec.white) == ("good", "bad")
    assert rec.reason == reason and rec.result == result and rec.winner == "good"
    assert rec.moves == 3  # B, W, B; White's second move is the fault
    sgf = (tmp_path / "game-0000.sgf").read_text()
    assert f"RE[{result}]" in sgf and "PB[good]" in sgf
    text = summary(cfg, res)
    assert "good: 1 wins of 1 = 100.0%" in text
    assert ("without the 1 games an engine failed in: good 0 wins of 0" in text) == (reason == "error")


@needs_gnugo
def test_match_plays_scores_and_resumes(tmp_path):
    gnugo = f"{GNUGO} --mode gtp --level 0"
    cfg = MatchConfig(engines=(gnugo, gnugo + " --seed 7"), names=("g0", "g7"), games=2, size=7, komi=6.5,
                      scorer=f"{GNUGO} --mode gtp", parallel=2, out=str(tmp_path))
    res = run_match(cfg, progress=lambda s: None)
    assert sorted(res) == [0, 1]
    assert (res[0].black, res[1].black) == ("g0", "g7")  # colours alternate
    for rec in res.values():
        assert rec.reason == "score" and rec.score is not None and rec.score != int(rec.score)
        winner = rec.black if rec.score > 0 else rec.white
        assert rec.winner == winner and rec.result.startswith("B+" if rec.score > 0 else "W+")
        for answer in rec.final_scores.values():  # both GNU Go players agree with the scorer
            assert answer[:2] == rec.result[:2] and float(answer[2:]) == abs(rec.score)
        assert len(rec.seconds["g0"]) + len(rec.seconds["g7"]) == rec.moves
    text = summary(cfg, res)
    assert "2 games, 7x7" in text and "95%" in text
    # a rerun plays nothing new; more games play only the missing one
    stamp = (tmp_path / "game-0000.json").stat().st_mtime_ns
    lines = []
    run_match(cfg, progress=lines.append)
    assert lines == ["resuming: 2 games on disk, 0 to play"]
    more = MatchConfig(**{**cfg.__dict__, "games": 3})
    assert sorted(run_match(more, progress=lambda s: None)) == [0, 1, 2]
    assert (tmp_path / "game-0000.json").stat().st_mtime_ns == stamp
    other = MatchConfig(**{**cfg.__dict__, "komi": 0.5})
    with pytest.raises(ValueError, match="other settings"):
        run_match(other)
    (tmp_path / "game-0001.json").write_text("{not json")
    with pytest.raises(ValueError, match="game-0001.json"):
        load_results(tmp_path)


@needs_gnugo
def test_full_game_against_gnugo_agrees_on_the_score(tmp_path):
    """Tengen (the default network) against GNU Go 3.8 on 9x9: no illegal move, no forfeit, played to two
    passes, Tengen's final_score equal to the scorer's and GNU Go's naming the same winner."""
    tengen = f"{sys.executable} -m tengen_cli gtp --visits 32 --resign-threshold 0"
    gnugo = f"{GNUGO} --mode gtp --level 1 --chinese-rules --seed 1"  # GNU Go seeds from the clock by default
    cfg = MatchConfig(engines=(tengen, gnugo), names=("tengen", "gnugo"),
                      games=1, size=9, komi=7.5, scorer=f"{GNUGO} --mode gtp --chinese-rules",
                      limit=Limit(hard=120), out=str(tmp_path))
    rec = run_match(cfg, progress=lambda s: None)[0]
    assert rec.reason == "score", rec.detail
    assert rec.final_scores["tengen"] == rec.result
    # GNU Go playing at level 1 reads dead stones less well than the scorer at its default level: its
    # own count must name the same winner, its margin may differ
    assert rec.final_scores["gnugo"][:2] == rec.result[:2]


@pytest.mark.parametrize("engine,reason", [("no-such-engine --mode gtp", "cannot start 'no-such-engine'"),
                                           (f"{sys.executable} -c \"import sys; print('bad weights', file=sys.stderr);"
                                            " sys.exit(3)\"", "its stderr ends: bad weights")])
def test_an_engine_that_cannot_start_stops_the_match_with_the_reason(tmp_path, capsys, engine, reason):
    from tengen_cli import main

    cfg = MatchConfig(engines=(f"{FAULTY} sane", engine), names=("good", "bad"), games=2, size=5, out=str(tmp_path))
    with pytest.raises(EngineStartError, match="engine bad .* cannot play this match") as e:
        run_match(cfg, progress=lambda s: None)
    assert reason in str(e.value) and not load_results(tmp_path)  # no game was forfeited
    code = main(["match", f"{FAULTY} sane", engine, "--out", str(tmp_path / "cli"), "--size", "5", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("tengen match: error: engine B") and reason in err and err.count("\n") == 1


def test_a_scorer_that_cannot_start_stops_the_match(tmp_path):
    cfg = MatchConfig(engines=(f"{FAULTY} sane", f"{FAULTY} sane"), names=("a", "b"), games=1, size=5,
                      scorer="no-such-scorer", out=str(tmp_path))
    with pytest.raises(EngineStartError, match="engine scorer .* cannot start 'no-such-scorer'"):
        run_match(cfg, progress=lambda s: None)


@needs_gnugo
def test_an_engine_that_refuses_the_board_size_stops_the_match(tmp_path):
    cfg = MatchConfig(engines=(f"{FAULTY} sane", f"{GNUGO} --mode gtp"), names=("a", "gnugo"), games=1, size=21,
                      out=str(tmp_path))
    with pytest.raises(EngineStartError, match="engine gnugo .*'boardsize 21' -> \\? unacceptable size"):
        run_match(cfg, progress=lambda s: None)


def test_openings_are_the_distinct_first_moves_of_games_that_qualify(tmp_path):
    from selfplay.match import read_openings

    games = {
        "a": "(;SZ[9];B[ee];W[cc];B[gg];W[cg];B[gc])",
        "b": "(;SZ[9];B[ee];W[cc];B[gg];W[cg];B[dd])",  # the same first four moves
        "c": "(;SZ[9];B[ee];W[];B[gg];W[cg])",  # a pass
        "d": "(;SZ[19];B[pd];W[dd];B[pq];W[dp])",  # another size
        "e": "(;SZ[9]AB[cc];W[ee];B[gg];W[cg];B[gc])",  # stones set up
        "f": "(;SZ[9];B[ee];W[cc];B[gg])",  # too short
        "g": "(;SZ[9];B[ee];W[ce];B[gg];W[cg])",
    }
    for name, text in games.items():
        (tmp_path / f"{name}.sgf").write_text(text)
    assert read_openings([str(tmp_path)], 9, 4) == (
        (("B", "E5"), ("W", "C7"), ("B", "G3"), ("W", "C3")),
        (("B", "E5"), ("W", "C5"), ("B", "G3"), ("W", "C3")),
    )
    assert len(read_openings([str(tmp_path)], 9, 2)) == 2  # E5-C7 (also the short game's) and E5-C5
    assert read_openings([str(tmp_path)], 9, 4, count=1) == read_openings([str(tmp_path)], 9, 4)[:1]
    with pytest.raises(ValueError, match="no game of size 13"):
        read_openings([str(tmp_path)], 13, 4)
    with pytest.raises(ValueError, match="no such file or folder"):
        read_openings([str(tmp_path / "nowhere")], 9, 4)


def test_each_pair_of_games_starts_from_the_next_opening_with_colours_swapped(tmp_path):
    openings = ((("B", "C3"), ("W", "C2")), (("B", "B2"), ("W", "D4")))
    cfg = MatchConfig(engines=(f"{FAULTY} sane", f"{FAULTY} sane"), names=("a", "b"), games=5, size=5, komi=0.5,
                      max_moves=8, openings=openings, out=str(tmp_path))
    res = run_match(cfg, progress=lambda s: None)
    assert sorted(res) == [0, 1, 2, 3, 4]
    for i, rec in res.items():
        moves = parse_sgf((tmp_path / f"game-{i:04d}.sgf").read_bytes(), source="match")[0].moves
        assert tuple(moves[:2]) == openings[(i // 2) % 2]
        assert rec.black == ("a" if i % 2 == 0 else "b") and rec.moves == 8
        assert len(rec.seconds["a"]) + len(rec.seconds["b"]) == 6  # the engines chose all but the opening
    assert "openings" in (tmp_path / "match.json").read_text()


def test_more_games_resume_with_more_openings_from_the_same_list(tmp_path):
    first, second = (("B", "C3"), ("W", "C2")), (("B", "B2"), ("W", "D4"))
    cfg = MatchConfig(engines=(f"{FAULTY} sane", f"{FAULTY} sane"), names=("a", "b"), games=2, size=5, komi=0.5,
                      max_moves=6, openings=(first,), out=str(tmp_path))
    run_match(cfg, progress=lambda s: None)
    more = MatchConfig(**{**cfg.__dict__, "games": 4, "openings": (first, second)})
    res = run_match(more, progress=lambda s: None)
    assert sorted(res) == [0, 1, 2, 3]
    moves = parse_sgf((tmp_path / "game-0003.sgf").read_bytes(), source="match")[0].moves
    assert tuple(moves[:2]) == second and "D4" in (tmp_path / "match.json").read_text()
    for openings in ((second,), ()):  # another list, or none: another match
        with pytest.raises(ValueError, match="other settings"):
            run_match(MatchConfig(**{**cfg.__dict__, "openings": openings}), progress=lambda s: None)


def test_an_engine_that_refuses_an_opening_move_voids_the_game(tmp_path):
    cfg = MatchConfig(engines=(f"{FAULTY} sane", f"{FAULTY} refuse"), names=("a", "b"), games=1, size=5,
                      openings=((("B", "C3"), ("W", "C2")),), out=str(tmp_path))
    rec = run_match(cfg, progress=lambda s: None)[0]
    assert (rec.result, rec.reason, rec.winner) == ("Void", "error", None)
    assert rec.detail.startswith("b refused B C3 in the opening") and rec.moves == 1


def test_a_ko_cycle_ends_the_game_without_a_result(tmp_path):
    # the triple ko of test_rules.TRIPLE_KO set up by the opening; then both engines go round it
    black = ["B9", "D9", "C8", "B2", "G2", "A1", "F1"]
    white = ["A9", "B8", "C2", "H2", "B1", "D1", "G1", "J1"]
    opening = tuple(m for i, w in enumerate(white) for m in [("W", w)] + ([("B", black[i])] if i < len(black) else []))
    cfg = MatchConfig(engines=(f"{FAULTY} cycle C1,H1,B9", f"{FAULTY} cycle C9,B1,G1"), names=("a", "b"), games=1,
                      size=9, komi=7, openings=(opening,), out=str(tmp_path))
    rec = run_match(cfg, progress=lambda s: None)[0]
    assert (rec.result, rec.reason, rec.winner) == ("Void", "cycle", None)
    assert rec.moves == len(opening) + 12  # the start of the cycle stands a third time after two rounds
    assert "RE[Void]" in (tmp_path / "game-0000.sgf").read_text()
    text = summary(cfg, {0: rec})
    assert "a: 0 wins of 0" in text and "void, not counted: 1 (no result: a ko cycle)" in text
