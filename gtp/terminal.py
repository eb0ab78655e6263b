"""``tengen play``: a game against Tengen in a terminal (or from a script on stdin).

The opponent is the GTP engine of ``gtp.engine`` run in-process: the same
search, network, pass and resignation policy that GUIs get.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from go_engine import Game, write_sgf
from go_engine.atomic import atomic_write_bytes
from go_engine.coords import COLUMNS
from go_engine.game import CYCLE_REPEATS, NO_RESULT

from .engine import GtpEngine

HELP = "Type a move as a vertex (D4), or: pass, undo, resign, hint, save FILE, help, quit."


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


def _confirm_ending_pass(game: Game, stdin: TextIO, out) -> bool:
    """Whether to pass, asking first when the pass would end the game (Tengen passed last) while the board
    is still nearly empty (under a quarter of its points taken): a slip then costs the whole game."""
    stones = int((game.board != 0).sum())
    if not (game.moves and game.moves[-1][1] == "pass") or stones >= game.size * game.size // 4:
        return True
    out(f"Tengen passed: your pass ends the game now, with {stones} stones on the board. Pass anyway? [y/N] ")
    return stdin.readline().strip().lower() in ("y", "yes")


def play_terminal(engine: GtpEngine, color: str = "B", stdin: TextIO | None = None,
                  stdout: TextIO | None = None) -> int:
    """Run one game on ``engine``'s board; the user's moves come from ``stdin`` (default: ``sys.stdin``).
    Returns 0."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    game = engine.game
    you = color.strip().upper()[:1]
    if you not in ("B", "W"):
        raise ValueError(f"--color must be B or W, got {color!r}")
    them = "W" if you == "B" else "B"
    out = stdout.write
    out(f"Tengen: {game.size}x{game.size}, komi {game.komi:g}, {game.rules.name} rules. "
        f"You play {'Black' if you == 'B' else 'White'}.\n{HELP}\n")
    last: str | None = None
    while not game.finished:
        if game.to_play != you:
            mv = engine.cmd_genmove(them)
            if mv == "resign":
                game.resign(them)
                out("Tengen resigns.\n")
                break
            last = None if mv == "pass" else mv
            out(f"Tengen ({them}) plays {mv}\n")
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
        elif low == "undo":  # take back Tengen's reply and your move
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
            best = engine.best_moves(3)
            out("Hint: " + ", ".join(f"{a['move']} ({a['winrate']:.0%}, {a['visits']} visits)" for a in best) + "\n")
        elif low == "save":
            if not arg.strip():
                out("Usage: save FILE\n")
                continue
            try:
                atomic_write_bytes(Path(arg.strip()), write_sgf(
                    game, result=game.outcome(engine.dead_stones()) or "", black="You" if you == "B" else "Tengen",
                    white="Tengen" if you == "B" else "You").encode())
                out(f"Saved to {arg.strip()}\n")
            except OSError as e:
                out(f"Cannot save to {arg.strip()}: {e.strerror or e}\n")
        else:
            if low == "pass" and not _confirm_ending_pass(game, stdin, out):
                out("Not passed.\n")
                continue
            resp, ok, _ = engine.handle(f"play {you} {cmd}")
            if ok:
                last = None if low == "pass" else cmd.upper()
            else:
                out(f"{resp.lstrip('? ').strip()}. {HELP}\n")
    out(render(game, last) + "\n")
    dead = engine.dead_stones() if not game.outcome() or game.outcome().reason == "score" else []
    result = game.outcome(dead)
    if result is not None:
        if result.reason == "score":
            out(f"Dead stones: {' '.join(dead) or 'none'}. Score ({game.rules.scoring} scoring, komi "
                f"{game.komi:g}): {game.final_score(dead):+g} for Black.\n")
        if result.reason == NO_RESULT:
            out(f"The position has stood {CYCLE_REPEATS} times with no pass between (a ko cycle): no result.\n")
        out(f"Result: {result.result()}\n")
    return 0
