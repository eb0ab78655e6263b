"""Batches of training positions from shards: features, symmetries, targets.

Games are drawn from a few shards at a time in a seeded random order, replayed
by the replay kernel (``policy.data.replay``), and their positions pass through
a shuffle buffer, so memory holds a few shards and the buffer however large the
data set is. ``batches`` runs the same loader in worker processes (torch's
DataLoader), each on its own share of the games, so that a GPU never waits for
the CPU. Shards of several board sizes train together in batches of one size
each: ``mixed_batches`` draws each batch's size at random by a share per size.

Targets, all from the view of the player to move:

- policy: the search's visit distribution in self-play records, else the move played;
- value: the winner (masked when unknown);
- score: the final margin (masked when unknown);
- ownership: the settled final owner of each point (masked when the game has none).

Komi: a game whose margin is counted gives its winner under any komi (the
margin moves by the difference), so with ``komi_relabel`` > 0 such a game is
replayed, with that probability, under a komi drawn uniformly within
``komi_spread(size)`` of its own, with the value and score targets relabelled to
match. Human games carry a few fixed komi values; this is what teaches the value
and score heads to read komi.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Collection, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from go_engine import kernels as K
from go_engine.features import FEATURE_VERSION, NUM_GLOBALS, apply_symmetry, global_features, planes_for
from go_engine.rules import get_rules

from .replay import SETUP_ILLEGAL, k_replay
from .shards import WINNER_UNKNOWN, Shard, ShardError, read_shard, shard_header


@dataclass
class Batch:
    """Positions and their targets; every array's first axis is the position.

    ``policy`` is the move played (``row * size + col`` after the symmetry, ``size * size`` for a
    pass) and ``policy_target`` the distribution to learn; ``value`` the result for the player to
    move (1 win, -1 loss, 0 draw) where ``value_mask`` is 1; ``score`` the final margin for the
    player to move where ``score_mask`` is 1; ``ownership`` the final owner of each point (+1 the
    player to move, -1 the opponent) where ``ownership_mask`` is 1."""

    planes: np.ndarray  # uint8 [B, planes, size, size]
    globals: np.ndarray  # float32 [B, NUM_GLOBALS]
    policy: np.ndarray  # int64 [B]
    policy_target: np.ndarray  # float32 [B, size * size + 1]
    value: np.ndarray  # float32 [B]
    value_mask: np.ndarray  # float32 [B]
    score: np.ndarray  # float32 [B]
    score_mask: np.ndarray  # float32 [B]
    ownership: np.ndarray  # float32 [B, size, size]
    ownership_mask: np.ndarray  # float32 [B]

    def __len__(self) -> int:
        return len(self.policy)

    @staticmethod
    def field_names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(Batch))


def komi_spread(size: int) -> float:
    """Half-width of the komi range a relabelled game is drawn from: 30 points on 19x19, in
    proportion to the board's area elsewhere."""
    return 30.0 * size * size / 361.0


def shard_paths(inputs: Sequence[str | Path]) -> list[Path]:
    """Shard files named directly or found (``*.npz``, recursively) under folders, sorted."""
    out: list[Path] = []
    for x in inputs:
        p = Path(x)
        if p.is_dir():
            out += sorted(p.rglob("*.npz"))
        elif p.exists():
            out.append(p)
        else:
            raise ShardError(f"{p}: no such shard or folder")
    if not out:
        raise ShardError(f"no shards found in {', '.join(map(str, inputs))}")
    return out


@dataclass(frozen=True)
class DataGroup:
    """Shards a run draws its batches from together: those of one board size, or those of one training
    input named on its own (``source``: its own games, say, beside human ones), with their positions."""

    size: int
    paths: tuple[Path, ...]
    positions: int
    source: str | None = None


def data_groups(inputs: Sequence[str | Path], sources: Collection[str] = ()) -> list[DataGroup]:
    """The shards of ``inputs`` grouped by board size, from their headers alone, in the order each size
    first appears, after a group for each input named in ``sources`` (``ValueError`` for a name that is
    not an input, or a named input of several board sizes: a batch is of one size)."""
    names = [str(x) for x in inputs]
    for source in sources:
        if source not in names:
            raise ValueError(f"--source-share {source}: not one of the training inputs ({', '.join(names)})")
    found: dict[str | int, tuple[list[Path], list[int], set[int]]] = {}
    claimed: set[Path] = set()
    for x in [*sources, *(n for n in names if n not in sources)]:
        for path in shard_paths([x]):
            if path in claimed:  # a shard reached through two inputs is read once, in the first group
                continue
            claimed.add(path)
            header = shard_header(path)
            positions = header.get("positions")
            if not isinstance(positions, int):  # an early shard without the count
                positions = read_shard(path).num_positions
            paths, counts, sizes = found.setdefault(x if x in sources else header["size"], ([], [], set()))
            paths.append(path)
            counts.append(positions)
            sizes.add(header["size"])
    groups = []
    for key, (paths, counts, sizes) in found.items():
        if len(sizes) > 1:
            raise ValueError(f"--source-share {key}: its shards hold boards of several sizes "
                             f"({', '.join(map(str, sorted(sizes)))}); a named input must hold one")
        groups.append(DataGroup(sizes.pop(), tuple(paths), sum(counts), key if isinstance(key, str) else None))
    return groups


def group_weights(groups: Sequence[DataGroup], size_shares: dict[int, float],
                  source_shares: dict[str, float] | None = None) -> np.ndarray:
    """Each group's share of the batches: a named input's as ``source_shares`` says, a board size's (its
    inputs not named on their own) as ``size_shares`` says, the rest divided among the other groups in
    proportion to their positions. ``ValueError`` for a share of a size that is not there, or shares
    that leave nothing or too much."""
    source_shares = source_shares or {}
    sizes = [g.size for g in groups if g.source is None]
    for size, share in size_shares.items():
        if size not in sizes:
            raise ValueError(f"--size-share {size}={share:g}: no {size}x{size} shards among the training data "
                             f"(sizes {', '.join(map(str, sizes)) or 'none but named inputs'})")
    for name, share in [*size_shares.items(), *source_shares.items()]:
        if not 0.0 < share <= 1.0:
            flag = "--size-share" if isinstance(name, int) else "--source-share"
            raise ValueError(f"{flag} {name}={share:g}: a share is above 0 and at most 1")

    def named(g: DataGroup) -> float | None:
        return source_shares.get(g.source) if g.source is not None else size_shares.get(g.size)

    total = sum(size_shares.values()) + sum(source_shares.values())
    rest = [g for g in groups if named(g) is None]
    if total > 1.0 + 1e-9 or (not rest and abs(total - 1.0) > 1e-9) or (rest and total >= 1.0 - 1e-9):
        raise ValueError(f"--size-share/--source-share: the shares add up to {total:g}; those named must come "
                         "to 1 when every group is named, and below 1 otherwise")
    free = sum(g.positions for g in rest)
    w = np.array([share if (share := named(g)) is not None else (1.0 - total) * g.positions / max(1, free)
                  for g in groups], dtype=np.float64)
    return w / w.sum()


class PositionLoader:
    """Iterate over batches of positions from shards, endlessly or for ``epochs`` passes.

    The same ``seed`` gives the same batches. ``sample_rate`` keeps each position
    with that probability (fewer, less correlated positions per game). Games are
    drawn at random from ``open_shards`` shards read at once: shards are often
    written one source after another (one server's komi and rules), and batches
    drawn from one shard at a time would hold those inputs constant, which batch
    normalisation then hides from training. ``share = (k, n)`` keeps only the
    k-th of every n games (a worker process's part)."""

    def __init__(self, shards: Sequence[str | Path], batch_size: int = 256, seed: int = 0,
                 symmetries: bool = True, buffer_size: int = 16384, sample_rate: float = 1.0,
                 epochs: int | None = None, open_shards: int = 16, feature_version: int = FEATURE_VERSION,
                 komi_relabel: float = 0.0, share: tuple[int, int] = (0, 1)) -> None:
        self.paths = shard_paths(shards)
        self.batch_size = batch_size
        self.seed = seed
        self.symmetries = symmetries
        self.buffer_size = max(buffer_size, batch_size)
        self.sample_rate = sample_rate
        self.epochs = epochs
        self.open_shards = max(1, open_shards)
        self.num_planes = planes_for(feature_version)
        self.komi_relabel = komi_relabel
        self.share = share
        self._dropped: dict[Path, dict[str, list[int]]] = {}
        self.size = read_shard(self.paths[0]).size

    def dropped(self, path: Path) -> list[int]:
        """Games of a shard that ``tengen data build`` found again elsewhere (``dropped.json`` beside it)."""
        folder = path.parent
        if folder not in self._dropped:
            f = folder / "dropped.json"
            try:
                self._dropped[folder] = json.loads(f.read_text()) if f.exists() else {}
            except (OSError, ValueError) as e:
                raise ShardError(f"{f}: unreadable ({e})") from None
        return self._dropped[folder].get(path.name, [])

    def _open(self, index: int, rng: np.random.Generator) -> tuple[Shard, np.ndarray]:
        """A shard and its games (those not dropped as duplicates, this share's) in a random order."""
        shard = read_shard(self.paths[index])
        if shard.size != self.size:
            raise ShardError(f"{shard.path}: board size {shard.size}, but the first shard's is {self.size}")
        games = rng.permutation(shard.num_games)
        k, n = self.share
        keep = ~np.isin(games, self.dropped(Path(shard.path)))
        if n > 1:
            keep &= (games + index * 7919) % n == k
        return shard, games[keep]

    def _games(self, rng: np.random.Generator) -> Iterator[tuple[Shard, int]]:
        epoch = 0
        while self.epochs is None or epoch < self.epochs:
            order = list(rng.permutation(len(self.paths))[::-1])
            pool: list[list] = []  # [shard, games, next game]
            while order or pool:
                while order and len(pool) < self.open_shards:
                    shard, games = self._open(int(order.pop()), rng)
                    if len(games):
                        pool.append([shard, games, 0])
                if not pool:
                    break
                left = np.array([len(games) - at for _, games, at in pool], dtype=np.float64)
                j = int(rng.choice(len(pool), p=left / left.sum()))  # uniform over the games left
                shard, games, at = pool[j]
                pool[j][2] = at + 1
                if at + 1 == len(games):
                    pool.pop(j)
                yield shard, int(games[at])
            epoch += 1

    def _komi_and_result(self, shard: Shard, g: int, rng: np.random.Generator) -> tuple[float, int, float]:
        """The komi to train game ``g`` under, with its winner code and margin (Black minus White)
        under that komi: the game's own, or with probability ``komi_relabel`` a new komi when the
        margin is counted."""
        komi, winner, margin = float(shard.komi[g]), int(shard.winner[g]), float(shard.margin[g])
        if self.komi_relabel > 0 and np.isfinite(margin) and rng.random() < self.komi_relabel:
            spread = komi_spread(shard.size)
            new = float(np.round(2.0 * (komi + rng.uniform(-spread, spread))) / 2.0)
            margin += komi - new
            komi, winner = new, int(np.sign(margin))
        return komi, winner, margin

    def game_positions(self, shard: Shard, g: int, rng: np.random.Generator) -> Batch | None:
        """The training positions of game ``g`` of ``shard`` (a random share of them at ``sample_rate``
        < 1), or None when it has none; ``ShardError`` when the game does not replay legally."""
        size = self.size
        moves = shard.game_moves(g)
        if len(moves) == 0:
            return None
        targets = shard.game_targets(g)
        # self-play: only moves chosen by a full search carry a policy target and become positions
        usable = (np.flatnonzero(np.diff(targets[0]) > 0) if targets is not None
                  else np.arange(len(moves), dtype=np.int64))
        select = usable if self.sample_rate >= 1.0 else usable[rng.random(len(usable)) < self.sample_rate]
        komi, winner, margin = self._komi_and_result(shard, g, rng)
        if len(select) == 0:
            return None
        k = len(select)
        syms = rng.integers(0, 8, k) if self.symmetries else np.zeros(k, np.int64)
        planes = np.empty((k, self.num_planes, size, size), dtype=np.uint8)
        policy = np.empty(k, dtype=np.int64)
        to_move = np.empty(k, dtype=np.int64)
        rules = get_rules(shard.rule_names[shard.rules[g]])
        got, error = k_replay(size, rules.ko_code, rules.suicide, shard.game_setup(g), moves, select, syms,
                              planes, policy, to_move)
        if error != -1:
            what = "its setup stones leave a chain without liberties" if error == SETUP_ILLEGAL else (
                f"move {error + 1} is illegal")
            raise ShardError(f"{shard.path}: game {g} does not replay: {what}")
        terr = rules.scoring == "territory"
        globs = np.stack([global_features(komi, int(c), rules.ko_code, rules.suicide, terr)
                          for c in (K.BLACK, K.WHITE)])
        sign = np.where(to_move == K.BLACK, 1.0, -1.0).astype(np.float32)
        known = winner != WINNER_UNKNOWN
        owner = shard.game_owner(g)
        own = np.zeros((got, size, size), np.float32)
        if owner is not None:
            for j in range(got):
                own[j] = apply_symmetry(owner * sign[j], int(syms[j]))
        dist = np.zeros((got, size * size + 1), np.float32)
        if targets is None:
            dist[np.arange(got), policy] = 1.0
        else:
            off, pts, probs = targets
            for j in range(got):
                m = int(select[j])
                p, q = pts[off[m]:off[m + 1]].astype(np.int64), probs[off[m]:off[m + 1]].astype(np.float32)
                board = np.zeros(size * size, np.float32)
                on = p < size * size
                board[p[on]] = q[on]
                dist[j, :-1] = apply_symmetry(board.reshape(size, size), int(syms[j])).ravel()
                dist[j, -1] = q[~on].sum()
                dist[j] /= max(1e-12, float(dist[j].sum()))
        return Batch(
            planes=planes, globals=globs[(to_move == K.WHITE).astype(np.int64)], policy=policy, policy_target=dist,
            value=(sign * winner if known else np.zeros(got)).astype(np.float32),
            value_mask=np.full(got, 1.0 if known else 0.0, np.float32),
            score=(sign * (margin if np.isfinite(margin) else 0.0)).astype(np.float32),
            score_mask=np.full(got, 1.0 if np.isfinite(margin) else 0.0, np.float32),
            ownership=own, ownership_mask=np.full(got, 0.0 if owner is None else 1.0, np.float32))

    def __iter__(self) -> Iterator[Batch]:
        rng = np.random.default_rng([self.seed, *self.share])
        size, cap, bs = self.size, self.buffer_size, self.batch_size
        shapes = {"planes": ((self.num_planes, size, size), np.uint8), "globals": ((NUM_GLOBALS,), np.float32),
                  "policy": ((), np.int64), "policy_target": ((size * size + 1,), np.float32),
                  "ownership": ((size, size), np.float32)}
        buf = {k: np.empty((cap, *shapes.get(k, ((), np.float32))[0]), shapes.get(k, ((), np.float32))[1])
               for k in Batch.field_names()}
        games = self._games(rng)
        pending: list = [None, 0]  # the game's positions being consumed and how far

        def fill(slots: np.ndarray) -> int:
            """Write new positions into ``slots``; return how many were filled."""
            done = 0
            while done < len(slots):
                if pending[0] is None or pending[1] >= len(pending[0]):
                    chunk = None
                    while chunk is None:
                        nxt = next(games, None)
                        if nxt is None:
                            return done
                        chunk = self.game_positions(nxt[0], nxt[1], rng)
                    pending[0], pending[1] = chunk, 0
                chunk, off = pending
                m = min(len(slots) - done, len(chunk) - off)
                for k, b in buf.items():
                    b[slots[done:done + m]] = getattr(chunk, k)[off:off + m]
                pending[1] = off + m
                done += m
            return done

        n = fill(np.arange(cap))
        while n > 0:
            take = min(bs, n)
            holes = np.sort(rng.choice(n, size=take, replace=False))
            yield Batch(**{k: b[holes] for k, b in buf.items()})
            k = fill(holes)
            left = holes[k:]
            if len(left):
                new_n = n - len(left)
                gone = set(left.tolist())
                tail = [t for t in range(new_n, n) if t not in gone]
                targets = left[left < new_n]
                for b in buf.values():
                    b[targets] = b[tail]
                n = new_n


def compile_kernels() -> None:
    """Compile (or load from Numba's cache) the replay and feature kernels by replaying a tiny game."""
    planes = np.zeros((1, planes_for(FEATURE_VERSION), 5, 5), np.uint8)
    one = np.zeros(1, np.int64)
    k_replay(5, 0, False, np.zeros(0, np.int16), np.array([13, -8], np.int16), one, one, planes, one.copy(),
             one.copy())


def to_torch(batch: Batch) -> dict[str, torch.Tensor]:
    """A batch as a dict of CPU tensors (what worker processes hand over; pinned when asked)."""
    return {k: torch.from_numpy(getattr(batch, k)) for k in Batch.field_names()}


class _Shares(IterableDataset):
    """``PositionLoader(shards, **options)`` split by game among torch's worker processes."""

    def __init__(self, shards: Sequence[str | Path], options: dict) -> None:
        self.shards = list(shards)
        self.options = options

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        return iter(PositionLoader(self.shards, share=(info.id, info.num_workers), **self.options))


def batches(shards: Sequence[str | Path], workers: int = 0, pin_memory: bool = False, **options) -> Iterator:
    """The batches of ``PositionLoader(shards, **options)``: ``Batch`` objects read in this process when
    ``workers`` is 0, else dicts of tensors from ``workers`` processes, each replaying its own share of
    the games (the order is fixed by the seed and the number of workers, so a run resumes exactly)."""
    if workers <= 0:
        return iter(PositionLoader(shards, **options))
    compile_kernels()  # once here, so that the forked workers do not each compile (or wait on the cache)
    return iter(DataLoader(_Shares(shards, options), batch_size=None, num_workers=workers, collate_fn=to_torch,
                           pin_memory=pin_memory and torch.cuda.is_available(), prefetch_factor=4))


def mixed_batches(groups: Sequence[DataGroup], weights: np.ndarray, seed: int = 0, workers: int = 0,
                  pin_memory: bool = False, **options) -> Iterator:
    """Batches from several groups of shards (board sizes, named inputs), each batch from one group,
    drawn with probability ``weights`` (``group_weights``); each group's stream as ``batches``. One
    group: exactly ``batches``.
    The order is fixed by the seed, so a run resumes exactly."""
    if len(groups) == 1:
        return batches(groups[0].paths, workers=workers, pin_memory=pin_memory, seed=seed, **options)
    streams = [batches(g.paths, workers=workers, pin_memory=pin_memory, seed=seed + 7919 * j, **options)
               for j, g in enumerate(groups)]
    rng = np.random.default_rng([seed, 0x5153])

    def draw() -> Iterator:
        while True:
            yield next(streams[int(rng.choice(len(streams), p=weights))])
    return draw()
