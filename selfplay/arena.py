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
from go_engine.coords import PASS, index_names

from .search import Search, SearchConfig, run_many
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
    resign_moves: int = 3
    max_moves: int | None = None  # default: 3 * size * size, then scored as it stands
    batch_size: int = 8  # leaves per tree per network call


@dataclass
class ArenaGame:
    number: int
    black: str
    white: str
    result: str
    winner: str | None  # the winner's name; None for a draw
    moves: int


class _Slot:
    def __init__(self, number: int, cfg: ArenaConfig, names: tuple[str, str], seed: int) -> None:
        self.number = number
        self.a_black = number % 2 == 0
        game = Game(cfg.size, cfg.komi, cfg.rules)
        self.names = {"B": names[0 if self.a_black else 1], "W": names[1 if self.a_black else 0]}
        self.search = {c: Search(game, SearchConfig(), seed=seed + i) for i, c in enumerate("BW")}
        self.low = {"B": 0, "W": 0}
        self.rng = np.random.default_rng(seed)

    @property
    def game(self) -> Game:
        return self.search["B"].game


def play_match(evaluators: tuple, names: tuple[str, str], cfg: ArenaConfig, games: int, out: str | Path,
               seed: int = 0, progress=None) -> list[ArenaGame]:
    """Play ``games`` games of ``evaluators[0]`` against ``evaluators[1]`` (resuming from ``out``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done = {g.number: g for g in load_games(out)}
    todo = [i for i in range(games) if i not in done]
    max_moves = cfg.max_moves or 3 * cfg.size * cfg.size
    vertex = index_names(cfg.size)
    slots: list[_Slot] = []
    while todo or slots:
        while todo and len(slots) < cfg.parallel:
            i = todo.pop(0)
            slots.append(_Slot(i, cfg, names, seed * 100003 + 7919 * i))
        for side in (0, 1):  # the games whose player to move is network A, then those of network B
            group = [s.search[s.game.to_play] for s in slots
                     if (s.a_black == (s.game.to_play == "B")) == (side == 0)]
            run_many(group, cfg.visits, evaluators[side], batch_size=cfg.batch_size)
        finished = []
        for s in slots:
            g = s.game
            color = g.to_play
            sr = s.search[color]
            s.low[color] = s.low[color] + 1 if (sr.root_value() + 1) / 2 < cfg.resign_threshold else 0
            if s.low[color] >= cfg.resign_moves and len(g.moves) >= cfg.size * cfg.size // 4:
                for x in s.search.values():
                    x.game.resign(color)
                finished.append(s)
                continue
            point = sr.choose(1.0 if len(g.moves) < cfg.random_moves else 0.0, s.rng)
            move = "pass" if point == PASS else vertex[point]
            for x in s.search.values():
                x.advance(move)
            if s.game.is_over or len(s.game.moves) >= max_moves:
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
    if g.is_over:  # resignation or two passes
        o = g.outcome()
        winner_color, result = o.winner, o.result()
    else:  # the move cap: scored as it stands
        score = float(g.score())
        winner_color = None if score == 0 else ("B" if score > 0 else "W")
        result = "0" if winner_color is None else f"{winner_color}+{abs(score):g}"
    rec = ArenaGame(s.number, s.names["B"], s.names["W"], result,
                    None if winner_color is None else s.names[winner_color], len(g.moves))
    name = f"game-{s.number:04d}"
    sgf = write_sgf(g, result=result, black=s.names["B"], white=s.names["W"])
    atomic_write_bytes(out / f"{name}.sgf", sgf.encode())
    atomic_write_bytes(out / f"{name}.json", json.dumps(asdict(rec)).encode())  # last: the game is done
    return rec


def load_games(out: str | Path) -> list[ArenaGame]:
    return load_records(out, "game-*.json", ArenaGame, "an arena game record")
