"""Statistics of game results: scores, Wilson intervals and Elo differences.

Used by the arena, ``tengen match``, self-play's resignation check and the
loop's ratings; it sits at the bottom of the stack so that each of them can
import it without importing one another.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def score_of(games: Iterable, name: str) -> float:
    """Wins plus half the draws of ``name`` in game records with a ``winner`` (``None`` for a draw)."""
    return sum(1.0 if g.winner == name else 0.5 if g.winner is None else 0.0 for g in games)


def wilson(wins: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a win rate (``z`` sets another level); ``(0, 1)`` without games."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def elo(score: float, games: int) -> float:
    """Elo difference implied by a score (wins + draws/2) out of ``games``, clamped to +-800."""
    p = min(max(score / games, 1e-3), 1 - 1e-3) if games else 0.5
    return max(-800.0, min(800.0, 400.0 * math.log10(p / (1 - p))))
