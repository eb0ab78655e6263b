"""PUCT Monte Carlo tree search over flat arrays, driven by Numba kernels.

The tree's layout, node states and kernels are in ``selfplay.tree``; this module drives them.

Values, scores and ownership
----------------------------
Every visit backs up one leaf: the evaluator's value and score of a new leaf,
or the exact result of a terminal one. So a node's mean value and mean score
are the visit-weighted averages of the leaf estimates in its subtree, as in
KataGo. Its score spread (``scoreStdev`` in ``analysis``) is the standard
deviation of those leaf scores; KataGo adds each leaf's own predicted spread
(its network has a score-variance head, Tengen's has not), so Tengen's figure
measures how much the search's lines disagree, not the uncertainty left in each.

With ``Search.track_ownership`` on, every visit also adds its leaf's ownership
(the evaluator's, or the exact Tromp-Taylor owners of a terminal position),
turned to the root player's view, to a sum of the root and one of the root
child it went through: the root's mean is KataGo's search-weighted ownership
(each node of the tree counted once per visit through it), its spread
``ownershipStdev``. The child sums keep the ownership of a subtree that tree
reuse turns into the root; the sums cost nothing when tracking is off.

Evaluators return values in [-1, 1] and scores in points, both from the view of
the player to move at the evaluated position (1 = that player wins, a positive
score = that player leads). ``analysis`` reports winrates in [0, 1] and scores
for the player to move at the root.

Batching
--------
``Search.run(visits, evaluator, batch_size)`` selects up to ``batch_size``
leaves under virtual loss, calls ``evaluator(leaves)`` once per batch, then
expands and backs up all of them. ``search_round`` does the same for several
trees (games, or the positions of an analysis) with one evaluator call per
board size and rule set; ``run_many`` repeats it.

An evaluator is a callable ``evaluator(leaves: LeafBatch) -> Evaluation``
(``selfplay.evaluators`` has the uniform, network and random-playout ones); an
attribute ``needs_history = False`` spares the search filling the leaves'
colour history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from go_engine import kernels as K
from go_engine.coords import PASS, index_names, move_index
from go_engine.features import HISTORY, history_ring
from go_engine.game import Game

from .tree import EXPANDED, ILLEGAL, PENDING, TERMINAL, UNEXPANDED, Tree, k_expand_batch, k_select_batch, score_utility

__all__ = ["SearchConfig", "Search", "LeafBatch", "Evaluation", "Ownership", "search_round", "run_many"]


# --------------------------------------------------------------------------- leaves and evaluations
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

    @property
    def rules_key(self) -> tuple:
        """What the leaves of one evaluator call must share: board size, komi and rules."""
        return self.size, self.komi, self.ko_rule, self.suicide, self.territory

    @staticmethod
    def concat(batches: Sequence["LeafBatch"]) -> "LeafBatch":
        """The leaves of several batches with the same ``rules_key`` as one batch."""
        b0 = batches[0]
        if len(batches) == 1:
            return b0
        return LeafBatch(sum(b.n for b in batches), b0.size,
                         *(np.concatenate([getattr(b, f) for b in batches]) for f in ("S", "meta", "ring", "head", "count")),
                         b0.komi, b0.ko_rule, b0.suicide, b0.territory)


@dataclass
class Evaluation:
    """What an evaluator says about ``n`` leaves, each from the view of the player to move there.

    ``priors``: float [n, size*size + 1], row-major points then pass (need not be
    normalized; only the legal entries are used); ``values``: float [n] in
    [-1, 1] (1 = a win); ``scores``: float [n], the expected final score lead in
    points; ``ownership``: float [n, size, size] in [-1, 1] (+1 = that player's
    point at the end), or None when the evaluator has no such estimate."""

    priors: np.ndarray
    values: np.ndarray
    scores: np.ndarray
    ownership: np.ndarray | None = None

    def rows(self, start: int, stop: int) -> "Evaluation":
        """The evaluation of leaves ``start .. stop - 1``."""
        own = None if self.ownership is None else self.ownership[start:stop]
        return Evaluation(self.priors[start:stop], self.values[start:stop], self.scores[start:stop], own)


@dataclass
class Ownership:
    """The search's ownership of every point, from the view of the player to move at the root
    (+1 = that player's at the end): ``mean`` and ``stdev`` float [size, size] (row 0 = GTP row 1)
    over ``visits`` visits."""

    mean: np.ndarray
    stdev: np.ndarray
    visits: int


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
    # Score utility (KataGo's dynamic one): PUCT adds score_utility * 2/pi * atan((s - c) / (score_scale *
    # board width)) to a child's mean value, s its mean score and c the root's, so that among moves of
    # about the same win rate the one that keeps more points leads; 0 turns it off.
    score_utility: float = 0.0
    score_scale: float = 0.75
    # Policy temperature (KataGo's nnPolicyTemperature, Lc0's PolicyTemperature): every node's priors are
    # p ** (1 / T) renormalized, the same as the network's logits divided by T; above 1 the search gives
    # moves the network ranks low (an opponent's killing reply) more visits, at the cost of depth.
    policy_temperature: float = 1.0

    def __post_init__(self) -> None:
        if not self.policy_temperature > 0:
            raise ValueError(f"policy_temperature must be above 0, got {self.policy_temperature!r}")


def _game_ring(game: Game) -> tuple[np.ndarray, int, int]:
    """Colour arrays of the last ``HISTORY`` positions of ``game`` (head row = current)."""
    ring, count = history_ring(game)
    return ring, 0, count


_NO_OWN = np.zeros((2, 1, 1), dtype=np.float32)  # the ownership sums (one row) when nothing is tracked
_NO_OWN_N = np.zeros(1, dtype=np.int64)
_NO_OWN_IN = np.zeros((1, 1), dtype=np.float32)


def _stats(n: np.ndarray, total: np.ndarray, squares: np.ndarray, sample: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance from visit counts, sums and sums of squares (0 where there are no visits;
    ``sample``: the unbiased variance, 1 below two visits)."""
    m = np.maximum(n, 1)
    mean = np.where(n > 0, total / m, 0.0)
    var = np.maximum(squares / m - mean ** 2, 0.0)
    if sample:
        var = np.where(n > 1, var * n / np.maximum(n - 1, 1), 1.0)
    return mean, var


class Search:
    """A search tree over the current position of a copy of ``game``.

    ``track_ownership``: also sum the leaves' ownership (see the module docstring),
    for ``root_ownership`` and the moves' ``ownership`` in ``analysis``."""

    def __init__(self, game: Game, config: SearchConfig | None = None, seed: int | None = None,
                 track_ownership: bool = False) -> None:
        self.cfg = config or SearchConfig()
        self.noise_alpha = self.cfg.noise_alpha  # of the root noise now; set_root_noise changes it
        self.rng = np.random.default_rng(seed)
        self.tree = Tree()
        self._own: np.ndarray | None = None
        self._dead = np.zeros(0, dtype=np.int8)  # count_dead_stones's colours (padded), kept with the tree
        self._set_game(game.copy())
        self._alloc(0)  # the leaf buffers grow to the largest batch asked for (_gather)
        self.track_ownership = track_ownership

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
        self._root_policy: np.ndarray | None = None

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
    def track_ownership(self) -> bool:
        return self._own is not None

    @track_ownership.setter
    def track_ownership(self, on: bool) -> None:
        if on and self._own is None:
            self._clear_ownership()
        elif not on:
            self._own = self._own_n = None

    def _clear_ownership(self) -> None:
        """Empty ownership sums (``[0]``) and squares (``[1]``): row 0 for the root, row ``1 + j`` for
        its child ``j``."""
        self._own = np.zeros((2, self.A + 1, self.size * self.size), dtype=np.float32)
        self._own_n = np.zeros(self.A + 1, dtype=np.int64)
        self._own_missing = False  # an evaluation without ownership was applied

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

    def count_dead_stones(self, points) -> None:
        """Count two passes in this tree with the stones now on these points (``Game._point``'s) taken
        off where they still stand: the count a scorer that removes dead stones makes, where
        Tromp-Taylor's leaves them standing. Call before the first visit."""
        if self.root_visits > 0:
            raise ValueError("set the dead stones before searching")
        color = self.game._S[K.COLOR]
        dead = np.zeros(len(color), dtype=np.int8)
        for p in points:
            dead[p] = color[p]
        self._dead = dead if dead.any() else np.zeros(0, dtype=np.int8)

    def _exclude(self) -> None:
        """Once the root is expanded: excluded children get no prior and a virtual loss that PUCT never
        overcomes, and ``_root_children`` leaves them out."""
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
    def _own_sums(self) -> tuple[np.ndarray, np.ndarray]:
        return (_NO_OWN, _NO_OWN_N) if self._own is None else (self._own, self._own_n)

    def _gather(self, k: int, use_ring: bool) -> tuple[int, int]:
        """Select up to ``k`` leaves; returns (leaves waiting for evaluation, terminal visits done)."""
        if self.game.is_over:
            raise ValueError("the game is over: nothing to search")
        if len(self._excluded) and not self._exclusion_done and self.tree.state[self.tree.root] == EXPANDED:
            self._exclude()
        if k > self._B:
            self._alloc(max(k, 16))
        t = self.tree
        cfg = self.cfg
        fpu_root = cfg.fpu_reduction if cfg.fpu_root_reduction is None else cfg.fpu_root_reduction
        g = self.game
        ne, nt = k_select_batch(*t.arrays(), t.root, cfg.c_puct, cfg.fpu_reduction, fpu_root, cfg.score_utility,
                                self._score_centre(), cfg.score_scale * self.size, self.komi, self._dead,
                                g._S, g._meta, g._hist, self.ring, self.ring_head, self.ring_count, use_ring,
                                k, self._bS, self._bMeta, self._bRing, self._bHead, self._bCount,
                                self._paths, self._plen, self._leaves, self._capbuf,
                                *self._own_sums())
        self._pending = int(ne)
        return int(ne), int(nt)

    def _batch(self) -> LeafBatch:
        n = self._pending
        r = self.game.rules
        return LeafBatch(n, self.size, self._bS[:n], self._bMeta[:n], self._bRing[:n], self._bHead[:n],
                         self._bCount[:n], self.komi, r.ko_code, bool(r.suicide), r.scoring == "territory")

    def _apply(self, ev: Evaluation) -> None:
        n = self._pending
        if n == 0:
            return
        t = self.tree
        t.reserve(n * self.A)
        g = self.game
        priors = np.ascontiguousarray(ev.priors, dtype=np.float32).reshape(n, self.A)
        if self.cfg.policy_temperature != 1.0:  # the kernel renormalizes them over each node's legal moves
            priors = np.maximum(priors, 0.0) ** np.float32(1.0 / self.cfg.policy_temperature)
        values = np.ascontiguousarray(ev.values, dtype=np.float32).reshape(n)
        scores = np.ascontiguousarray(ev.scores, dtype=np.float32).reshape(n)
        own, own_n = self._own_sums()
        own_in = _NO_OWN_IN
        if self._own is not None:
            if ev.ownership is None:
                self._own_missing = True
                own, own_n = _NO_OWN, _NO_OWN_N
            else:
                own_in = np.ascontiguousarray(ev.ownership, dtype=np.float32).reshape(n, self.size * self.size)
        fresh_root = t.state[t.root] != EXPANDED
        t.count = int(k_expand_batch(*t.arrays(), t.count, t.root, g._S, g._meta, g._hist, n, self._leaves,
                                     self._paths, self._plen, self._bS, self._bMeta, priors, values, scores,
                                     self._legal, self._pbuf, own_in, own, own_n))
        self._pending = 0
        if fresh_root:
            self._keep_root_policy()
        self._maybe_noise()

    def _keep_root_policy(self) -> None:
        """Note the root's priors as the search uses them: the evaluator's at the policy temperature,
        before noise and exclusions."""
        t = self.tree
        if t.state[t.root] == EXPANDED:
            ch = t.children(t.root)
            out = np.full(self.A, -1.0, dtype=np.float32)
            for c in ch:
                out[move_index(int(t.move[c]), self.size)] = t.prior[c]
            self._root_policy = out

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
                    self._apply(evaluator(self._batch()))
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
            row = child - int(t.first[t.root]) + 1
            t.reroot(child)
            if t.state[0] == TERMINAL:
                t.reset()
            if self._own is not None:  # the child's sums become the root's, turned to the new root player
                kept = self._own[:, row] * np.array([[-1.0], [1.0]], dtype=np.float32), int(self._own_n[row])
                missing = self._own_missing
                self._clear_ownership()
                if t.state[0] == EXPANDED:
                    self._own[:, 0], self._own_n[0], self._own_missing = *kept, missing
            self._keep_root_policy()
            self._maybe_noise()
            return t.state[0] != UNEXPANDED
        t.reset()
        if self._own is not None:
            self._clear_ownership()
        return False

    def set_game(self, game: Game) -> None:
        """Search a new position from scratch."""
        self._set_game(game.copy())
        self.tree.reset()
        if self._own is not None:
            self._clear_ownership()

    # -- results
    def _root_children(self) -> np.ndarray:
        """The root's children, those kept out of the search left out."""
        t = self.tree
        if t.state[t.root] != EXPANDED:
            return np.zeros(0, dtype=np.int64)
        ch = np.arange(t.first[t.root], t.first[t.root] + t.nchild[t.root])
        ch = ch[t.state[ch] != ILLEGAL]  # repetitions that the search keeps out (see _repeats)
        if self._exclusion_done and len(self._excluded):
            kept = ch[~np.isin(t.move[ch], self._excluded)]
            if len(kept):  # else every move left in repeats a position: the excluded ones are all there is
                ch = kept
        return ch

    def _lcb(self, n: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        """Lower confidence bound of mean values (-2 below two visits)."""
        var = np.maximum(var, 1e-4)
        return np.where(n >= 2, mean - self.cfg.lcb_z * np.sqrt(var / np.maximum(n, 1)), -2.0)

    def _child_stats(self):
        """Root children with visits, mean value (for the root player) and value LCB."""
        t = self.tree
        ch = self._root_children()
        n = t.N[ch].astype(np.float64)
        mean, var = _stats(n, t.W[ch], t.W2[ch], sample=True)
        return ch, n, mean, self._lcb(n, mean, var)

    def _score_centre(self) -> float:
        """The score utility's centre: the root's mean score for its player to move (0 before a visit)."""
        t = self.tree
        return -float(t.SC[t.root]) / float(t.N[t.root]) if t.N[t.root] > 0 else 0.0

    def _score_utilities(self, ch: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The score's part of each root child's utility, as the search weighs it (0 when it is off)."""
        cfg = self.cfg
        if cfg.score_utility <= 0 or self.tree.N[self.tree.root] == 0:
            return np.zeros(len(ch))
        centre = self._score_centre()
        score = np.where(n > 0, self.tree.SC[ch] / np.maximum(n, 1), centre)
        return score_utility(score, centre, cfg.score_utility, cfg.score_scale * self.size)

    def _ranked(self, n: np.ndarray, mean: np.ndarray, lcb: np.ndarray) -> list[int]:
        """Indices of the visited children, the move to play first: moves with enough visits
        (``lcb_min_visits``, ``lcb_min_fraction`` of the most visited) by LCB, then the others by visits."""
        vis = [j for j in range(len(n)) if n[j] > 0]
        if not vis:
            return []
        cfg = self.cfg
        well = (n >= max(cfg.lcb_min_visits, cfg.lcb_min_fraction * n.max())) & (n >= 2)
        return sorted(vis, key=lambda j: (not well[j], -lcb[j] if well[j] else 0.0, -n[j], -mean[j]))

    def set_root_noise(self, alpha: float | None) -> None:
        """Dirichlet noise of concentration ``alpha`` on the root's priors from now on (self-play's full
        searches): mixed in once the root is expanded, at once if it already is, and at each new root
        that ``advance`` reaches; ``None`` adds no more."""
        self.noise_alpha = alpha
        self._maybe_noise()

    def choose(self, temperature: float = 0.0, rng: np.random.Generator | None = None) -> int:
        """The chosen root move as a flat point (``-1`` pass).

        With ``temperature > 0`` the move is drawn with probability proportional
        to visits ** (1 / temperature). At 0 it is the first of ``analysis``: the
        most-visited move, unless another move with enough visits has a higher
        lower confidence bound."""
        ch, n, mean, lcb = self._child_stats()
        t = self.tree
        if len(ch) == 0 or n.sum() == 0:
            raise ValueError("no visited move at the root: run the search first")
        su = self._score_utilities(ch, n)
        if temperature > 0:
            rng = rng or self.rng
            w = n / n.max()
            w = np.where(n > 0, w ** (1.0 / temperature), 0.0)
            return int(t.move[ch[rng.choice(len(ch), p=w / w.sum())]])
        return int(t.move[ch[self._ranked(n, mean + su, lcb + su)[0]]])

    def choose_by_prior(self) -> int:
        """The legal root move the network likes best (no search): a flat point, ``-1`` pass."""
        ch = self._root_children()
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

    def root_policy(self) -> np.ndarray | None:
        """The evaluator's priors at the root, renormalized over the legal moves (row-major points,
        pass last; -1 for an illegal move), or None before the root is expanded."""
        return None if self._root_policy is None else self._root_policy.copy()

    def _pv(self, nd: int, limit: int) -> tuple[list[str], list[int]]:
        """The principal variation from ``nd`` (most visited child after child): moves and visits."""
        t = self.tree
        names = index_names(self.size)
        moves, visits = [], []
        while len(moves) < limit:
            m = int(t.move[nd])
            moves.append("pass" if m == PASS else names[m])
            visits.append(int(t.N[nd]))
            if t.state[nd] != EXPANDED:
                break
            ch = t.children(nd)
            vis = t.N[ch.start:ch.stop]
            if len(vis) == 0 or vis.max() == 0:
                break
            nd = ch.start + int(np.argmax(vis))
        return moves, visits

    def analysis(self, max_moves: int | None = None, min_moves: int = 0, pv_len: int = 32,
                 moves_ownership: bool = False) -> list[dict]:
        """The root moves as KataGo's analysis reports them, for the player to move at the root, in
        ``order`` (0: the move ``choose`` plays). Each a dict: ``move``, ``visits``, ``winrate`` (0..1),
        ``scoreMean`` = ``scoreLead`` = ``scoreSelfplay`` (points; one score head), ``scoreStdev``,
        ``prior``, ``utility`` (mean value, -1..1, plus the score utility when it is on) and ``utilityLcb``, ``lcb`` (winrate), ``order``,
        ``pv`` and ``pvVisits`` (at most ``pv_len`` moves), with ``moves_ownership`` (while ownership
        is tracked) ``ownership`` (float [size, size], the root player's view) for the moves that
        have it.

        Visited moves come first; unvisited ones follow, highest prior first, until there are
        ``min_moves`` (the root's winrate and score, LCB 0); at most ``max_moves`` in all."""
        ch, n, mean, lcb = self._child_stats()
        t = self.tree
        su = self._score_utilities(ch, n)
        order = self._ranked(n, mean + su, lcb + su)
        if len(order) < min_moves:
            rest = sorted((j for j in range(len(ch)) if n[j] == 0), key=lambda j: -t.prior[ch[j]])
            order += rest[: min_moves - len(order)]
        if max_moves is not None:
            order = order[:max_moves]
        score, score_var = _stats(n, t.SC[ch], t.SC2[ch])
        root = self.root_info()
        first = int(t.first[t.root])
        out = []
        for rank, j in enumerate(order):
            nd = int(ch[j])
            pv, pv_visits = self._pv(nd, pv_len)
            if n[j] > 0:
                info = {"winrate": float((mean[j] + 1) / 2), "scoreLead": float(score[j]),
                        "scoreStdev": float(math.sqrt(score_var[j])), "utility": float(mean[j] + su[j]),
                        "lcb": float(min(max((lcb[j] + 1) / 2, 0.0), 1.0)),
                        "utilityLcb": float(max(lcb[j] + su[j], -1.0 - self.cfg.score_utility))}
            else:
                info = {"winrate": root["winrate"], "scoreLead": root["scoreLead"], "scoreStdev": root["scoreStdev"],
                        "utility": root["utility"], "lcb": 0.0, "utilityLcb": -1.0}
            info = {"move": pv[0], "visits": int(n[j]), **info, "scoreMean": info["scoreLead"],
                    "scoreSelfplay": info["scoreLead"], "prior": float(t.prior[nd]), "order": rank, "pv": pv,
                    "pvVisits": pv_visits}
            row = nd - first + 1
            if moves_ownership and self._own is not None and self._own_n[row] > 0 and not self._own_missing:
                info["ownership"] = (self._own[0, row] / self._own_n[row]).astype(np.float64).reshape(self.size, self.size)
            out.append(info)
        return out

    def root_info(self) -> dict:
        """KataGo's ``rootInfo`` for the player to move at the root: ``visits``, ``winrate``,
        ``scoreLead`` (= ``scoreMean`` = ``scoreSelfplay``), ``scoreStdev``, ``utility``, ``lcb``,
        ``currentPlayer``; each visit counts its leaf's estimate, the root's own evaluation included."""
        t = self.tree
        r = t.root
        n = np.array([float(t.N[r])])
        value, var = _stats(n, -t.W[r:r + 1], t.W2[r:r + 1], sample=True)
        score, score_var = _stats(n, -t.SC[r:r + 1], t.SC2[r:r + 1])
        lcb = float(self._lcb(n, value, var)[0])
        lead = float(score[0])
        return {"visits": int(n[0]), "winrate": float((value[0] + 1) / 2), "scoreLead": lead, "scoreMean": lead,
                "scoreSelfplay": lead, "scoreStdev": float(math.sqrt(score_var[0])), "utility": float(value[0]),
                "lcb": float(min(max((lcb + 1) / 2, 0.0), 1.0)), "currentPlayer": self.game.to_play}

    def root_value(self) -> float:
        """Mean value for the player to move at the root, in [-1, 1]."""
        t = self.tree
        r = t.root
        return float(-t.W[r] / t.N[r]) if t.N[r] > 0 else 0.0

    def root_ownership(self) -> Ownership | None:
        """The search-weighted ownership at the root, or None (not tracked, no visit with it yet, or an
        evaluator without ownership estimates)."""
        if self._own is None or self._own_n[0] == 0 or self._own_missing:
            return None
        n = int(self._own_n[0])
        mean, var = _stats(np.float64(n), self._own[0, 0].astype(np.float64), self._own[1, 0].astype(np.float64))
        shape = (self.size, self.size)
        return Ownership(np.clip(mean, -1.0, 1.0).reshape(shape), np.sqrt(var).reshape(shape), n)


def search_round(searches: Sequence[Search], leaves: Sequence[int], evaluator) -> list[int]:
    """One round over several trees: search ``i`` selects up to ``leaves[i]`` leaves (none when 0),
    the leaves of every tree with the same board size and rules go to one evaluator call, and each
    tree expands and backs up its own. Returns the visits each search gained (terminal ones included)."""
    use_ring = bool(getattr(evaluator, "needs_history", True))
    done = [0] * len(searches)
    waiting: dict[tuple, list[tuple[int, LeafBatch]]] = {}
    for i, (s, k) in enumerate(zip(searches, leaves, strict=False)):
        if k > 0:
            ne, nt = s._gather(k, use_ring)
            done[i] = ne + nt
            if ne:
                b = s._batch()
                waiting.setdefault(b.rules_key, []).append((i, b))
    try:
        for group in waiting.values():
            ev = evaluator(LeafBatch.concat([b for _, b in group]))
            k = 0
            for i, b in group:
                searches[i]._apply(ev.rows(k, k + b.n))
                k += b.n
    except BaseException:
        for group in waiting.values():
            for i, _ in group:
                searches[i]._abort()
        raise
    return done


def run_many(searches: list[Search], visits: int, evaluator, batch_size: int = 8) -> None:
    """Add ``visits`` visits to each search (none to a finished game), sharing evaluator calls
    between the trees (``search_round``)."""
    done = [0] * len(searches)
    while True:
        want = [0 if s.game.is_over else min(batch_size, visits - d) for s, d in zip(searches, done, strict=False)]
        if not any(w > 0 for w in want):
            return
        done = [d + g for d, g in zip(done, search_round(searches, want, evaluator), strict=False)]
