"""A move chooser that needs no network, for tests: uniformly random, never filling one's own eye."""

from __future__ import annotations

import numpy as np

from go_engine import kernels as K
from go_engine.coords import parse_vertex
from go_engine.game import Game


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
