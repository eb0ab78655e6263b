"""PUCT Monte Carlo tree search over flat arrays, driven by Numba kernels.

The tree
--------
Every node is an index into a set of parallel numpy arrays (``Tree``). A
node's children sit next to each other: ``first[n] .. first[n] + nchild[n] - 1``.
Per node:

- ``move``: the flat point played to reach it (``-1`` = pass);
- ``prior``: the policy prior of that move (renormalized over legal moves);
- ``N``/``W``/``W2``: visits, sum and sum of squares of the values backed up
  through it, **from the view of the player who moved into the node**;
- ``VL``: virtual losses currently on it (each counts as one visit with value -1
  for the player who moved into it, while a leaf below it waits for evaluation);
- ``state``: ``UNEXPANDED``, ``PENDING`` (picked as a leaf, waiting for the
  evaluator), ``EXPANDED`` or ``TERMINAL`` (two passes in a row; ``tval`` holds
  its exact value for the player to move there).

Positions are not stored in the tree. Selection replays the moves from the root
position on a scratch copy (``S``/``meta`` of the leaf), with the kernels'
``k_play_scratch``. Legality below the root uses ``k_legal_basic`` (simple ko
and the suicide rule); **positional/situational superko is only
enforced for the root's children** (``k_legal`` with the game's hash history).
A terminal node (two passes) is scored by area (Tromp-Taylor) with komi and any
handicap bonus; territory-scoring games are also scored by area inside the tree.

Values
------
Evaluators return values in [-1, 1] from the view of the player to move at the
evaluated position (1 = that player wins). ``analysis`` reports winrates in
[0, 1] for the player to move at the root.

Batching
--------
``Search.run(visits, evaluator, batch_size)`` selects up to ``batch_size``
leaves under virtual loss, calls ``evaluator(leaves)`` once per batch, then
expands and backs up all of them. ``run_many`` does the same for several trees
(several self-play games) with one evaluator call per round.

An evaluator is a callable ``evaluator(leaves: LeafBatch) -> (priors, values)``
with ``priors`` float [n, size*size + 1] (row-major points, pass last; need not
be normalized, only the legal entries are used) and ``values`` float [n].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from go_engine import kernels as K
from go_engine.coords import PASS, index_names, move_index
from go_engine.features import HISTORY, NUM_PLANES, global_features, history_ring, k_features
from go_engine.game import Game

UNEXPANDED, PENDING, EXPANDED, TERMINAL = 0, 1, 2, 3

__all__ = ["SearchConfig", "Tree", "Search", "LeafBatch", "UniformEvaluator", "NetworkEvaluator", "run_many"]


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _terminal_value(S, meta, komi):
    """Exact result for the player to move: +1 win, -1 loss, 0 draw (area score, komi)."""
    s = K.k_area_score(S, meta) - komi
    if s == 0:
        return 0.0
    v = 1.0 if s > 0 else -1.0
    return v if meta[K.M_TOMOVE] == K.BLACK else -v


@njit(cache=True)
def _backup(N, W, W2, VL, path, plen, v, remove_vl):
    """Add value ``v`` (for the player to move at the path's last node) along the path."""
    x = -v
    for i in range(plen - 1, -1, -1):
        nd = path[i]
        N[nd] += 1
        W[nd] += x
        W2[nd] += x * x
        if remove_vl:
            VL[nd] -= 1
        x = -x


@njit(cache=True)
def _remove_vl(VL, path, plen):
    for i in range(plen):
        VL[path[i]] -= 1


@njit(cache=True)
def _pick_child(first, nchild, prior, N, W, VL, nd, c_puct, fpu_red):
    """The PUCT choice among ``nd``'s children (``nd`` expanded with at least one child)."""
    n_parent = N[nd] + VL[nd]
    sqrt_parent = math.sqrt(max(n_parent, 1))
    parent_q = -W[nd] / N[nd] if N[nd] > 0 else 0.0  # for the player to move at nd
    f = first[nd]
    k = nchild[nd]
    seen_prior = 0.0
    for j in range(f, f + k):
        if N[j] + VL[j] > 0:
            seen_prior += prior[j]
    fpu = parent_q - fpu_red * math.sqrt(seen_prior)
    best = f
    best_score = -1e30
    for j in range(f, f + k):
        n = N[j] + VL[j]
        if n > 0:
            q = (W[j] - VL[j]) / n
        else:
            q = fpu
        s = q + c_puct * prior[j] * sqrt_parent / (1.0 + n)
        if s > best_score:
            best_score = s
            best = j
    return best


@njit(cache=True)
def k_select_batch(first, nchild, move, prior, N, W, W2, VL, state, tval,
                   root, c_puct, fpu_red, fpu_root, komi,
                   rootS, rootMeta, rootRing, rootHead, rootCount, use_ring,
                   max_leaves, bS, bMeta, bRing, bHead, bCount, paths, plen, leaves, capbuf):
    """Select up to ``max_leaves`` leaves from ``root`` with PUCT under virtual loss.

    Leaf ``i`` gets its node in ``leaves[i]``, its path in ``paths[i, :plen[i]]``
    and its position in ``bS[i]``/``bMeta[i]`` (and, with ``use_ring``, its
    colour history in ``bRing[i]``/``bHead[i]``/``bCount[i]``); it is marked
    ``PENDING`` and keeps its virtual loss until ``k_expand_batch``. Terminal
    leaves are backed up at once. Stops early when a selection runs into a
    pending leaf. Returns (leaves to evaluate, terminal visits done)."""
    maxd = paths.shape[1]
    n_eval = 0
    n_term = 0
    while n_eval + n_term < max_leaves:
        i = n_eval
        S = bS[i]
        meta = bMeta[i]
        S[:, :] = rootS
        meta[:] = rootMeta
        head = rootHead
        count = rootCount
        if use_ring:
            bRing[i, :, :] = rootRing
        path = paths[i]
        nd = root
        d = 0
        path[0] = nd
        VL[nd] += 1
        d = 1
        while state[nd] == EXPANDED and nchild[nd] > 0:
            red = fpu_root if nd == root else fpu_red
            ch = _pick_child(first, nchild, prior, N, W, VL, nd, c_puct, red)
            K.k_play_scratch(S, meta, move[ch], capbuf)
            if use_ring:
                head = (head + 1) % bRing.shape[1]
                bRing[i, head, :] = S[K.COLOR]
                count += 1
            nd = ch
            path[d] = nd
            VL[nd] += 1
            d += 1
            if d >= maxd - 1:
                break
        st = state[nd]
        if st == PENDING:
            _remove_vl(VL, path, d)
            break
        if st == TERMINAL:
            _backup(N, W, W2, VL, path, d, tval[nd], True)
            n_term += 1
            continue
        if meta[K.M_PASSES] >= 2 or d >= maxd - 1:
            v = _terminal_value(S, meta, komi)
            state[nd] = TERMINAL
            tval[nd] = v
            _backup(N, W, W2, VL, path, d, v, True)
            n_term += 1
            continue
        state[nd] = PENDING
        leaves[i] = nd
        plen[i] = d
        bHead[i] = head
        bCount[i] = count
        n_eval += 1
    return n_eval, n_term


@njit(cache=True)
def k_expand_batch(first, nchild, move, prior, N, W, W2, VL, state, tval, count,
                   root, rootS, rootMeta, rootHist, n_leaves, leaves, paths, plen, bS, bMeta,
                   priors, values, legal_buf, prior_buf):
    """Expand the ``n_leaves`` pending leaves with the evaluator's ``priors`` and back up ``values``.

    Children are appended from index ``count`` (the caller makes room for
    ``n_leaves * (size*size + 1)`` more nodes). Returns the new node count."""
    for i in range(n_leaves):
        nd = leaves[i]
        S = bS[i]
        meta = bMeta[i]
        size = meta[K.M_SIZE]
        n = meta[K.M_STRIDE]
        c = meta[K.M_TOMOVE]
        allow = meta[K.M_SUICIDE] != 0
        k = 0
        total = 0.0
        for r in range(size):
            for col in range(size):
                p = (r + 1) * n + col + 1
                if S[K.COLOR, p] != K.EMPTY:
                    continue
                if nd == root:
                    code = K.k_legal(rootS, rootMeta, rootHist, p, c)
                else:
                    code = K.k_legal_basic(S, meta, p, c, allow)
                if code <= K.OK_SUICIDE:
                    legal_buf[k] = p
                    pr = max(priors[i, r * size + col], 0.0)
                    prior_buf[k] = pr
                    total += pr
                    k += 1
        legal_buf[k] = -1
        pr = max(priors[i, size * size], 0.0)
        prior_buf[k] = pr
        total += pr
        k += 1
        first[nd] = count
        nchild[nd] = k
        for j in range(k):
            ch = count + j
            move[ch] = legal_buf[j]
            prior[ch] = prior_buf[j] / total if total > 0 else 1.0 / k
            N[ch] = 0
            W[ch] = 0.0
            W2[ch] = 0.0
            VL[ch] = 0
            state[ch] = UNEXPANDED
            tval[ch] = 0.0
            first[ch] = -1
            nchild[ch] = 0
        count += k
        state[nd] = EXPANDED
        v = min(max(values[i], -1.0), 1.0)
        _backup(N, W, W2, VL, paths[i], plen[i], v, True)
    return count


@njit(cache=True)
def k_compact(first, nchild, move, prior, N, W, W2, VL, state, tval, new_root,
              f2, c2, m2, p2, n2, w2, ww2, vl2, s2, t2):
    """Copy the subtree under ``new_root`` into the second set of arrays, root at 0. Returns its size."""
    order = np.empty(first.shape[0], dtype=np.int64)  # old index of each new node
    order[0] = new_root
    cnt = 1
    qi = 0
    while qi < cnt:
        o = order[qi]
        m2[qi] = move[o]
        p2[qi] = prior[o]
        n2[qi] = N[o]
        w2[qi] = W[o]
        ww2[qi] = W2[o]
        vl2[qi] = 0
        s2[qi] = state[o] if state[o] != PENDING else UNEXPANDED
        t2[qi] = tval[o]
        if state[o] == EXPANDED and nchild[o] > 0:
            f2[qi] = cnt
            c2[qi] = nchild[o]
            for j in range(nchild[o]):
                order[cnt] = first[o] + j
                cnt += 1
        else:
            f2[qi] = -1
            c2[qi] = 0
        qi += 1
    return cnt


# --------------------------------------------------------------------------- tree
class Tree:
    """The flat node arrays, grown on demand (node 0 is the root after a reset)."""

    FIELDS = (("first", np.int32), ("nchild", np.int32), ("move", np.int32), ("prior", np.float32),
              ("N", np.int32), ("W", np.float64), ("W2", np.float64), ("VL", np.int32),
              ("state", np.int8), ("tval", np.float32))

    def __init__(self, capacity: int = 4096) -> None:
        for name, dt in self.FIELDS:
            setattr(self, name, np.zeros(capacity, dtype=dt))
        self.reset()

    @property
    def capacity(self) -> int:
        return self.first.shape[0]

    def reset(self) -> None:
        """One unexpanded root at index 0."""
        self.count = 1
        self.root = 0
        self.first[0] = -1
        self.nchild[0] = 0
        self.move[0] = PASS
        self.prior[0] = 1.0
        self.N[0] = 0
        self.W[0] = 0.0
        self.W2[0] = 0.0
        self.VL[0] = 0
        self.state[0] = UNEXPANDED
        self.tval[0] = 0.0

    def arrays(self) -> tuple:
        return tuple(getattr(self, name) for name, _ in self.FIELDS)

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more nodes."""
        need = self.count + extra
        if need <= self.capacity:
            return
        cap = max(need, 2 * self.capacity)
        for name, dt in self.FIELDS:
            old = getattr(self, name)
            new = np.zeros(cap, dtype=dt)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)

    def children(self, nd: int) -> range:
        f = int(self.first[nd])
        return range(f, f + int(self.nchild[nd])) if f >= 0 else range(0)

    def reroot(self, child: int) -> None:
        """Keep only the subtree under ``child``, which becomes the root (index 0)."""
        new = [np.zeros(self.capacity, dtype=dt) for _, dt in self.FIELDS]
        self.count = int(k_compact(*self.arrays(), child, *new))
        for (name, _), arr in zip(self.FIELDS, new):
            setattr(self, name, arr)
        self.root = 0


# --------------------------------------------------------------------------- leaves and evaluators
@dataclass
class LeafBatch:
    """Positions to evaluate: ``n`` leaves; row ``i`` of each array is leaf ``i``.

    ``S``/``meta`` are kernel positions; ``ring``/``head``/``count`` the padded
    colour arrays of the last ``HISTORY`` positions (filled only when the
    evaluator sets ``needs_history``)."""

    n: int
    size: int
    S: np.ndarray
    meta: np.ndarray
    ring: np.ndarray
    head: np.ndarray
    count: np.ndarray
    komi: float
    ko_rule: int
    suicide: bool
    territory: bool

    def __len__(self) -> int:
        return self.n

    def to_move(self, i: int) -> int:
        return int(self.meta[i, K.M_TOMOVE])


class UniformEvaluator:
    """Uniform priors and value 0: measures the search itself."""

    needs_history = False

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def __call__(self, leaves: LeafBatch) -> tuple[np.ndarray, np.ndarray]:
        a = leaves.size * leaves.size + 1
        key = (a, len(leaves))
        p = self._cache.get(key)
        if p is None:
            p = self._cache[key] = np.full((len(leaves), a), 1.0 / a, dtype=np.float32)
        return p, np.zeros(len(leaves), dtype=np.float32)


def leaf_features(leaves: LeafBatch, num_planes: int = NUM_PLANES, sym: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs of every leaf: planes uint8 [n, num_planes, size, size] (the first ``num_planes``
    of the newest feature version: what the network reads), globals float32 [n, G]."""
    n, s = len(leaves), leaves.size
    planes = np.zeros((n, num_planes, s, s), dtype=np.uint8)
    globs = []
    for i in range(n):
        k_features(leaves.S[i], leaves.meta[i], leaves.ring[i], int(leaves.head[i]), int(leaves.count[i]),
                   sym, planes[i])
        globs.append(global_features(leaves.komi, leaves.to_move(i), leaves.ko_rule, leaves.suicide,
                                     leaves.territory))
    return planes, np.stack(globs)


class NetworkEvaluator:
    """Priors and values from a ``GoNet`` (or any module with its forward signature), on ``device``.

    Value = tanh(value_logit / 2) = 2 * sigmoid(logit) - 1. History planes are
    exact: the leaf's ring holds the colours of the positions along the game and
    the tree path. Features use the identity symmetry."""

    needs_history = True

    def __init__(self, model, device: str = "cpu", prepare: bool = True) -> None:
        import torch

        self.torch = torch
        self.num_planes = model.cfg.in_planes  # the feature version's planes the network reads
        model = model.to(device).eval()
        if prepare:  # batch norm folded, channels_last, fused kernels: the same outputs, faster
            from policy.inference import prepare_for_inference

            model = prepare_for_inference(model, device)
        self.model = model
        self.device = device

    def __call__(self, leaves: LeafBatch) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        planes, globs = leaf_features(leaves, self.num_planes)
        with torch.inference_mode():
            out = self.model(torch.from_numpy(planes).to(self.device, torch.float32),
                             torch.from_numpy(globs).to(self.device))
            pri = torch.softmax(out["policy"].float(), dim=1).cpu().numpy()
            val = torch.tanh(out["value"].float() * 0.5).cpu().numpy()
        return pri, val


# --------------------------------------------------------------------------- search
@dataclass
class SearchConfig:
    c_puct: float = 1.25
    fpu_reduction: float = 0.25
    fpu_root_reduction: float | None = None  # None: same as fpu_reduction
    noise_alpha: float | None = None  # Dirichlet noise at the root (self-play), e.g. 0.03 * 361 / legal moves
    noise_fraction: float = 0.25
    lcb_z: float = 1.96  # LCB = mean - lcb_z * stderr
    lcb_min_visits: int = 5
    lcb_min_fraction: float = 0.1  # a move takes part in the LCB check with >= this fraction of the top visits
    max_batch: int = 256


def _game_ring(game: Game) -> tuple[np.ndarray, int, int]:
    """Colour arrays of the last ``HISTORY`` positions of ``game`` (head row = current)."""
    ring, count = history_ring(game)
    return ring, 0, count


class Search:
    """A search tree over the current position of a copy of ``game``."""

    def __init__(self, game: Game, config: SearchConfig | None = None, seed: int | None = None) -> None:
        self.cfg = config or SearchConfig()
        self.noise_alpha = self.cfg.noise_alpha  # of the root noise now; set_root_noise changes it
        self.rng = np.random.default_rng(seed)
        self.tree = Tree()
        self._set_game(game.copy())
        self._alloc(self.cfg.max_batch)

    # -- setup
    def _set_game(self, game: Game) -> None:
        self.game = game
        self.size = game.size
        self.A = game.size * game.size + 1
        self.komi = game.komi + game.rules.bonus(game.handicap)
        self.ring, self.ring_head, self.ring_count = _game_ring(game)
        self._noised = False
        self._excluded = np.zeros(0, dtype=np.int64)  # root moves kept out of the search
        self._exclusion_done = False

    def _alloc(self, b: int) -> None:
        L = self.game._L
        self._B = b
        self._bS = np.zeros((b, K.NROWS, L), dtype=np.int32)
        self._bMeta = np.zeros((b, K.NMETA), dtype=np.int64)
        self._bRing = np.zeros((b, HISTORY, L), dtype=np.int8)
        self._bHead = np.zeros(b, dtype=np.int64)
        self._bCount = np.zeros(b, dtype=np.int64)
        self._paths = np.zeros((b, 2 * self.A + 16), dtype=np.int64)
        self._plen = np.zeros(b, dtype=np.int64)
        self._leaves = np.zeros(b, dtype=np.int64)
        self._capbuf = np.zeros(2 * L, dtype=np.int32)
        self._legal = np.zeros(self.A + 1, dtype=np.int64)
        self._pbuf = np.zeros(self.A + 1, dtype=np.float64)
        self._pending = 0

    @property
    def root(self) -> int:
        return self.tree.root

    @property
    def root_visits(self) -> int:
        return int(self.tree.N[self.tree.root])

    def exclude_root_moves(self, points) -> None:
        """Keep the search off these root moves (points as ``Game._point`` gives them, ``PASS`` for a
        pass), as analysis ``avoid``/``allow`` ask. Call before the first visit; ignored if it would
        leave no legal move."""
        if self.root_visits > 0:
            raise ValueError("exclude root moves before searching")
        self._excluded = np.array(sorted({int(p) for p in points}), dtype=np.int64)
        self._exclusion_done = False

    def _exclude(self) -> None:
        """Once the root is expanded: excluded children get no prior and a virtual loss that PUCT never
        overcomes, and ``_child_stats`` leaves them out."""
        t = self.tree
        ch = np.arange(t.first[t.root], t.first[t.root] + t.nchild[t.root])
        out = np.isin(t.move[ch], self._excluded)
        if out.all():
            self._excluded = np.zeros(0, dtype=np.int64)
        else:
            t.prior[ch[out]] = 0.0
            t.VL[ch[out]] = 1 << 30
        self._exclusion_done = True

    # -- the two halves of a batch
    def _gather(self, k: int, use_ring: bool) -> tuple[int, int]:
        """Select up to ``k`` leaves; returns (leaves waiting for evaluation, terminal visits done)."""
        if self.game.is_over:
            raise ValueError("the game is over: nothing to search")
        if len(self._excluded) and not self._exclusion_done and self.tree.state[self.tree.root] == EXPANDED:
            self._exclude()
        if k > self._B:
            self._alloc(k)
        t = self.tree
        cfg = self.cfg
        fpu_root = cfg.fpu_reduction if cfg.fpu_root_reduction is None else cfg.fpu_root_reduction
        g = self.game
        ne, nt = k_select_batch(*t.arrays(), t.root, cfg.c_puct, cfg.fpu_reduction, fpu_root, self.komi,
                                g._S, g._meta, self.ring, self.ring_head, self.ring_count, use_ring,
                                k, self._bS, self._bMeta, self._bRing, self._bHead, self._bCount,
                                self._paths, self._plen, self._leaves, self._capbuf)
        self._pending = int(ne)
        return int(ne), int(nt)

    def _batch(self) -> LeafBatch:
        n = self._pending
        r = self.game.rules
        return LeafBatch(n, self.size, self._bS[:n], self._bMeta[:n], self._bRing[:n], self._bHead[:n],
                         self._bCount[:n], self.komi, r.ko_code, bool(r.suicide), r.scoring == "territory")

    def _apply(self, priors: np.ndarray, values: np.ndarray) -> None:
        n = self._pending
        if n == 0:
            return
        t = self.tree
        t.reserve(n * self.A)
        g = self.game
        priors = np.ascontiguousarray(priors, dtype=np.float32).reshape(n, self.A)
        values = np.ascontiguousarray(values, dtype=np.float32).reshape(n)
        t.count = int(k_expand_batch(*t.arrays(), t.count, t.root, g._S, g._meta, g._hist, n, self._leaves,
                                     self._paths, self._plen, self._bS, self._bMeta, priors, values,
                                     self._legal, self._pbuf))
        self._pending = 0
        self._maybe_noise()

    def _maybe_noise(self) -> None:
        cfg = self.cfg
        t = self.tree
        if self.noise_alpha is None or self._noised or t.state[t.root] != EXPANDED:
            return
        ch = t.children(t.root)
        noise = self.rng.dirichlet(np.full(len(ch), self.noise_alpha))
        p = t.prior[ch.start:ch.stop].astype(np.float64)
        p = (1 - cfg.noise_fraction) * p + cfg.noise_fraction * noise
        t.prior[ch.start:ch.stop] = p / p.sum()
        self._noised = True

    def run(self, visits: int, evaluator, batch_size: int = 16) -> int:
        """Add ``visits`` visits to the tree; returns the number done."""
        use_ring = bool(getattr(evaluator, "needs_history", True))
        done = 0
        while done < visits:
            ne, nt = self._gather(min(batch_size, visits - done), use_ring)
            if ne:
                try:
                    pri, val = evaluator(self._batch())
                    self._apply(pri, val)
                except BaseException:
                    self._abort()
                    raise
            done += ne + nt
        return done

    def _abort(self) -> None:
        """Drop the pending leaves (the evaluator failed): remove their virtual losses."""
        t = self.tree
        for i in range(self._pending):
            nd = int(self._leaves[i])
            if t.state[nd] == PENDING:
                t.state[nd] = UNEXPANDED
            t.VL[self._paths[i, : self._plen[i]]] -= 1
        self._pending = 0

    # -- moves
    def _point(self, move) -> int:
        if isinstance(move, (int, np.integer)):
            return int(move)
        return self.game._point(move)

    def advance(self, move) -> bool:
        """Play ``move`` (GTP vertex or flat point) at the root; keep its subtree if there is one.

        Returns whether a subtree was reused."""
        p = self._point(move)
        t = self.tree
        child = -1
        if t.state[t.root] == EXPANDED:
            for j in t.children(t.root):
                if t.move[j] == p:
                    child = j
                    break
        g = self.game
        g.play("pass" if p == PASS else index_names(self.size)[p])
        self._set_game(g)
        if child >= 0 and t.N[child] > 0 and not g.is_over:
            t.reroot(child)
            if t.state[0] == TERMINAL:
                t.reset()
            self._maybe_noise()
            return True
        t.reset()
        return False

    def set_game(self, game: Game) -> None:
        """Search a new position from scratch."""
        self._set_game(game.copy())
        self.tree.reset()

    # -- results
    def _child_stats(self):
        t = self.tree
        ch = np.arange(t.first[t.root], t.first[t.root] + t.nchild[t.root]) if t.state[t.root] == EXPANDED \
            else np.zeros(0, dtype=np.int64)
        if self._exclusion_done and len(self._excluded):
            ch = ch[~np.isin(t.move[ch], self._excluded)]
        n = t.N[ch].astype(np.float64)
        mean = np.where(n > 0, t.W[ch] / np.maximum(n, 1), 0.0)
        var = np.where(n > 1, np.maximum(t.W2[ch] / np.maximum(n, 1) - mean ** 2, 0.0) * n / np.maximum(n - 1, 1),
                       1.0)
        var = np.maximum(var, 1e-4)
        lcb = np.where(n >= 2, mean - self.cfg.lcb_z * np.sqrt(var / np.maximum(n, 1)), -2.0)
        return ch, n, mean, lcb

    def set_root_noise(self, alpha: float | None) -> None:
        """Dirichlet noise of concentration ``alpha`` on the root's priors from now on (self-play's full
        searches): mixed in once the root is expanded, at once if it already is, and at each new root
        that ``advance`` reaches; ``None`` adds no more."""
        self.noise_alpha = alpha
        self._maybe_noise()

    def choose(self, temperature: float = 0.0, rng: np.random.Generator | None = None) -> int:
        """The chosen root move as a flat point (``-1`` pass).

        With ``temperature > 0`` the move is drawn with probability proportional
        to visits ** (1 / temperature). At 0 it is the most-visited move, unless
        another move with enough visits has a higher lower confidence bound."""
        ch, n, mean, lcb = self._child_stats()
        t = self.tree
        if len(ch) == 0 or n.sum() == 0:
            raise ValueError("no visited move at the root: run the search first")
        if temperature > 0:
            rng = rng or self.rng
            w = n / n.max()
            w = np.where(n > 0, w ** (1.0 / temperature), 0.0)
            return int(t.move[ch[rng.choice(len(ch), p=w / w.sum())]])
        best = int(np.argmax(n))
        cfg = self.cfg
        well = (n >= max(cfg.lcb_min_visits, cfg.lcb_min_fraction * n[best])) & (n >= 2)
        if well.any():
            cand = int(np.argmax(np.where(well, lcb, -np.inf)))
            if lcb[cand] > lcb[best]:
                best = cand
        return int(t.move[ch[best]])

    def choose_by_prior(self) -> int:
        """The legal root move the network likes best (no search): a flat point, ``-1`` pass."""
        ch, _, _, _ = self._child_stats()
        if len(ch) == 0:
            raise ValueError("the root is not expanded: run the search first")
        t = self.tree
        return int(t.move[ch[int(np.argmax(t.prior[ch]))]])

    def choose_vertex(self, temperature: float = 0.0, rng=None, by_prior: bool = False) -> str:
        p = self.choose_by_prior() if by_prior else self.choose(temperature, rng)
        return "pass" if p == PASS else index_names(self.size)[p]

    def policy_target(self) -> np.ndarray:
        """Root visit distribution over the ``size*size + 1`` moves (training target)."""
        ch, n, _, _ = self._child_stats()
        out = np.zeros(self.A, dtype=np.float32)
        for j, c in enumerate(ch):
            out[move_index(int(self.tree.move[c]), self.size)] = n[j]
        s = out.sum()
        return out / s if s > 0 else out

    def _pv(self, nd: int, limit: int = 32) -> list[str]:
        t = self.tree
        names = index_names(self.size)
        out = []
        while len(out) < limit:
            m = int(t.move[nd])
            out.append("pass" if m == PASS else names[m])
            if t.state[nd] != EXPANDED:
                break
            ch = t.children(nd)
            vis = t.N[ch.start:ch.stop]
            if len(vis) == 0 or vis.max() == 0:
                break
            nd = ch.start + int(np.argmax(vis))
        return out

    def analysis(self, max_moves: int | None = None, min_moves: int = 0) -> list[dict]:
        """Visited root moves, most visited first: move, visits, winrate and LCB (0..1, for the
        player to move at the root), prior, principal variation (list of vertices). Unvisited
        moves follow, highest prior first, until there are ``min_moves`` (their winrate is the
        root's, their LCB 0); at most ``max_moves`` in all."""
        ch, n, mean, lcb = self._child_stats()
        t = self.tree
        order = sorted((j for j in range(len(ch)) if n[j] > 0), key=lambda j: (-n[j], -mean[j]))
        if len(order) < min_moves:
            rest = sorted((j for j in range(len(ch)) if n[j] == 0), key=lambda j: -t.prior[ch[j]])
            order += rest[: min_moves - len(order)]
        if max_moves is not None:
            order = order[:max_moves]
        root_wr = (self.root_value() + 1) / 2
        out = []
        for rank, j in enumerate(order):
            pv = self._pv(int(ch[j]))
            visited = n[j] > 0
            out.append({"move": pv[0], "visits": int(n[j]),
                        "winrate": float((mean[j] + 1) / 2) if visited else root_wr,
                        "prior": float(t.prior[ch[j]]), "lcb": float(max(0.0, (lcb[j] + 1) / 2)) if visited else 0.0,
                        "order": rank, "pv": pv})
        return out

    def root_value(self) -> float:
        """Mean value for the player to move at the root, in [-1, 1]."""
        t = self.tree
        r = t.root
        return float(-t.W[r] / t.N[r]) if t.N[r] > 0 else 0.0


def run_many(searches: list[Search], visits: int, evaluator, batch_size: int = 8) -> None:
    """Add ``visits`` visits to each search; each round sends the leaves of all trees to one evaluator call.

    All searches must be on boards of the same size."""
    if not searches:
        return
    use_ring = bool(getattr(evaluator, "needs_history", True))
    done = [0] * len(searches)
    while True:
        active = [i for i, s in enumerate(searches) if done[i] < visits and not s.game.is_over]
        if not active:
            return
        batches = []
        for i in active:
            s = searches[i]
            ne, nt = s._gather(min(batch_size, visits - done[i]), use_ring)
            done[i] += ne + nt
            if ne:
                batches.append((i, s._batch()))
        if not batches:
            continue
        b0 = batches[0][1]
        merged = LeafBatch(sum(b.n for _, b in batches), b0.size,
                           *(np.concatenate([getattr(b, f) for _, b in batches])
                             for f in ("S", "meta", "ring", "head", "count")),
                           b0.komi, b0.ko_rule, b0.suicide, b0.territory)
        try:
            if len({(b.komi, b.ko_rule, b.suicide, b.territory) for _, b in batches}) > 1:
                # the globals come from one komi and rule set per batch: evaluate per game when they differ
                results = [evaluator(b) for _, b in batches]
            else:
                pri, val = evaluator(merged)
                results, k = [], 0
                for _, b in batches:
                    results.append((pri[k:k + b.n], val[k:k + b.n]))
                    k += b.n
        except BaseException:
            for i, _ in batches:
                searches[i]._abort()
            raise
        for (i, _), (p, v) in zip(batches, results):
            searches[i]._apply(p, v)
