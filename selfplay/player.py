"""The player: how Tengen picks its moves from a search, when it resigns, and how its games end.

One ``Player`` serves ``tengen gtp``, self-play and the arena, as minigo's
MCTSPlayer serves its GTP engine and its self-play. It owns the search tree of
the game it plays and keeps the subtree of each move played (tree reuse). From
the tree it picks a move: the first ``random_moves`` moves drawn in proportion
to the visits, then at the temperature of the schedule (self-play's decaying
one), and at temperature 0 the most visited move unless another one's lower
confidence bound is higher; without a search, the network's favourite. It
resigns after ``resign_moves`` consecutive moves of one colour below
``resign_threshold``, once a quarter of the board's points (rounded down) have been played.

Searching is the caller's: ``think`` searches one tree against a visit cap or a
deadline (GTP), while self-play and the arena send the trees of many games
through one network call with ``run_many`` over the players' ``search``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from go_engine import kernels as K
from go_engine.game import Game, Outcome

from .search import Search, SearchConfig


def temperature_schedule(move_number: int, start: float = 1.0, end: float = 0.0, moves: int = 30,
                         halflife: float | None = None) -> float:
    """Temperature for choosing move ``move_number`` (0-based).

    ``start`` for the first ``moves`` moves, then ``end``; with ``halflife`` the
    temperature decays from ``start`` towards ``end`` instead, halving the gap
    every ``halflife`` moves."""
    if halflife:
        return end + (start - end) * 0.5 ** (move_number / halflife)
    return start if move_number < moves else end


@dataclass
class PlayerConfig:
    """How a player picks its moves and when it resigns."""

    random_moves: int = 0  # opening moves drawn in proportion to visits (temperature 1), so that games differ
    temperature: float = 0.0  # after them: the temperature at move 0 (0: the best move) ...
    temperature_end: float = 0.0  # ... moving towards this one
    temperature_halflife: float | None = None  # moves per halving of the gap; None: a step after move 30
    resign_threshold: float = 0.0  # win rate; 0 never resigns
    resign_moves: int = 3  # consecutive moves of one colour below the threshold before it resigns


class Player:
    """Moves, resignation and the result for the games of one search tree at a time.

    ``seed`` numbers the search trees (each new one takes the next); ``rng``
    draws the random and temperature moves (``None``: each tree's own
    generator); ``track_ownership``: every tree sums its leaves' ownership (see
    ``Search``), as the GTP engine's analysis and dead stones read it."""

    def __init__(self, config: PlayerConfig | None = None, search_config: SearchConfig | None = None,
                 seed: int = 0, rng: np.random.Generator | None = None, track_ownership: bool = False) -> None:
        self.cfg = config or PlayerConfig()
        self.search_cfg = search_config or SearchConfig()
        self.seed = seed
        self.rng = rng
        self.track_ownership = track_ownership
        self.search: Search | None = None
        self.low = {"B": 0, "W": 0}  # consecutive moves below the resignation threshold

    @property
    def game(self) -> Game:
        """The position of the search tree (the player's copy of the game)."""
        return self.search.game

    # -- the tree
    def new_game(self, game: Game) -> Search:
        """Forget the last game (its tree and resignation counts) and start a tree on ``game``."""
        self.reset()
        return self.new_search(game)

    def reset(self) -> None:
        """Forget the tree and the resignation counts (a new game, or a change the tree cannot follow)."""
        self.search = None
        self.low = {"B": 0, "W": 0}

    def new_search(self, game: Game) -> Search:
        """A fresh tree on (a copy of) ``game``."""
        self.search = Search(game, self.search_cfg, seed=self.seed, track_ownership=self.track_ownership)
        self.seed += 1
        return self.search

    def sync(self, game: Game) -> Search:
        """The tree of ``game``: the current one advanced along the moves played since (keeping the
        subtree of each), or a new one when ``game`` did not grow from the tree's position (or play
        resumed after two passes, which the tree's game cannot follow)."""
        s = self.search
        if s is not None and s.game.komi == game.komi and s.game.rules == game.rules:
            h, sh = game.history, s.game.history
            if h[:len(sh)] == sh:
                for color, point in h[len(sh):]:
                    if s.game.is_over or color != (K.BLACK if s.game.to_play == "B" else K.WHITE):
                        break
                    s.advance(point)
                if (s.game.history == h and s.game.hash == game.hash and s.game.to_play == game.to_play
                        and s.game.passes == game.passes):
                    return s
        return self.new_search(game)

    def think(self, game: Game, evaluator, visits: int, deadline: float | None = None,
              on_chunk: Callable[[Search], None] | None = None) -> Search:
        """Search ``game`` until the root has ``visits`` visits, those of a reused subtree included (as
        Leela Zero's and KataGo's visit limits count), or until ``deadline`` (``time.monotonic``);
        ``on_chunk`` sees the tree after every 8 visits."""
        s = self.sync(game)
        while s.root_visits < visits:
            s.run(min(8, visits - s.root_visits), evaluator, batch_size=8)
            if on_chunk is not None:
                on_chunk(s)
            if deadline is not None and time.monotonic() >= deadline:
                break
        if s.root_visits == 0 or not s.analysis():
            s.run(2, evaluator, batch_size=1)
        return s

    def play(self, move: str) -> None:
        """Play ``move`` in the tree's game, keeping its subtree."""
        self.search.advance(move)

    # -- decisions
    def temperature(self, move_number: int) -> float:
        """The temperature of move ``move_number`` (0-based)."""
        cfg = self.cfg
        if move_number < cfg.random_moves:
            return 1.0
        return temperature_schedule(move_number, cfg.temperature, cfg.temperature_end,
                                    halflife=cfg.temperature_halflife)

    def choose(self, by_prior: bool = False) -> str:
        """The move to play in the searched position (a vertex or ``pass``); ``by_prior``: the network's
        favourite legal move, for a search of a single visit."""
        s = self.search
        if by_prior:
            return s.choose_vertex(by_prior=True)
        return s.choose_vertex(self.temperature(len(s.game.moves)), self.rng)

    def winrate(self) -> float:
        """The searched win rate of the player to move, 0 to 1."""
        return (self.search.root_value() + 1) / 2

    def wants_to_resign(self) -> bool:
        """Count this search towards resigning for the player to move; True once that player has been
        below the threshold for ``resign_moves`` moves in a row. Call it once per move searched."""
        g = self.search.game
        color = g.to_play
        self.low[color] = self.low[color] + 1 if self.winrate() < self.cfg.resign_threshold else 0
        return self.low[color] >= self.cfg.resign_moves and len(g.moves) >= g.size * g.size // 4

    def outcome(self) -> Outcome:
        """How the game stands at its end: the resignation, no result after a ko cycle, or the count by area
        with every stone alive (Tromp-Taylor) after two passes or at a move cap, as self-play and the arena
        score their games."""
        g = self.search.game
        outcome = g.outcome() if g.resigned or g.cycled else None
        return outcome or Outcome.from_score(float(g.score()))
