"""tengen play: a whole game in the terminal, scripted on stdin."""

import subprocess
import sys
from pathlib import Path

from go_engine import parse_sgf


def test_scripted_game_through_the_cli(tmp_path):
    sgf = tmp_path / "game.sgf"
    script = ["Z9", "C3", "C3", "undo", "C3", "hint", f"save {sgf}", "help", ""] + ["pass"] * 40
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
