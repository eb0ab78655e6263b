"""Simple move choosers that need no network: uniform random and flat Monte Carlo."""

from __future__ import annotations

import numpy as np

from . import kernels as K
from .coords import parse_vertex
from .game import Game
from .playout import random_playouts


def candidate_moves(game: Game) -> list[str]:
    """Legal moves for the player to move that do not fill its own one-point eye (pass excluded)."""
    c = game._meta[K.M_TOMOVE]
    out = []
    for v in game.legal_moves()[:-1]:
        if not K.k_is_eye(game._S, game._meta, parse_vertex(v, game.size), c):
            out.append(v)
    return out


def random_move(game: Game, rng: np.random.Generator) -> str:
    """A uniformly random candidate move, or ``"pass"`` when there is none."""
    moves = candidate_moves(game)
    return moves[rng.integers(len(moves))] if moves else "pass"


def monte_carlo_move(game: Game, playouts_per_move: int = 32, seed: int = 0) -> str:
    """Flat Monte Carlo: the candidate whose random playouts score best for the mover.

    Passes when there is no candidate, or when passing scores at least as well as
    the best move (so it passes once the game is decided)."""
    mover = 1 if game.to_play == "B" else -1
    best, best_value = "pass", -np.inf
    for i, v in enumerate(["pass"] + candidate_moves(game)):
        g = game.copy()
        g.play(v)
        if g.is_over:
            value = mover * g.score()
        else:
            r = random_playouts(g, playouts_per_move, seed=seed * 7919 + i)
            value = mover * (r.mean_score - g.komi - g.rules.bonus(g.handicap))
        if value > best_value + 1e-9 or (v == "pass" and best_value == -np.inf):
            best, best_value = v, value
    return best
