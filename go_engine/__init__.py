"""Tengen's rules of Go: Numba kernels under a small typed API.

>>> from go_engine import Game, IllegalMove
>>> g = Game(size=9, komi=7.0)
>>> g.play("E5")
"""

from .coords import MAX_SIZE, MIN_SIZE
from .game import Game, IllegalMove, Outcome, handicap_vertices
from .rules import PRESETS, Rules, get_rules

__all__ = ["Game", "IllegalMove", "Outcome", "Rules", "PRESETS", "get_rules", "handicap_vertices",
           "MIN_SIZE", "MAX_SIZE"]
