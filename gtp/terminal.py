"""``tengen play``: a game against Tengen in a terminal (or from a script on stdin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, TextIO

import numpy as np

from go_engine import Game, IllegalMove
from go_engine.atomic import atomic_write_bytes
from go_engine.coords import COLUMNS
from go_engine.players import monte_carlo_move, random_move
from go_engine.sgf import write_sgf

HELP = ("Type a move as a vertex (D4), or: pass, undo, resign, hint, save FILE, help, quit.")


def render(game: Game, last: str | None = None) -> str:
    """The board with coordinates on all sides, the last move in parentheses."""
    size = game.size
    b = game.board
    letters = "   " + " ".join(COLUMNS[:size])
    lines = [letters]
    for r in range(size - 1, -1, -1):
        seps = [" "] * (size + 1)
        stones = ["X" if v == 1 else "O" if v == -1 else "." for v in b[r]]
        for c in range(size):
            if last == f"{COLUMNS[c]}{r + 1}":
                seps[c], seps[c + 1] = "(", ")"
        row = "".join(seps[c] + stones[c] for c in range(size)) + seps[size]
        lines.append(f"{r + 1:2d}{row}{r + 1}")
    lines.append(letters)
    cap = game.captures
    lines.append(f"Captures: Black {cap['B']}, White {cap['W']}. To play: {'Black' if game.to_play == 'B' else 'White'}")
    return "\n".join(lines)


def play_terminal(size: int = 9, komi: float = 7.0, rules: str = "chinese", color: str = "B",
                  opponent: str = "mc", playouts: int = 32, seed: int = 0,
                  stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Run one game; the user's moves come from ``stdin``. Returns 0."""
    game = Game(size=size, komi=komi, rules=rules)
    you = color.strip().upper()[:1]
    if you not in ("B", "W"):
        raise ValueError(f"--color must be B or W, got {color!r}")
    rng = np.random.default_rng(seed)
    choose: Callable[[Game], str]
    if opponent == "random":
        choose = lambda g: random_move(g, rng)  # noqa: E731
    else:
        choose = lambda g: monte_carlo_move(g, playouts, seed=int(rng.integers(1 << 30)))  # noqa: E731
    out = stdout.write
    out(f"Tengen: {size}x{size}, komi {komi:g}, {game.rules.name} rules. You play {'Black' if you == 'B' else 'White'}.\n")
    out(HELP + "\n")
    last: str | None = None
    while not game.is_over:
        if game.to_play != you:
            mv = choose(game)
            game.play(mv)
            last = None if mv == "pass" else mv
            out(f"Tengen ({game.moves[-1][0]}) plays {mv}\n")
            continue
        out(render(game, last) + "\n")
        out(f"Your move ({you}): ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            out("\nEnd of input: game abandoned.\n")
            return 0
        cmd, _, arg = line.strip().partition(" ")
        low = cmd.lower()
        if not cmd:
            continue
        if low in ("quit", "exit", "q"):
            out("Game abandoned.\n")
            return 0
        if low == "help":
            out(HELP + "\n")
        elif low == "resign":
            game.resign(you)
        elif low == "undo":
            # take back the engine's reply and your move
            undone = 0
            while game.moves and undone < 2:
                game.undo()
                undone += 1
                if game.to_play == you:
                    break
            if not undone:
                out("Nothing to undo.\n")
            last = None
        elif low == "hint":
            out(f"Hint: {monte_carlo_move(game, playouts, seed=seed)}\n")
        elif low == "save":
            if not arg:
                out("Usage: save FILE\n")
                continue
            try:
                atomic_write_bytes(Path(arg.strip()), write_sgf(
                    game, result=game.outcome(), black="You" if you == "B" else "Tengen",
                    white="Tengen" if you == "B" else "You").encode())
                out(f"Saved to {arg.strip()}\n")
            except OSError as e:
                out(f"Cannot save to {arg.strip()}: {e.strerror or e}\n")
        else:
            try:
                game.play(cmd, you)
                last = None if cmd.lower() == "pass" else cmd.upper()
            except (IllegalMove, ValueError) as e:
                out(f"{e}. {HELP}\n")
    out(render(game, last) + "\n")
    result = game.outcome()
    if result is not None:
        if result.reason == "score":
            out(f"Score ({game.rules.scoring} scoring, komi {komi:g}): {game.final_score():+g} for Black.\n")
        out(f"Result: {result.result()}\n")
    return 0
