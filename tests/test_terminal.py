"""tengen play: a whole game in the terminal, scripted on stdin."""

import io
import subprocess
import sys
from pathlib import Path

import numpy as np

from go_engine import parse_sgf
from gtp.engine import GtpEngine
from gtp.terminal import play_terminal
from selfplay.search import Evaluation
from tengen_cli import main


def test_scripted_game_through_the_cli(tmp_path):
    sgf = tmp_path / "game.sgf"
    # a pass that ends the game on a nearly empty board asks first: y confirms (else it is read as a move)
    script = ["Z9", "C3", "C3", "undo", "C3", "hint", f"save {sgf}", "help", ""] + ["pass", "y"] * 40
    run = subprocess.run([sys.executable, "-m", "tengen_cli", "play", "--model", "none", "--size", "5",
                          "--komi", "0.5", "--visits", "24", "--color", "B"],
                         input="\n".join(script) + "\n", capture_output=True, text=True, timeout=600,
                         cwd=Path(__file__).parent.parent)
    out = run.stdout
    assert run.returncode == 0, run.stderr
    assert "Tengen: 5x5, komi 0.5" in out
    assert "vertex 'Z9' is off the 5x5 board" in out  # explained, and the game goes on
    assert "occupied" in out  # C3 twice
    assert "   A B C D E" in out and " 5 . . . . . 5" in out  # coordinates on all sides
    assert "(O)" in out  # Tengen's last move is marked
    assert "Captures: Black" in out
    assert out.count("Tengen (W) plays") >= 2
    assert "Hint: " in out and "visits)" in out
    assert f"Saved to {sgf}" in out
    game = parse_sgf(sgf.read_bytes())[0]
    assert game.size == 5 and game.replay().moves[0] == ("B", "C3")
    assert "Result: " in out and ("Score (area scoring, komi 0.5)" in out or "+R" in out)
    assert "abandoned" not in out


class PassFirst:
    """Priors on the pass: Tengen's favourite move is to pass."""

    needs_history = False

    def __call__(self, leaves):
        p = np.full((len(leaves), leaves.size * leaves.size + 1), 1e-3, np.float32)
        p[:, -1] = 1.0
        zeros = np.zeros(len(leaves), np.float32)
        return Evaluation(p, zeros, zeros)


def _game(script: str) -> tuple[str, GtpEngine]:
    # komi -30.5: Black (Tengen) wins any count on 5x5, so passing never loses (genmove would not pass
    # into a lost count)
    engine = GtpEngine(visits=1, size=5, komi=-30.5, log=io.StringIO())
    engine.evaluator = PassFirst()
    out = io.StringIO()
    assert play_terminal(engine, color="W", stdin=io.StringIO(script), stdout=out) == 0
    return out.getvalue(), engine


def test_a_pass_that_ends_a_game_on_a_nearly_empty_board_asks_first():
    text, engine = _game("pass\nn\npass\ny\n")
    assert text.count("Tengen passed: your pass ends the game now, with 0 stones on the board. Pass anyway?") == 2
    assert "Not passed." in text and "Result: B+30.5" in text
    assert engine.game.moves == [("B", "pass"), ("W", "pass")]


def test_no_question_when_the_pass_does_not_end_the_game_or_the_board_is_full_enough():
    text, engine = _game("C3\nB2\nD4\nB4\nD2\nC2\npass\n")  # 6 stones: a quarter of 5x5, rounded down
    assert "Pass anyway" not in text and "Result: B+" in text and engine.game.is_over
    text, engine = _game("pass\nquit\n")  # answered by the next line: not y, so no pass
    assert "Not passed." in text and engine.game.moves == [("B", "pass")]


def test_the_engines_log_goes_to_a_file_not_between_the_boards_lines(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("C3\nquit\n"))
    assert main(["play", "--model", "none", "--size", "5", "--visits", "4", "--color", "W"]) == 0
    out, err = capsys.readouterr()
    assert "Your move (W)" in out and "genmove" not in out + err and "winrate" not in out + err
    monkeypatch.setattr("sys.stdin", io.StringIO("C3\nquit\n"))
    log = tmp_path / "engine.log"
    assert main(["play", "--model", "none", "--size", "5", "--visits", "4", "--color", "W", "--log", str(log)]) == 0
    assert "genmove B" in log.read_text() and "genmove" not in capsys.readouterr().out
