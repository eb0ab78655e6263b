"""Batches of training positions from shards: features, symmetries, targets.

Games are read shard by shard in a seeded random order, replayed by the
feature kernel, and their positions pass through a shuffle buffer, so memory
holds a few shards and the buffer however large the data set is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from go_engine import kernels as K
from go_engine.features import NUM_GLOBALS, NUM_PLANES, apply_symmetry, global_features, k_replay_features
from go_engine.rules import get_rules
from go_engine.shards import WINNER_UNKNOWN, Shard, ShardError, read_shard


@dataclass
class Batch:
    """One batch; every array's first axis is the batch.

    ``policy`` is the move played (``row * size + col`` after the symmetry, ``size * size`` for a
    pass) and ``policy_target`` the distribution to learn: the search's visits in self-play
    records, else the move played as a one-hot vector; ``value`` the result for the player to move (1 win, -1 loss, 0 draw) where
    ``value_mask`` is 1; ``score`` the final margin for the player to move where ``score_mask`` is 1."""

    planes: np.ndarray  # uint8 [B, NUM_PLANES, size, size]
    globals: np.ndarray  # float32 [B, NUM_GLOBALS]
    policy: np.ndarray  # int64 [B]
    policy_target: np.ndarray  # float32 [B, size * size + 1]
    value: np.ndarray  # float32 [B]
    value_mask: np.ndarray  # float32 [B]
    score: np.ndarray  # float32 [B]
    score_mask: np.ndarray  # float32 [B]
    ownership: np.ndarray  # float32 [B, size, size]: final owner for the player to move (+1 own, -1 opponent)
    ownership_mask: np.ndarray  # float32 [B]: 1 where the final position is known

    def __len__(self) -> int:
        return len(self.policy)


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


class PositionLoader:
    """Iterate over batches of positions from shards, endlessly or for ``epochs`` passes.

    The same ``seed`` gives the same batches. ``sample_rate`` keeps each position
    with that probability (fewer, less correlated positions per game). Games are
    drawn at random from ``open_shards`` shards read at once: shards are often
    written one source after another (one server's komi and rules), and batches
    drawn from one shard at a time would hold those inputs constant, which batch
    normalisation then hides from training."""

    def __init__(self, shards: Sequence[str | Path], batch_size: int = 256, seed: int = 0,
                 symmetries: bool = True, buffer_size: int = 16384, sample_rate: float = 1.0,
                 epochs: int | None = None, open_shards: int = 16) -> None:
        self.paths = shard_paths(shards)
        self.batch_size = batch_size
        self.seed = seed
        self.symmetries = symmetries
        self.buffer_size = max(buffer_size, batch_size)
        self.sample_rate = sample_rate
        self.epochs = epochs
        self.open_shards = max(1, open_shards)
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
        """A shard and its games (those not dropped as duplicates) in a random order."""
        shard = read_shard(self.paths[index])
        if shard.size != self.size:
            raise ShardError(f"{shard.path}: board size {shard.size}, but the first shard's is {self.size}")
        games = rng.permutation(shard.num_games)
        return shard, games[~np.isin(games, self.dropped(Path(shard.path)))]

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

    def _positions(self, rng: np.random.Generator) -> Iterator[tuple[np.ndarray, ...]]:
        size = self.size
        for shard, g in self._games(rng):
            moves = shard.game_moves(g)
            if len(moves) == 0:
                continue
            targets = shard.game_targets(g)
            # self-play: only moves chosen by a full search carry a policy target and become positions
            usable = (np.flatnonzero(np.diff(targets[0]) > 0) if targets is not None
                      else np.arange(len(moves), dtype=np.int64))
            select = usable if self.sample_rate >= 1.0 else usable[rng.random(len(usable)) < self.sample_rate]
            if len(select) == 0:
                continue
            k = len(select)
            syms = rng.integers(0, 8, k) if self.symmetries else np.zeros(k, np.int64)
            planes = np.empty((k, NUM_PLANES, size, size), dtype=np.uint8)
            policy = np.empty(k, dtype=np.int64)
            to_move = np.empty(k, dtype=np.int64)
            rules = get_rules(shard.rule_names[shard.rules[g]])
            final = np.zeros((size, size), np.int8)
            got, two_passes = k_replay_features(size, rules.ko_code, rules.suicide, shard.game_setup(g), moves,
                                                select, syms, planes, policy, to_move, final)
            komi = float(shard.komi[g])
            terr = rules.scoring == "territory"
            globs = np.stack([global_features(komi, int(c), rules.ko_code, rules.suicide, terr)
                              for c in (K.BLACK, K.WHITE)])
            sign = np.where(to_move[:got] == K.BLACK, 1.0, -1.0).astype(np.float32)
            w = int(shard.winner[g])
            value = sign * w if w != WINNER_UNKNOWN else np.zeros(got, np.float32)
            vmask = np.full(got, 0.0 if w == WINNER_UNKNOWN else 1.0, np.float32)
            m = float(shard.margin[g])
            score = sign * (m if np.isfinite(m) else 0.0)
            smask = np.full(got, 1.0 if np.isfinite(m) else 0.0, np.float32)
            own = np.zeros((got, size, size), np.float32)
            if two_passes:  # the final position is known: who owns each point, from the mover's view
                for j in range(got):
                    own[j] = apply_symmetry(final * sign[j], int(syms[j]))
            omask = np.full(got, 1.0 if two_passes else 0.0, np.float32)
            dist = np.zeros((got, size * size + 1), np.float32)
            if targets is None:
                dist[np.arange(got), policy[:got]] = 1.0
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
            yield (planes[:got], globs[(to_move[:got] == K.WHITE).astype(np.int64)], policy[:got], dist,
                   value.astype(np.float32), vmask, score.astype(np.float32), smask, own, omask)

    def __iter__(self) -> Iterator[Batch]:
        rng = np.random.default_rng(self.seed)
        size, cap, bs = self.size, self.buffer_size, self.batch_size
        buf = [np.empty((cap, NUM_PLANES, size, size), np.uint8), np.empty((cap, NUM_GLOBALS), np.float32),
               np.empty(cap, np.int64), np.empty((cap, size * size + 1), np.float32)] + [
               np.empty(cap, np.float32) for _ in range(4)] + [
               np.empty((cap, size, size), np.float32), np.empty(cap, np.float32)]
        source = self._positions(rng)
        pending: list = [None, 0]  # the chunk being consumed and how far

        def fill(slots: np.ndarray) -> int:
            """Write new positions into ``slots``; return how many were filled."""
            done = 0
            while done < len(slots):
                if pending[0] is None or pending[1] >= len(pending[0][2]):
                    chunk = next(source, None)
                    if chunk is None:
                        return done
                    pending[0], pending[1] = chunk, 0
                chunk, off = pending
                m = min(len(slots) - done, len(chunk[2]) - off)
                for b, a in zip(buf, chunk):
                    b[slots[done:done + m]] = a[off:off + m]
                pending[1] = off + m
                done += m
            return done

        n = fill(np.arange(cap))
        while n > 0:
            take = min(bs, n)
            holes = np.sort(rng.choice(n, size=take, replace=False))
            yield Batch(*(b[holes] for b in buf))
            k = fill(holes)
            left = holes[k:]
            if len(left):
                new_n = n - len(left)
                gone = set(left.tolist())
                tail = [t for t in range(new_n, n) if t not in gone]
                targets = left[left < new_n]
                for b in buf:
                    b[targets] = b[tail]
                n = new_n
