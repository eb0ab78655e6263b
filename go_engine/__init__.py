"""Tengen's rules of Go: Numba kernels under a small typed API.

>>> from go_engine import Game, IllegalMove
>>> g = Game(size=9, komi=7.0)
>>> g.play("E5")
"""

from importlib.metadata import PackageNotFoundError, version as _version

from .kernel_cache import use_keyed_cache

use_keyed_cache()  # before any kernel is defined: a cache per version of the kernels' source

from .coords import MAX_SIZE, MIN_SIZE
from .game import Game, IllegalMove, Outcome, handicap_vertices
from .rules import PRESETS, Rules, get_rules
from .sgf import ReplayError, SgfError, SgfGame, parse_sgf, read_sgf_inputs, write_sgf

try:
    __version__ = _version("tengen")  # the one in pyproject.toml, as installed
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "unknown"

__all__ = ["__version__", "Game", "IllegalMove", "Outcome", "Rules", "PRESETS", "get_rules", "handicap_vertices",
           "MIN_SIZE", "MAX_SIZE", "SgfGame", "SgfError", "ReplayError", "parse_sgf", "read_sgf_inputs",
           "write_sgf"]
