"""Reading and writing SGF game records (FF[1] to FF[4]).

Reading::

    from go_engine.sgf import parse_sgf, read_sgf_inputs
    games = parse_sgf(data, source="game.sgf")        # list of SgfGame, one per game tree
    game = games[0].replay()                           # a go_engine.Game, or ReplayError
    for source, item in read_sgf_inputs(["records/", "kgs.tar.gz"]):
        ...                                            # item is an SgfGame or an SgfError

Writing::

    text = write_sgf(game, black="Tengen", white="GNU Go", result="B+R")

One module per job:

- ``values``: coordinates, text escapes, komi, results, rule names (``Setup``, ``Result``);
- ``decoding``: bytes to text (BOM, ``CA[]``, then a guess that never fails);
- ``parser``: text to game trees (``iter_sgf``, ``parse_sgf``);
- ``record``: the game record ``SgfGame`` built from a game tree, and its replay to a ``Game``;
- ``inputs``: the walker over files, folders and archives (``read_sgf_inputs``; for work shared
  out among processes ``list_sgf_sources`` and ``read_sgf_sources``), with a size cap;
- ``writer``: ``write_sgf``;
- ``errors``: ``SgfError`` and ``ReplayError``.

Errors are ``SgfError`` (a ``ValueError``) naming the source, the game number
in the file (from 1), the move number (from 1) or line where they apply, and
the reason. What a reader can recover from (a missing leading ``(``, a file
cut short, stray characters) is recorded in ``SgfGame.warnings`` instead,
unless ``strict=True`` is passed, which turns warnings into errors.
"""

from .errors import ReplayError, SgfError
from .inputs import (
                     DEFAULT_MAX_BYTES,
                     ReadStats,
                     SgfSource,
                     list_sgf_sources,
                     read_sgf_file,
                     read_sgf_inputs,
                     read_sgf_sources,
)
from .parser import DEFAULT_MAX_NODES, iter_sgf, parse_sgf
from .record import SgfGame
from .values import (
                     Result,
                     Setup,
                     escape_text,
                     parse_komi,
                     parse_result,
                     rules_preset,
                     sgf_to_vertex,
                     unescape_text,
                     vertex_to_sgf,
)
from .writer import write_sgf

__all__ = [
    "SgfError", "ReplayError", "SgfGame", "Setup", "Result", "ReadStats", "SgfSource",
    "parse_sgf", "iter_sgf", "read_sgf_file", "read_sgf_inputs", "list_sgf_sources", "read_sgf_sources",
    "write_sgf", "parse_komi", "parse_result", "rules_preset", "sgf_to_vertex", "vertex_to_sgf", "escape_text",
    "unescape_text", "DEFAULT_MAX_NODES", "DEFAULT_MAX_BYTES",
]
