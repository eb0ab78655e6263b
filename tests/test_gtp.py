"""The GTP engine: protocol, commands, analysis streaming, scoring, options."""

import io
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from go_engine.sgf import parse_sgf
from gtp.engine import GtpEngine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LZ_INFO = re.compile(r"info move (pass|[A-HJ-Z]\d+) visits \d+ winrate \d+ prior \d+ lcb \d+ order \d+ "
                     r"pv( (pass|[A-HJ-Z]\d+))+")
FLOAT = r"-?\d+(\.\d+)?"
KATA_INFO = re.compile(rf"info move (pass|[A-HJ-Z]\d+) visits \d+ utility {FLOAT} winrate {FLOAT} "
                       rf"scoreMean {FLOAT} scoreStdev {FLOAT} scoreLead {FLOAT} scoreSelfplay {FLOAT} "
                       rf"prior {FLOAT} lcb {FLOAT} utilityLcb {FLOAT} order \d+ pv( (pass|[A-HJ-Z]\d+))+")


def session(lines, **kw):
    """Run ``lines`` through a fresh engine; returns the responses (text of each, without the blank line)."""
    kw.setdefault("visits", 16)
    kw.setdefault("log", io.StringIO())
    eng = GtpEngine(**kw)
    out = io.StringIO()
    eng.run(io.StringIO("".join(l + "\n" for l in lines)), out)
    text = out.getvalue()
    assert text.endswith("\n\n") or text == ""
    return [r for r in text.split("\n\n") if r], eng


def test_protocol_basics():
    res, _ = session(["1 protocol_version", "# a comment", "", "2 name", "bogus_cmd", "3 bogus_cmd",
                      "4 boardsize 26", "5 boardsize 9", "6 play b Z30", "7 play b E5", "8 play w E5",
                      "9 play q E5", "10 play b", "11 known_command genmove", "12 known_command nope",
                      "13\tkomi\x01 6.5", "14 undo", "15 undo", "16 version"])
    assert res == ["=1 2", "=2 Tengen", "? unknown command", "?3 unknown command",
                   "?4 unacceptable size", "=5", res[6], "=7", res[8], res[9], res[10],
                   "=11 true", "=12 false", "=13", "=14", "?15 cannot undo", res[16]]
    assert res[6].startswith("?6 ") and res[8].startswith("?8 illegal move")
    assert res[9].startswith("?9 ") and res[10].startswith("?10 ")
    assert res[16].startswith("=16 ")


def test_list_commands_and_quit():
    res, _ = session(["list_commands", "quit", "name"])
    cmds = res[0][2:].split("\n")
    for c in ("protocol_version", "genmove", "lz-analyze", "kata-analyze", "kgs-genmove_cleanup",
              "kata-set-rules", "final_status_list", "loadsgf", "lz-genmove_analyze", "kgs-time_settings"):
        assert c in cmds
    assert res[1] == "=" and len(res) == 2  # nothing after quit


def test_game_with_undo_and_scoring():
    lines = ["boardsize 7", "komi 0.5"]
    for i in range(12):
        lines.append(f"genmove {'b' if i % 2 == 0 else 'w'}")
    lines += ["undo", "undo", "genmove b", "play w pass", "final_score", "final_status_list dead",
              "final_status_list alive", "showboard", "printsgf"]
    res, eng = session(lines, resign_threshold=0)
    moves = res[2:14]
    assert all(re.fullmatch(r"= (pass|[A-G][1-7])", m) for m in moves), moves
    assert res[14] == "=" and res[15] == "="
    assert re.fullmatch(r"= (B\+\d+(\.\d+)?|W\+\d+(\.\d+)?|0)", res[18])
    assert len(eng.game.moves) == 12
    sgf = res[22][2:]
    g = parse_sgf(sgf)[0].replay()
    assert g.moves == eng.game.moves and g.size == 7


def test_dead_stones_after_two_passes():
    """Once both players passed, dead stones are still judged by playing the position out
    (a finished game's playouts would end at once and call every stone alive)."""
    from go_engine import Game
    eng = GtpEngine(visits=8, log=io.StringIO())
    eng.game = Game.from_diagram("""
        . O . O .
        O O O O O
        O X X . O
        O O O O O
        . O . O .""", komi=0.5)
    for req in ("play b pass", "play w pass"):
        assert eng.handle(req)[1]
    assert eng.game.is_over
    assert sorted(eng.handle("final_status_list dead")[0][2:].split()) == ["B3", "C3"]
    assert eng.handle("final_score")[0] == "= W+25.5\n\n"


def test_handicap_and_free_handicap():
    res, eng = session(["boardsize 9", "fixed_handicap 4", "genmove w", "clear_board", "fixed_handicap 12",
                        "place_free_handicap 3", "clear_board", "set_free_handicap C3 G7", "play b E5",
                        "set_free_handicap D4 D5"])
    assert res[1] == "= C3 G7 C7 G3"
    assert re.fullmatch(r"= \S+", res[2])
    assert res[4].startswith("?") and len(res[5][2:].split()) == 3
    assert res[7] == "=" and res[9].startswith("?")


def test_time_controls_respected():
    res, eng = session(["boardsize 9", "time_settings 10 0 0", "time_left b 2 0", "genmove b",
                        "kgs-time_settings byoyomi 0 1 3", "time_left w 1 3", "genmove w",
                        "kgs-time_settings canadian 0 2 4", "time_left b 2 4", "genmove b",
                        "kgs-time_settings none"], visits=100000)
    assert [r[0] for r in res] == ["="] * len(res)
    t = time.monotonic()
    eng.cmd_time_settings("0", "1", "1")
    eng.cmd_time_left("w", "1", "1")
    eng.cmd_genmove("w")
    assert time.monotonic() - t < 1.0


def test_loadsgf(tmp_path):
    p = tmp_path / "g.sgf"
    p.write_text("(;GM[1]FF[4]SZ[9]KM[6.5];B[ee];W[cc];B[gg];W[cg])")
    res, eng = session([f"loadsgf {p}", "showboard", f"loadsgf {p} 3", "genmove b", "loadsgf /nonexistent.sgf"])
    assert res[0] == "="
    assert res[3].startswith("=") and res[4].startswith("?")
    assert eng.game.komi == 6.5 and len(eng.game.moves) == 3  # 2 moves loaded + genmove
    assert eng.game.moves[:2] == [("B", "E5"), ("W", "C7")]


def test_rules_commands():
    res, eng = session(["boardsize 9", "play b E5", "kata-set-rules japanese", "kgs-rules new_zealand",
                        "kata-set-rules nonsense", "kgs-rules chinese"])
    assert res[:4] == ["=", "=", "=", "="] and res[4].startswith("?") and res[5] == "="
    assert eng.game.moves == [("B", "E5")]


def test_lz_analyze_streams_until_next_command():
    res, _ = session(["boardsize 9", "1 lz-analyze b 1", "2 name"])
    body = res[1].split("\n")
    assert body[0] == "=1"
    assert len(body) >= 2
    for line in body[1:]:
        for seg in re.split(r" (?=info )", line):
            assert LZ_INFO.fullmatch(seg), seg
    assert res[2] == "=2 Tengen"


def test_analyze_minmoves_and_maxmoves():
    res, _ = session(["boardsize 9", "1 lz-analyze b 1 minmoves 20", "2 kata-analyze w 1 maxmoves 2",
                      "3 lz-analyze 1 maxmoves x", "4 kata-analyze interval nan", "5 lz-analyze minmoves -1"])
    lz = re.split(r" (?=info )", res[1].split("\n")[1])
    assert len(lz) == 20 and all(LZ_INFO.fullmatch(seg) for seg in lz)
    visits = [int(seg.split()[4]) for seg in lz]
    assert visits == sorted(visits, reverse=True) and visits[-1] == 0 < visits[0]  # unvisited ones follow
    assert [int(seg.split(" order ")[1].split()[0]) for seg in lz] == list(range(20))
    kata = re.split(r" (?=info )", res[2].split("\n")[1])
    assert 1 <= len(kata) <= 2 and all(KATA_INFO.fullmatch(seg) for seg in kata)
    assert res[3] == "?3 maxmoves: expected a number, got 'x'"
    assert res[4].startswith("?4 interval: expected a number") and res[5].startswith("?5 minmoves must be")


def test_analyze_avoid_and_allow_at_the_root():
    def moves(resp):
        return [seg.split()[2] for seg in re.split(r" (?=info )", resp.split("\n")[1])]

    res, _ = session(["boardsize 9", "1 kata-analyze b 1 avoid b E5,e4,D5,pass 1 minmoves 80",
                      "2 lz-analyze b 1 allow b C3,G7 2 minmoves 10", "3 lz-analyze b 1 avoid w E5 1 minmoves 82",
                      "4 lz-analyze b 1 allow b C3 1 allow b D4 1", "5 lz-analyze b 1 avoid b C3 1 allow b D4 1",
                      "6 lz-analyze b 1 avoid b Z9 1", "7 lz-analyze b 1 avoid b C3 0"])
    first = moves(res[1])
    assert len(first) == 78 and not {"E5", "E4", "D5", "pass"} & set(first)  # 82 moves less the 4 avoided
    assert sorted(moves(res[2])) == ["C3", "G7"]
    assert "E5" in moves(res[3]) and len(moves(res[3])) == 82  # a clause for White binds no root move
    assert res[4] == "?4 allow may be given once" and res[5] == "?5 avoid and allow cannot be combined"
    assert res[6].startswith("?6 avoid: invalid vertex") and res[7].startswith("?7 avoid: the depth must be")


def test_lz_analyze_over_pipe_stops_on_command():
    """The analysis keeps streaming while stdin is quiet and stops when a command arrives."""
    r_fd, w_fd = os.pipe()
    rin, win = os.fdopen(r_fd, "r"), os.fdopen(w_fd, "w")
    out = _LineSink()
    eng = GtpEngine(visits=8, log=io.StringIO())
    th = threading.Thread(target=eng.run, args=(rin, out), daemon=True)
    th.start()
    win.write("boardsize 7\nlz-analyze 5\n")
    win.flush()
    assert out.wait_for(lambda t: t.count("info move") >= 3, 20)
    win.write("7 name\n")
    win.close()
    th.join(20)
    assert not th.is_alive()
    text = out.text()
    assert text.endswith("=7 Tengen\n\n")
    assert "\n\n=7 Tengen" in text


class _LineSink(io.StringIO):
    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def write(self, s):
        with self.lock:
            return super().write(s)

    def text(self):
        with self.lock:
            return self.getvalue()

    def wait_for(self, cond, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond(self.text()):
                return True
            time.sleep(0.02)
        return False


def test_ponder_on_the_opponents_time_and_reuse_the_tree():
    """With pondering the engine searches after its own move until the next request; the
    opponent's reply keeps that subtree, whose visits count towards the next move's visit cap."""
    r_fd, w_fd = os.pipe()
    rin, win = os.fdopen(r_fd, "r"), os.fdopen(w_fd, "w")
    out, log = _LineSink(), _LineSink()
    eng = GtpEngine(visits=64, ponder=True, ponder_visits=3000, log=log)
    th = threading.Thread(target=eng.run, args=(rin, out), daemon=True)
    th.start()
    win.write("boardsize 7\n1 genmove b\n")
    win.flush()
    assert out.wait_for(lambda t: "=1 " in t, 30)
    assert log.wait_for(lambda t: "pondered" in t, 60)  # searched up to ponder_visits, then waited
    pondered = int(re.search(r"pondered (\d+) visits", log.text()).group(1))
    assert pondered > 64
    reply = eng.search.analysis()[0]["move"]  # the reply the ponder search expects most
    win.write(f"2 play w {reply}\n3 genmove b\n")
    win.flush()
    assert out.wait_for(lambda t: "=3 " in t, 30)
    win.close()
    th.join(20)
    # the tree after the expected reply held more than the cap: no new search was needed
    visits = [int(v) for v in re.findall(r"genmove B: \S+ winrate \S+ visits (\d+)", log.text())]
    assert len(visits) == 2 and visits[1] > 64, log.text()


def test_seconds_per_move_without_a_clock():
    responses, eng = session(["boardsize 9", "genmove b", "genmove w"], visits=10 ** 6, move_seconds=0.3)
    assert all(r.startswith("=") for r in responses)
    secs = [float(t) for t in re.findall(r"in (\d+\.\d+)s", eng.log_file.getvalue())]
    assert len(secs) == 2 and all(0.25 <= t < 1.5 for t in secs), secs


def test_visit_cap_counts_the_reused_subtree():
    responses, eng = session(["boardsize 7", "genmove b", "genmove w"], visits=40)
    assert all(r.startswith("=") for r in responses)
    log = eng.log_file.getvalue()
    # the second search started from the first one's subtree (some visits) and was topped up to 40
    assert [int(v) for v in re.findall(r"visits (\d+)", log)] == [40, 40]


def test_kata_analyze_with_ownership_and_genmove_analyze():
    res, eng = session(["boardsize 7", "kata-analyze w 1 ownership true", "kata-genmove_analyze b 1",
                        "lz-genmove_analyze w"])
    body = res[1].split("\n")
    assert body[0] == "="
    line = body[1]
    main, own = line.split(" ownership ")
    assert len(own.split()) == 49 and all(-1 <= float(x) <= 1 for x in own.split())
    for seg in re.split(r" (?=info )", main):
        assert KATA_INFO.fullmatch(seg), seg
    ga = res[2].split("\n")
    assert ga[0] == "=" and KATA_INFO.match(ga[1]) and re.fullmatch(r"play \S+", ga[-1])
    gl = res[3].split("\n")
    assert LZ_INFO.match(gl[1]) and re.fullmatch(r"play \S+", gl[-1])
    assert len(eng.game.moves) == 2


def test_random_moves_vary_openings_and_a_seed_repeats_them():
    def opening(**kw):
        res, _ = session(["boardsize 9"] + ["genmove b", "genmove w"] * 3, visits=24, **kw)
        return tuple(res[1:])

    assert opening() == opening()  # without random moves, games repeat
    assert len({opening(random_moves=4) for _ in range(4)}) > 1  # draws seeded afresh in each engine
    assert opening(random_moves=4, seed=3) == opening(random_moves=4, seed=3)


def test_subprocess_pipes_and_eof():
    code = f"import sys; sys.path.insert(0, {ROOT!r}); from gtp.engine import run_gtp; run_gtp(None, visits=8)"
    p = subprocess.run([sys.executable, "-c", code], input="1 boardsize 7\n2 genmove b\n3 nonsense\n4 name\n",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    res = [r for r in p.stdout.split("\n\n") if r]
    assert res[0] == "=1" and re.fullmatch(r"=2 [A-G][1-7]", res[1]) and res[2].startswith("?3")
    assert res[3] == "=4 Tengen"
    assert "genmove" in p.stderr and "genmove" not in p.stdout


def test_warm_up_compiles_what_a_timed_genmove_uses():
    """In a fresh process, warm_up leaves the tree-reuse kernel and the playouts behind the reply to a
    pass compiled (or loaded from the cache): neither may cost seconds inside a move on the clock."""
    code = (f"import sys; sys.path.insert(0, {ROOT!r}); from gtp.engine import build_engine; "
            "from selfplay.search import k_compact; from go_engine.playout import k_playouts; "
            "kernels = (k_compact, k_playouts); e = build_engine(visits=8, size=7); "  # the bundled network
            "print([len(k.signatures) for k in kernels]); e.warm_up(); print([len(k.signatures) for k in kernels])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["[0, 0]", "[1, 1]"]


def test_config_file_gives_defaults_the_command_line_overrides(tmp_path, capsys):
    from tengen_cli import main, parse_args
    cfg = tmp_path / "tengen.toml"
    cfg.write_text('visits = 77\nresign-threshold = 0.0\n[gtp]\nkomi = 6.5\nrules = "japanese"\n[play]\nkomi = 0.5\n')
    args = parse_args(["gtp", "--config", str(cfg), "--rules", "aga"])
    assert (args.visits, args.resign_threshold, args.komi, args.rules) == (77, 0.0, 6.5, "aga")
    assert parse_args(["play", "--config", str(cfg)]).komi == 0.5
    cfg.write_text("visits = 5\nponies = 3\n")
    assert main(["gtp", "--config", str(cfg)]) == 2
    assert "unknown option(s) for tengen gtp: ponies" in capsys.readouterr().err
    cfg.write_text("visits = [\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        parse_args(["gtp", "--config", str(cfg)])
    with pytest.raises(ValueError, match="No such file"):
        parse_args(["gtp", "--config", str(tmp_path / "missing.toml")])


class _LovesPassing:
    """Priors all on pass, every position even: a search that passes whenever it may."""

    needs_history = False

    def __call__(self, leaves):
        import numpy as np

        from selfplay.search import Evaluation
        a = leaves.size * leaves.size + 1
        p = np.full((len(leaves), a), 1e-4, dtype=np.float32)
        p[:, -1] = 1.0
        zeros = np.zeros(len(leaves), dtype=np.float32)
        return Evaluation(p, zeros, zeros)


CHAOS = """
. . . . . . . . .
. . X . . . X . .
. X O . . . O X .
. . X . . . X . .
X X X X X X X X X
O O O O O O O O O
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
"""


def test_no_pass_into_a_count_that_loses_once_dead_stones_are_removed():
    # White's stones C7 and G7 are dead in Black's area: counted as they stand (Tromp-Taylor) White
    # wins by 23.5, with them removed Black wins by 8.5. Black has passed; White must not pass back.
    from go_engine.game import Game

    eng = GtpEngine(visits=24, log=io.StringIO())
    eng.evaluator = _LovesPassing()
    g = Game.from_diagram(CHAOS, to_play="B", komi=0.5)
    g.play("pass")
    eng.load(g)
    assert g.score() < 0 < g.final_score(eng.dead_stones(g))
    move = eng.genmove("W", play=False)
    assert move not in ("pass", "resign") and not g.fills_own_eye(move, "W")
    # where the count with dead stones removed wins, the same search passes back
    won = Game.from_diagram(CHAOS, to_play="B", komi=20.5)
    won.play("pass")
    eng.load(won)
    assert eng.genmove("W", play=False) == "pass"
