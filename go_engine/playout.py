"""Random playouts from a position: Monte Carlo score and ownership estimates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from . import kernels as K
from .game import Game


@njit(cache=True)
def k_playouts(S0, meta0, count, seed, max_moves, scores, own_sum):
    """Run ``count`` random playouts from a copy of the position each.

    Stores each final area score (black minus white, no komi) in ``scores`` and
    adds each final Tromp-Taylor owner (+1 black, -1 white) to ``own_sum``.
    Returns the total number of moves played."""
    S = S0.copy()
    meta = meta0.copy()
    n = meta0[K.M_STRIDE]
    capbuf = np.empty(S0.shape[1], dtype=np.int32)
    owner = np.empty(S0.shape[1], dtype=np.int8)
    rng = np.empty(1, dtype=np.uint64)
    rng[0] = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x632BE59BD9B4E019)
    total = 0
    for i in range(count):
        S[:, :] = S0
        meta[:] = meta0
        total += K.k_playout(S, meta, rng, max_moves, capbuf)
        K.k_owner(S[K.COLOR], n, owner)
        s = 0
        for p in range(S.shape[1]):
            o = owner[p]
            if o == K.BLACK:
                own_sum[p] += 1
                s += 1
            elif o == K.WHITE:
                own_sum[p] -= 1
                s -= 1
        scores[i] = s
    return total


@dataclass(frozen=True)
class PlayoutResult:
    """Monte Carlo estimates from random playouts of one position."""

    scores: np.ndarray  # area score (black minus white, no komi) of each playout
    ownership: np.ndarray  # float [row, col] in [-1, 1]: mean final owner, +1 black
    moves: int  # moves played over all playouts

    @property
    def mean_score(self) -> float:
        return float(self.scores.mean())


def random_playouts(game: Game, count: int, seed: int = 0, max_moves: int | None = None) -> PlayoutResult:
    """Play ``count`` random games to the end from ``game``'s position (left unchanged)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    size = game.size
    n = size + 2
    max_moves = 3 * size * size if max_moves is None else max_moves
    scores = np.zeros(count, dtype=np.int64)
    own = np.zeros(n * n, dtype=np.int64)
    moves = k_playouts(game._S, game._meta, count, seed, max_moves, scores, own)
    ownership = (own.reshape(n, n)[1:-1, 1:-1] / count).astype(np.float32)
    return PlayoutResult(scores, ownership, int(moves))
