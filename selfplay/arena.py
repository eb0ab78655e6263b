"""Matches between two networks in one process, many games at once (the loop's evaluation).

Where ``tengen match`` drives engines over GTP, one process per engine and game,
the arena keeps every game's two search trees in memory and sends the leaves
of all games whose player to move uses the same network through one call:
evaluating a generation costs seconds of start-up, not one per game. Colours
alternate (A is Black in even games). The first ``random_moves`` moves of each
game are drawn from the visit counts (temperature 1) so that the games differ;
after that each player takes its best move by visits and LCB. A player resigns
after ``resign_moves`` consecutive moves below ``resign_threshold``; otherwise
games end by two passes and are scored by area, every stone alive
(Tromp-Taylor), as in self-play. Each finished game is written at once
(``game-NNNN.sgf`` and ``game-NNNN.json``, atomically), so a rerun resumes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from go_engine import Game, write_sgf
from go_engine.atomic import atomic_write_bytes

from .player import Player, PlayerConfig
from .search import run_many
from .selfplay import load_records


@dataclass
class ArenaConfig:
    size: int = 9
    komi: float = 7.0
    rules: str = "chinese"
    visits: int = 200  # per move, on top of the subtree kept from the previous move
    parallel: int = 16  # games at once
    random_moves: int = 4  # opening moves drawn from the visit counts, for variety
    resign_threshold: float = 0.05
    resign_moves: int = PlayerConfig.resign_moves
    max_moves: int | None = None  # default: 3 * size * size, then scored as it stands
    batch_size: int = 8  # leaves per tree per network call

    def player(self) -> PlayerConfig:
        """How both sides choose moves and resign."""
        return PlayerConfig(random_moves=self.random_moves, resign_threshold=self.resign_threshold,
                            resign_moves=self.resign_moves)


@dataclass
class ArenaGame:
    number: int
    black: str
    white: str
    result: str
    winner: str | None  # the winner's name; None for a draw
    moves: int


class _Slot:
    """A game in progress: a player per colour, each with its own tree, sharing one random generator."""

    def __init__(self, number: int, cfg: ArenaConfig, names: tuple[str, str], seed: int) -> None:
        self.number = number
        self.a_black = number % 2 == 0
        game = Game(cfg.size, cfg.komi, cfg.rules)
        self.names = {"B": names[0 if self.a_black else 1], "W": names[1 if self.a_black else 0]}
        rng = np.random.default_rng(seed)
        self.players = {c: Player(cfg.player(), seed=seed + i, rng=rng) for i, c in enumerate("BW")}
        for p in self.players.values():
            p.new_game(game)

    @property
    def game(self) -> Game:
        return self.players["B"].game


def play_match(evaluators: tuple, names: tuple[str, str], cfg: ArenaConfig, games: int, out: str | Path,
               seed: int = 0, progress=None) -> list[ArenaGame]:
    """Play ``games`` games of ``evaluators[0]`` against ``evaluators[1]`` (resuming from ``out``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done = {g.number: g for g in load_games(out)}
    todo = [i for i in range(games) if i not in done]
    max_moves = cfg.max_moves or 3 * cfg.size * cfg.size
    slots: list[_Slot] = []
    while todo or slots:
        while todo and len(slots) < cfg.parallel:
            i = todo.pop(0)
            slots.append(_Slot(i, cfg, names, seed * 100003 + 7919 * i))
        for side in (0, 1):  # the games whose player to move is network A, then those of network B
            group = [s.players[s.game.to_play].search for s in slots
                     if (s.a_black == (s.game.to_play == "B")) == (side == 0)]
            run_many(group, cfg.visits, evaluators[side], batch_size=cfg.batch_size)
        finished = []
        for s in slots:
            color = s.game.to_play
            player = s.players[color]
            if player.wants_to_resign():
                for p in s.players.values():
                    p.game.resign(color)
                finished.append(s)
                continue
            move = player.choose()
            for p in s.players.values():
                p.play(move)
            if s.game.finished or len(s.game.moves) >= max_moves:
                finished.append(s)
        for s in finished:
            slots.remove(s)
            rec = _finish(s, out)
            done[rec.number] = rec
            if progress:
                progress(rec)
    return [done[i] for i in sorted(done) if i < games]


def _finish(s: _Slot, out: Path) -> ArenaGame:
    g = s.game
    outcome = s.players["B"].outcome()
    result = outcome.result()
    rec = ArenaGame(s.number, s.names["B"], s.names["W"], result,
                    None if outcome.winner is None else s.names[outcome.winner], len(g.moves))
    name = f"game-{s.number:04d}"
    sgf = write_sgf(g, result=result, black=s.names["B"], white=s.names["W"])
    atomic_write_bytes(out / f"{name}.sgf", sgf.encode())
    atomic_write_bytes(out / f"{name}.json", json.dumps(asdict(rec)).encode())  # last: the game is done
    return rec


def load_games(out: str | Path) -> list[ArenaGame]:
    return load_records(out, "game-*.json", ArenaGame, "an arena game record")
