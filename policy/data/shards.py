"""Training-data shards: games as compact move lists, read and written atomically.

Format ``tengen-shard`` version 3 (docs/data-format.md): one uncompressed ``.npz``
per shard holding whole games of one board size. Positions are not stored:
the loader replays each game with the rules kernels and computes features, so
a position costs two bytes on disk, plus its policy target where that is a
search's visit distribution rather than the move played (self-play), plus the
game's settled final ownership where it is known. Versions 1 (no distributions)
and 2 (no ownership) are still read.
"""

from __future__ import annotations

import json
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from go_engine.atomic import atomic_write_bytes
from go_engine.rules import PRESETS

FORMAT = "tengen-shard"
VERSION = 3
READABLE = (1, 2, 3)
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
    # Self-play: per move, the search's visit distribution as (points, probabilities), or None for
    # a move that is not a policy target (a fast search). None for the whole game: the move played
    # is the target of every position (records of human games).
    targets: list[tuple[np.ndarray, np.ndarray] | None] | None = None
    # Who owns each point at the end with dead stones removed (int8 [size, size]: 1 black, -1 white,
    # 0 neither), where the game ended on the board and the dead stones were settled; else None.
    owner: np.ndarray | None = None


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
    counts, points, probs = [], [], []
    for r in records:
        if r.targets is not None and len(r.targets) != len(r.moves):
            raise ValueError(f"game with {len(r.moves)} moves has {len(r.targets)} policy targets")
        for t in (r.targets or []):
            n = 0 if t is None else len(t[0])
            counts.append(n)
            if n:
                points.append(np.asarray(t[0], np.int16))
                probs.append(np.asarray(t[1], np.float16))
    owners = []
    for r in records:
        if r.owner is not None:
            o = np.asarray(r.owner, dtype=np.int8)
            if o.shape != (size, size) or np.abs(o).max(initial=0) > 1:
                raise ValueError(f"ownership of shape {o.shape} with values outside -1..1 for a {size}x{size} game")
            owners.append(o.ravel())
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
        "has_targets": np.array([r.targets is not None for r in records], dtype=np.int8),
        "target_offset": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "target_point": np.concatenate(points) if points else np.zeros(0, np.int16),
        "target_prob": np.concatenate(probs) if probs else np.zeros(0, np.float16),
        "has_owner": np.array([r.owner is not None for r in records], dtype=np.int8),
        "owner": np.concatenate(owners) if owners else np.zeros(0, np.int8),
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
    has_targets: np.ndarray  # int8 [G]: 1 for games whose moves carry search distributions
    target_offset: np.ndarray  # int64 [1 + moves of those games, in game order]
    target_point: np.ndarray
    target_prob: np.ndarray
    has_owner: np.ndarray  # int8 [G]: 1 for games whose settled final ownership is stored
    owner: np.ndarray  # int8 [games with an owner * size * size]
    _target_start: np.ndarray = field(default=None, repr=False)  # per game: its first entry of target_offset
    _owner_index: np.ndarray = field(default=None, repr=False)  # per game: its row of owner, or -1

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

    def game_targets(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Game ``i``'s search distributions as (offsets per move, points, probabilities), or None
        when the moves played are the targets."""
        if not self.has_targets[i]:
            return None
        if self._target_start is None:
            lengths = np.diff(self.game_offset) * (self.has_targets != 0)
            self._target_start = np.concatenate([[0], np.cumsum(lengths)])
        a = int(self._target_start[i])
        off = self.target_offset[a:a + len(self.game_moves(i)) + 1]
        return off - off[0], self.target_point[off[0]:off[-1]], self.target_prob[off[0]:off[-1]]


    def game_owner(self, i: int) -> np.ndarray | None:
        """Game ``i``'s settled final ownership (int8 [size, size], 1 black, -1 white), or None."""
        if not self.has_owner[i]:
            return None
        if self._owner_index is None:
            self._owner_index = np.cumsum(self.has_owner != 0) - 1
        a = int(self._owner_index[i]) * self.size * self.size
        return self.owner[a:a + self.size * self.size].reshape(self.size, self.size)


_ARRAYS = ("game_offset", "setup_offset", "moves", "setup", "komi", "rules", "winner", "margin", "handicap", "key")
_TARGET_ARRAYS = ("has_targets", "target_offset", "target_point", "target_prob")
_OWNER_ARRAYS = ("has_owner", "owner")


def _header(z, path: str) -> dict:
    """The checked header of an opened shard archive ``z``."""
    if "header" not in z.files:
        raise ShardError(f"{path}: not a {FORMAT} file (no header)")
    header = json.loads(bytes(z["header"]).decode())
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ShardError(f"{path}: not a {FORMAT} file (format {header.get('format') if isinstance(header, dict) else None!r})")
    version = header.get("version")
    if version not in READABLE:
        raise ShardError(f"{path}: shard format version {version} is not supported "
                         f"(this Tengen reads versions {', '.join(map(str, READABLE))}); "
                         "rebuild it with `tengen data build`")
    if not isinstance(header.get("size"), int) or not 2 <= header["size"] <= 25:
        raise ShardError(f"{path}: board size {header.get('size')!r} in its header")
    return header


@contextmanager
def _archive(path: str) -> Iterator:
    """Shard file ``path`` opened as an archive; what goes wrong reading it becomes a one-line ``ShardError``."""
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":  # an .npz is a zip archive
                raise ShardError(f"{path}: not a shard (not an .npz file of tengen data build or selfplay)")
        with np.load(path, allow_pickle=False) as z:
            yield z
    except ShardError:
        raise
    except FileNotFoundError:
        raise ShardError(f"{path}: no such shard") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ShardError(f"{path}: corrupt or truncated shard ({type(e).__name__}: {e})") from None


def shard_header(path: str | Path) -> dict:
    """A shard's header alone (format, version, board ``size``, ``games``, ``positions``), read
    without loading its arrays; ``ShardError`` as ``read_shard``."""
    with _archive(str(path)) as z:
        return _header(z, str(path))


def read_shard(path: str | Path) -> Shard:
    """Load and check a shard; ``ShardError`` says what is wrong with which file."""
    path = str(path)
    with _archive(path) as z:
        header = _header(z, path)
        version = header["version"]
        names = _ARRAYS + (_TARGET_ARRAYS if version >= 2 else ()) + (_OWNER_ARRAYS if version >= 3 else ())
        missing = [a for a in names if a not in z.files]
        if missing:
            raise ShardError(f"{path}: missing arrays {missing}")
        arrays = {a: z[a] for a in names}
        if version < 2:
            arrays.update(has_targets=np.zeros(len(arrays["komi"]), np.int8),
                          target_offset=np.zeros(1, np.int64), target_point=np.zeros(0, np.int16),
                          target_prob=np.zeros(0, np.float16))
        if version < 3:
            arrays.update(has_owner=np.zeros(len(arrays["komi"]), np.int8), owner=np.zeros(0, np.int8))
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
    elif len(s.has_targets) != g:
        bad = "game arrays of different lengths"
    elif len(s.target_offset) != 1 + int((np.diff(s.game_offset) * (s.has_targets != 0)).sum()):
        bad = "target offsets of the wrong length"
    elif (s.target_offset[0] != 0 or s.target_offset[-1] != len(s.target_point)
          or len(s.target_prob) != len(s.target_point) or np.any(np.diff(s.target_offset) < 0)):
        bad = "inconsistent target offsets"
    elif len(s.target_point) and (s.target_point.min() < 0 or s.target_point.max() > s.size * s.size):
        bad = "policy target outside the board"
    elif len(s.has_owner) != g or len(s.owner) != int((s.has_owner != 0).sum()) * s.size * s.size:
        bad = "ownership arrays of the wrong length"
    elif len(s.owner) and np.abs(s.owner.astype(np.int16)).max() > 1:
        bad = "ownership values outside -1..1"
    if bad:
        raise ShardError(f"{s.path}: corrupt shard ({bad})")
