"""Training-data shards: games as compact move lists, read and written atomically.

Format ``tengen-shard`` version 1 (docs/data-format.md): one uncompressed ``.npz``
per shard holding whole games of one board size. Positions are not stored:
the loader replays each game with the rules kernels and computes features, so
a position costs two bytes on disk.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .atomic import atomic_write_bytes
from .rules import PRESETS

FORMAT = "tengen-shard"
VERSION = 1
RULE_NAMES = tuple(sorted(PRESETS))
WINNER_UNKNOWN = -2  # winner codes: 1 black, -1 white, 0 draw, -2 unknown


class ShardError(ValueError):
    """A shard that cannot be used: corrupt, truncated, foreign or of another version."""


@dataclass
class GameRecord:
    """One game as the shards store it.

    Points are ``row * size + col`` (row 0 = GTP row 1); ``size * size`` is a pass.
    ``setup`` and ``moves`` are ``(colour, point)`` with colour 1 black, 2 white."""

    size: int
    komi: float
    rules: str
    moves: list[tuple[int, int]]
    setup: list[tuple[int, int]] = field(default_factory=list)
    winner: int = WINNER_UNKNOWN
    margin: float = float("nan")  # black minus white, when the record gives it
    handicap: int = 0
    key: int = 0  # 64-bit hash of the moves, for de-duplication and the split


def _encode(pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    return np.array([(p + 1) if c == 1 else -(p + 1) for c, p in pairs], dtype=np.int16)


def write_shard(path: str | Path, records: Sequence[GameRecord]) -> None:
    """Write ``records`` (all of one board size) to ``path`` atomically."""
    import io

    if not records:
        raise ValueError("a shard needs at least one game")
    size = records[0].size
    if any(r.size != size for r in records):
        raise ValueError("all games of a shard must have the same board size")
    moves = [_encode(r.moves) for r in records]
    setup = [_encode(r.setup) for r in records]
    header = {"format": FORMAT, "version": VERSION, "size": size, "games": len(records),
              "positions": int(sum(len(m) for m in moves)), "rules": list(RULE_NAMES)}
    arrays = {
        "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
        "game_offset": np.concatenate([[0], np.cumsum([len(m) for m in moves])]).astype(np.int64),
        "setup_offset": np.concatenate([[0], np.cumsum([len(s) for s in setup])]).astype(np.int64),
        "moves": np.concatenate(moves) if moves else np.zeros(0, np.int16),
        "setup": np.concatenate(setup).astype(np.int16) if setup else np.zeros(0, np.int16),
        "komi": np.array([r.komi for r in records], dtype=np.float32),
        "rules": np.array([RULE_NAMES.index(r.rules) for r in records], dtype=np.int8),
        "winner": np.array([r.winner for r in records], dtype=np.int8),
        "margin": np.array([r.margin for r in records], dtype=np.float32),
        "handicap": np.array([r.handicap for r in records], dtype=np.int8),
        "key": np.array([r.key for r in records], dtype=np.uint64),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(Path(path), buf.getvalue())


@dataclass
class Shard:
    """A shard in memory: game-level arrays and the concatenated moves."""

    path: str
    size: int
    game_offset: np.ndarray
    setup_offset: np.ndarray
    moves: np.ndarray
    setup: np.ndarray
    komi: np.ndarray
    rules: np.ndarray
    winner: np.ndarray
    margin: np.ndarray
    handicap: np.ndarray
    key: np.ndarray
    rule_names: tuple[str, ...]

    @property
    def num_games(self) -> int:
        return len(self.komi)

    @property
    def num_positions(self) -> int:
        return len(self.moves)

    def game_moves(self, i: int) -> np.ndarray:
        return self.moves[self.game_offset[i]:self.game_offset[i + 1]]

    def game_setup(self, i: int) -> np.ndarray:
        return self.setup[self.setup_offset[i]:self.setup_offset[i + 1]]


_ARRAYS = ("game_offset", "setup_offset", "moves", "setup", "komi", "rules", "winner", "margin", "handicap", "key")


def read_shard(path: str | Path) -> Shard:
    """Load and check a shard; ``ShardError`` says what is wrong with which file."""
    path = str(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "header" not in z.files:
                raise ShardError(f"{path}: not a {FORMAT} file (no header)")
            header = json.loads(bytes(z["header"]).decode())
            if header.get("format") != FORMAT:
                raise ShardError(f"{path}: not a {FORMAT} file (format {header.get('format')!r})")
            if header.get("version") != VERSION:
                raise ShardError(f"{path}: shard format version {header.get('version')} is not supported "
                                 f"(this Tengen reads version {VERSION}); rebuild it with `tengen data build`")
            missing = [a for a in _ARRAYS if a not in z.files]
            if missing:
                raise ShardError(f"{path}: missing arrays {missing}")
            arrays = {a: z[a] for a in _ARRAYS}
    except ShardError:
        raise
    except FileNotFoundError:
        raise ShardError(f"{path}: no such shard") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ShardError(f"{path}: corrupt or truncated shard ({type(e).__name__}: {e})") from None
    shard = Shard(path=path, size=int(header["size"]), rule_names=tuple(header["rules"]), **arrays)
    _check(shard, header)
    return shard


def _check(s: Shard, header: dict) -> None:
    g = s.num_games
    bad = None
    if not 2 <= s.size <= 25:
        bad = f"board size {s.size}"
    elif header.get("games") != g or any(len(getattr(s, a)) != g for a in ("rules", "winner", "margin", "handicap", "key")):
        bad = "game arrays of different lengths"
    elif len(s.game_offset) != g + 1 or len(s.setup_offset) != g + 1:
        bad = "offset arrays of the wrong length"
    elif s.game_offset[0] != 0 or s.game_offset[-1] != len(s.moves) or np.any(np.diff(s.game_offset) < 0):
        bad = "inconsistent move offsets"
    elif s.setup_offset[0] != 0 or s.setup_offset[-1] != len(s.setup) or np.any(np.diff(s.setup_offset) < 0):
        bad = "inconsistent setup offsets"
    elif len(s.moves) and (np.abs(s.moves.astype(np.int32)).max() > s.size * s.size + 1 or np.any(s.moves == 0)):
        bad = "move outside the board"
    elif len(s.setup) and (np.abs(s.setup.astype(np.int32)).max() > s.size * s.size or np.any(s.setup == 0)):
        bad = "setup stone outside the board"
    elif len(s.rules) and (s.rules.min() < 0 or s.rules.max() >= len(s.rule_names)):
        bad = "unknown rules index"
    if bad:
        raise ShardError(f"{s.path}: corrupt shard ({bad})")
