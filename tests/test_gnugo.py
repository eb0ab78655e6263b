"""Differential tests of the rules engine against GNU Go 3.8 (simple ko, no suicide, area scoring).

Random games (no own-eye filling) are relayed move by move to ``gnugo --mode gtp
--chinese-rules``: stones must agree after every move, the legality of every empty
point every fifth move and after single-stone captures, and the area score at the
end wherever GNU Go marks no stone dead. A failure prints each mismatch with the
game's moves and ``python -m tests.gnugo SIZE SEED`` to replay it.

The GNU Go tests are skipped when GNU Go is not installed; CI installs it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gnugo import (
    GnuGo,
    GnuGoError,
    GtpError,
    Response,
    find_gnugo,
    parse_score,
    parse_vertices,
    play_random_game,
    run_games,
)

ROOT = Path(__file__).resolve().parents[1]
GNUGO = find_gnugo()
needs_gnugo = pytest.mark.skipif(GNUGO is None, reason="GNU Go is not installed (apt-get install gnugo); "
                                                       "the differential tests need it")


# ------------------------------------------------------------------ the client

def test_parse_helpers():
    assert parse_score("B+3.5") == 3.5
    assert parse_score("W+12.0") == -12.0
    assert parse_score("0") == 0.0
    with pytest.raises(ValueError):
        parse_score("B+")
    assert parse_vertices("A1 t19 E5") == {"A1", "T19", "E5"}
    assert parse_vertices("") == set()


def test_missing_binary_is_a_clear_error():
    with pytest.raises(GnuGoError, match="cannot start GNU Go"):
        GnuGo(binary="/nonexistent/dir/gnugo")


def test_engine_that_exits_is_a_clear_error():
    with GnuGo(binary=sys.executable, args=["-c", "pass"], timeout=10) as gg:
        with pytest.raises(GnuGoError, match="closed its output|stopped reading"):
            gg.send(["boardsize 9", "clear_board"])
    assert gg._proc.poll() is not None


def test_engine_that_hangs_times_out_and_is_terminated():
    script = "import sys, time; sys.stdin.readline(); time.sleep(60)"
    t0 = time.monotonic()
    gg = GnuGo(binary=sys.executable, args=["-c", script], timeout=0.5)
    with gg:
        with pytest.raises(GnuGoError, match="no answer|gave 0 of 1 answers"):
            gg.command("boardsize 9")
    assert gg._proc.poll() is not None  # the context manager ended it
    assert time.monotonic() - t0 < 15


def test_engine_that_is_not_gtp_is_a_clear_error():
    script = "import sys; sys.stdin.readline(); print('hello'); print(); sys.stdout.flush(); sys.stdin.read()"
    with GnuGo(binary=sys.executable, args=["-c", script], timeout=10) as gg:
        with pytest.raises(GnuGoError, match="not a GTP answer"):
            gg.command("name")


@needs_gnugo
def test_client_reports_refusals_without_hanging():
    t0 = time.monotonic()
    with GnuGo(timeout=20) as gg:
        assert "GNU Go" in gg.command("name")
        answers = gg.send(["boardsize 9", "clear_board", "play b E5", "play w E5", "play b Z99",
                           "no_such_command", "list_stones black", "is_legal w E5", "is_legal w D5"])
        assert [a.ok for a in answers] == [True, True, True, False, False, False, True, True, True]
        assert "illegal move" in answers[3].text
        assert answers[5].text  # an "unknown command" message
        assert answers[6].text == "E5"  # answers stay in order after refusals
        assert [answers[7].text, answers[8].text] == ["0", "1"]
        with pytest.raises(GtpError, match="illegal move") as info:
            gg.command("play w E5")
        assert info.value.command == "play w E5"
        # The session is still usable after a refusal.
        assert gg.command("list_stones white") == ""
        assert isinstance(answers[0], Response)
    assert gg._proc.poll() is not None
    assert time.monotonic() - t0 < 15


@needs_gnugo
def test_large_batches_do_not_deadlock():
    # Far more commands and answers than a pipe holds.
    with GnuGo(timeout=30) as gg:
        gg.send(["boardsize 19", "clear_board"])
        gg.send([f"play b {c}{r}" for c in "ABCDEFGHJKLMNOPQRST" for r in range(1, 20, 2)])
        answers = gg.send(["list_stones black"] * 1000)
    assert len(answers) == 1000 and all(len(parse_vertices(a.text)) == 190 for a in answers)


# ------------------------------------------------------------------ the driver

class Distorting(GnuGo):
    """GNU Go with some answers altered, to show the driver notices disagreements."""

    def __init__(self, alter):
        super().__init__(timeout=30)
        self.alter = alter

    def send(self, commands):
        cmds = list(commands)
        return [self.alter(c, a) for c, a in zip(cmds, super().send(cmds), strict=False)]


@needs_gnugo
def test_games_are_reproducible_from_their_seed():
    with GnuGo() as gg:
        a = play_random_game(gg, 9, 11)
        b = play_random_game(gg, 9, 11)
        c = play_random_game(gg, 9, 12)
    assert a.moves == b.moves and a.moves != c.moves
    assert a.ended_by_passes and a.moves[-2:] in (["B pass", "W pass"], ["W pass", "B pass"])


@needs_gnugo
def test_driver_reports_a_legality_disagreement():
    flipped = []

    def alter(cmd, ans):
        if cmd.startswith("is_legal") and not flipped and ans.text == "1":
            flipped.append(cmd)
            return Response(cmd, True, "0")
        return ans

    with Distorting(alter) as gg:
        r = play_random_game(gg, 9, 3)
    kinds = [m.kind for m in r.mismatches]
    assert kinds == ["legality"], r.mismatches
    assert flipped[0].split()[-1] in r.mismatches[0].detail
    assert r.score_compared  # the boards still agree, so the game goes on to the score


@needs_gnugo
def test_driver_reports_a_stone_disagreement_and_stops_the_game():
    seen = []

    def alter(cmd, ans):
        if cmd == "list_stones white":
            seen.append(1)
            if len(seen) == 10:
                return Response(cmd, True, " ".join(ans.text.split()[1:]))
        return ans

    with Distorting(alter) as gg:
        r = play_random_game(gg, 9, 4)
    assert [m.kind for m in r.mismatches] == ["stones"]
    m = r.mismatches[0]
    assert m.move == 10 and len(m.moves) == 10 and "white only in ours" in m.detail
    assert "python -m tests.gnugo 9 4" in str(m)
    assert r.score_skipped == "diverged" and not r.score_compared


@needs_gnugo
def test_driver_reports_a_refused_move():
    def alter(cmd, ans):
        if cmd.startswith("play") and cmd.endswith(" pass"):
            return Response(cmd, False, "illegal move")
        return ans

    with Distorting(alter) as gg:
        r = play_random_game(gg, 5, 1)
    assert [m.kind for m in r.mismatches] == ["play"]
    assert r.mismatches[0].moves[-1].endswith("pass")


@needs_gnugo
def test_driver_skips_scores_with_dead_stones_and_compares_the_rest():
    def dead(cmd, ans):
        return Response(cmd, True, "A1") if cmd == "final_status_list dead" else ans

    def wrong_score(cmd, ans):
        return Response(cmd, True, "W+999.0") if cmd == "final_score" else ans

    with Distorting(dead) as gg:
        r = play_random_game(gg, 7, 2)
    assert r.ended_by_passes and r.score_skipped == "dead stones" and not r.mismatches
    with Distorting(wrong_score) as gg:
        r = play_random_game(gg, 7, 2)
    assert [m.kind for m in r.mismatches] == ["score"] and "-999" in r.mismatches[0].detail


@needs_gnugo
def test_same_final_position_with_another_komi_is_scored_afresh():
    # GNU Go 3.8 reuses its last final_score for a board it has scored before, komi
    # included; the driver clears that cache, or the second game here would disagree.
    with GnuGo() as gg:
        first = play_random_game(gg, 2, 3000001, komi=7.5)
        second = play_random_game(gg, 2, 3000001, komi=0.5)
    assert first.moves == second.moves and first.score_compared and second.score_compared
    assert not first.mismatches and not second.mismatches, first.mismatches + second.mismatches


@needs_gnugo
def test_replay_command_line():
    out = subprocess.run([sys.executable, "-m", "tests.gnugo", "5", "3"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "size 5 seed 3" in out.stdout and "moves: B " in out.stdout


# ------------------------------------------------------------------ the differential games

def _check(summary, games):
    lines = [f"{summary.as_dict()}"]
    lines += [str(m) for m in summary.mismatches[:5]]
    if len(summary.mismatches) > 5:
        lines.append(f"... {len(summary.mismatches) - 5} more")
    report = "\n".join(lines)
    print(report)
    assert summary.games == games
    assert not summary.mismatches, "the engine disagrees with GNU Go 3.8:\n" + report
    skipped = summary.score_skipped_dead + summary.score_skipped_cap + summary.score_skipped_diverged
    assert summary.score_compared + skipped == games
    # Random games without own-eye filling end settled: nearly all scores are comparable.
    assert summary.score_compared >= 0.8 * games, report
    assert summary.moves_checked > 0 and summary.legality_checks > 0


@needs_gnugo
@pytest.mark.parametrize("size,games", [(9, 200), (19, 20), (3, 100), (5, 150), (7, 100), (13, 10)])
def test_random_games_agree_with_gnugo(size, games):
    summary = run_games(size, range(games), workers=2, binary=GNUGO)
    _check(summary, games)
    if size <= 9:
        # Enough games for both kinds of illegal empty point to have been compared.
        assert summary.illegal_ko > 0 and summary.illegal_suicide > 0, summary.as_dict()
