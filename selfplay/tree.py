"""The search tree: flat node arrays and the Numba kernels that select, expand, back up and compact them.

Every node is an index into a set of parallel numpy arrays (``Tree``). A
node's children sit next to each other: ``first[n] .. first[n] + nchild[n] - 1``.
Per node:

- ``move``: the flat point played to reach it (``-1`` = pass);
- ``prior``: the policy prior of that move (renormalized over legal moves);
- ``N``/``W``/``W2``: visits, sum and sum of squares of the values backed up
  through it, **from the view of the player who moved into the node**;
- ``SC``/``SC2``: sum and sum of squares of the scores backed up through it, in
  points, from the same view;
- ``VL``: virtual losses currently on it (each counts as one visit with value -1
  for the player who moved into it, while a leaf below it waits for evaluation);
- ``state``: ``UNEXPANDED``, ``PENDING`` (picked as a leaf, waiting for the
  evaluator), ``EXPANDED``, ``TERMINAL`` (two passes in a row, or a repetition
  under simple ko; ``tscore`` holds its exact score for the player to move there,
  its value is the score's sign) or ``ILLEGAL`` (a superko repetition).

Positions are not stored in the tree. Selection replays the moves from the root
position on a scratch copy (``S``/``meta`` of the leaf), with the kernels'
``k_play_scratch``, which also gives each position's Zobrist hash. The root's
children are expanded with full legality (``k_legal`` with the game's hash
history); deeper nodes with ``k_legal_basic`` (simple ko and the suicide rule),
and a move that repeats a position of the path or of the game is settled on the
node's first visit: illegal under positional/situational superko, a draw (value
and score 0) under simple ko, where the game would cycle without a result (the
send-two-return-one and triple-ko cycles that rules with simple ko leave open).
A cycle with a pass in it is no such deadlock: a side that passes has stopped
fighting, and the repetition only delays the end; scoring it as a draw let a
losing engine repeat throw-ins for ever while its opponent passed. Under simple ko the search
keeps such a repetition out as if superko forbade it (the game still allows it).
A terminal node (two passes) is scored by area (Tromp-Taylor) with komi and any
handicap bonus; territory-scoring games are also scored by area inside the tree.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from go_engine import kernels as K
from go_engine.coords import PASS

UNEXPANDED, PENDING, EXPANDED, TERMINAL, ILLEGAL = 0, 1, 2, 3, 4
NO_REPEAT, REPEAT, REPEAT_PASS = 0, 1, 2  # what _repeats finds

__all__ = ["Tree", "k_select_batch", "k_expand_batch", "k_compact", "score_utility",
           "UNEXPANDED", "PENDING", "EXPANDED", "TERMINAL", "ILLEGAL"]


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _terminal_score(S, meta, komi, owner, dead):
    """Exact score for the player to move of a finished position (area score minus komi); fills
    ``owner`` (padded) with the Tromp-Taylor owner of every point (1 black, 2 white, 0 neither).
    ``dead`` (padded colours, or empty): stones counted as dead, taken off first where a stone of
    that colour still stands."""
    n = meta[K.M_STRIDE]
    if dead.shape[0] == 0:
        K.k_owner(S[K.COLOR], n, owner)
    else:
        color = S[K.COLOR].copy()
        for p in range(n * n):
            if dead[p] != 0 and color[p] == dead[p]:
                color[p] = K.EMPTY
        K.k_owner(color, n, owner)
    s = 0.0
    for p in range(n * n):
        if owner[p] == K.BLACK:
            s += 1.0
        elif owner[p] == K.WHITE:
            s -= 1.0
    s -= komi
    return s if meta[K.M_TOMOVE] == K.BLACK else -s


@njit(cache=True)
def _backup(N, W, W2, SC, SC2, VL, path, plen, v, s, remove_vl):
    """Add value ``v`` and score ``s`` (for the player to move at the path's last node) along the path."""
    x = -v
    y = -s
    for i in range(plen - 1, -1, -1):
        nd = path[i]
        N[nd] += 1
        W[nd] += x
        W2[nd] += x * x
        SC[nd] += y
        SC2[nd] += y * y
        if remove_vl:
            VL[nd] -= 1
        x = -x
        y = -y


@njit(cache=True)
def _own_row(first, root, path, plen):
    """The ownership row of the root child a path goes through (0: the path is the root alone)."""
    return path[1] - first[root] + 1 if plen >= 2 else 0


@njit(cache=True)
def _add_ownership(own, own_n, row, vals, sign):
    """Add ``sign * vals`` (row-major points) to the sums ``own[0]`` and squares ``own[1]`` of the
    root's row 0 and of ``row``."""
    for p in range(vals.shape[0]):
        x = sign * vals[p]
        own[0, 0, p] += x
        own[1, 0, p] += x * x
        if row > 0:
            own[0, row, p] += x
            own[1, row, p] += x * x
    own_n[0] += 1
    if row > 0:
        own_n[row] += 1


@njit(cache=True)
def _add_terminal_ownership(own, own_n, row, owner, size, root_player):
    """Add the Tromp-Taylor owners of a finished position (padded ``owner``) from the root player's view."""
    n = size + 2
    buf = np.empty(size * size, dtype=np.float32)
    for r in range(size):
        for c in range(size):
            o = owner[(r + 1) * n + c + 1]
            buf[r * size + c] = 0.0 if o == 0 else (1.0 if o == root_player else -1.0)
    _add_ownership(own, own_n, row, buf, 1.0)


@njit(cache=True)
def _remove_vl(VL, path, plen):
    for i in range(plen):
        VL[path[i]] -= 1


@njit(cache=True)
def _repeats(h, to_move, hpath, tpath, d, hist, korule):
    """Whether the position of hash ``h`` with ``to_move`` to play (reached by a move, not a pass)
    repeats one of the ``d`` positions before it on the search path (``hpath``/``tpath``) or one of the
    game's (``hist``: hash, player to move). The board alone counts under positional superko, board and
    player to move otherwise. Returns ``NO_REPEAT``, ``REPEAT`` or ``REPEAT_PASS`` (a pass was played
    since the latest occurrence: a pass keeps the board, so two positions in a row share a hash)."""
    board_only = korule == K.KO_POSITIONAL
    passed = False
    for i in range(d - 1, -1, -1):
        if hpath[i + 1] == hpath[i]:
            passed = True
        if hpath[i] == h and (board_only or tpath[i] == to_move):
            return REPEAT_PASS if passed else REPEAT
    side = np.uint64(to_move)
    for k in range(hist.shape[0] - 2, -1, -1):  # the game's last position is the path's first
        if hist[k + 1, 0] == hist[k, 0]:
            passed = True
        if hist[k, 0] == h and (board_only or hist[k, 1] == side):
            return REPEAT_PASS if passed else REPEAT
    return NO_REPEAT


@njit(cache=True, inline="always")
def score_utility(mean_score, center, factor, scale):
    """The score's part of a node's utility: ``factor * 2/pi * atan((mean_score - center) / scale)`` (mean
    scores a number or an array: PUCT's children in the kernels, the root's for the final choice)."""
    return factor * (2.0 / np.pi) * np.arctan((mean_score - center) / scale)


@njit(cache=True)
def _pick_child(first, nchild, prior, N, W, SC, VL, state, nd, c_puct, fpu_red, su_factor, su_center, su_scale):
    """The PUCT choice among ``nd``'s children (``nd`` expanded with at least one child that is not
    ``ILLEGAL``; the pass never is). A child's utility is its mean value plus, with ``su_factor`` > 0,
    the score utility of its mean score (``su_center``: the centre for the player to move at ``nd``)."""
    n_parent = N[nd] + VL[nd]
    sqrt_parent = math.sqrt(max(n_parent, 1))
    parent_q = -W[nd] / N[nd] if N[nd] > 0 else 0.0  # for the player to move at nd
    use_su = su_factor > 0.0
    if use_su and N[nd] > 0:
        parent_q += score_utility(-SC[nd] / N[nd], su_center, su_factor, su_scale)
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
        if state[j] == ILLEGAL:
            continue
        n = N[j] + VL[j]
        if n > 0:
            q = (W[j] - VL[j]) / n
            if use_su and N[j] > 0:
                q += score_utility(SC[j] / N[j], su_center, su_factor, su_scale)
        else:
            q = fpu
        s = q + c_puct * prior[j] * sqrt_parent / (1.0 + n)
        if s > best_score:
            best_score = s
            best = j
    return best


@njit(cache=True)
def k_select_batch(first, nchild, move, prior, N, W, W2, SC, SC2, VL, state, tscore,
                   root, c_puct, fpu_red, fpu_root, su_factor, su_center, su_scale, komi, dead,
                   rootS, rootMeta, rootHist, rootRing, rootHead, rootCount, use_ring,
                   max_leaves, bS, bMeta, bRing, bHead, bCount, paths, plen, leaves, capbuf,
                   own, own_n):
    """Select up to ``max_leaves`` leaves from ``root`` with PUCT under virtual loss.

    Leaf ``i`` gets its node in ``leaves[i]``, its path in ``paths[i, :plen[i]]``
    and its position in ``bS[i]``/``bMeta[i]`` (and, with ``use_ring``, its
    colour history in ``bRing[i]``/``bHead[i]``/``bCount[i]``); it is marked
    ``PENDING`` and keeps its virtual loss until ``k_expand_batch``. Terminal
    leaves are backed up at once (with their exact ownership while ownership is tracked: ``own``
    float32 [2, rows, size*size] and ``own_n`` [rows] with a row per root child, else 1 row).
    Stops early when a selection runs into a pending leaf. Returns (leaves to
    evaluate, terminal visits done).

    A new node whose move (not a pass) repeats a position of the path or of the game (``rootHist``)
    is settled on its first visit: under superko the move is illegal (``ILLEGAL``, never picked
    again, and the selection starts over); under simple ko the game would cycle, which the rules
    leave without a result, so it is ``TERMINAL`` with the value and score of a draw (0), unless a
    pass was played since the position stood: then the search treats the move as illegal too."""
    maxd = paths.shape[1]
    size = rootMeta[K.M_SIZE]
    root_player = rootMeta[K.M_TOMOVE]
    korule = rootMeta[K.M_KORULE]
    nhist = rootMeta[K.M_NHIST]
    hist = rootHist[:nhist]
    hpath = np.empty(maxd, dtype=np.uint64)  # the hash and player to move of each position on the path
    tpath = np.empty(maxd, dtype=np.int64)
    hpath[0] = rootHist[nhist - 1, 0]
    tpath[0] = root_player
    use_own = own_n.shape[0] > 1
    owner = np.empty(0, dtype=np.int8)  # Tromp-Taylor owners of a terminal position, made when needed
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
        path[0] = nd
        VL[nd] += 1
        d = 1
        illegal = False
        center = su_center  # the score utility's centre for the player to move at nd
        while state[nd] == EXPANDED and nchild[nd] > 0:
            red = fpu_root if nd == root else fpu_red
            ch = _pick_child(first, nchild, prior, N, W, SC, VL, state, nd, c_puct, red, su_factor, center, su_scale)
            center = -center
            h = hpath[d - 1] ^ K.k_play_scratch(S, meta, move[ch], capbuf)
            hpath[d] = h
            tpath[d] = meta[K.M_TOMOVE]
            if state[ch] == UNEXPANDED and move[ch] >= 0:
                rep = _repeats(h, meta[K.M_TOMOVE], hpath, tpath, d, hist, korule)
                if rep == REPEAT_PASS or (rep == REPEAT and korule != K.KO_SIMPLE):
                    state[ch] = ILLEGAL
                    illegal = True
                    break
                if rep == REPEAT:
                    state[ch] = TERMINAL
                    tscore[ch] = 0.0
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
        if illegal:
            _remove_vl(VL, path, d)
            continue
        st = state[nd]
        if st == PENDING:
            _remove_vl(VL, path, d)
            break
        if owner.shape[0] == 0 and (st == TERMINAL or meta[K.M_PASSES] >= 2 or d >= maxd - 1):
            owner = np.empty(S.shape[1], dtype=np.int8)
        if st != TERMINAL and (meta[K.M_PASSES] >= 2 or d >= maxd - 1):
            tscore[nd] = _terminal_score(S, meta, komi, owner, dead)
            state[nd] = TERMINAL
        elif st == TERMINAL and use_own:
            _terminal_score(S, meta, komi, owner, dead)
        if state[nd] == TERMINAL:
            ts = tscore[nd]
            _backup(N, W, W2, SC, SC2, VL, path, d, 0.0 if ts == 0 else (1.0 if ts > 0 else -1.0), ts, True)
            if use_own:
                _add_terminal_ownership(own, own_n, _own_row(first, root, path, d), owner, size, root_player)
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
def k_expand_batch(first, nchild, move, prior, N, W, W2, SC, SC2, VL, state, tscore, count,
                   root, rootS, rootMeta, rootHist, n_leaves, leaves, paths, plen, bS, bMeta,
                   priors, values, scores, legal_buf, prior_buf,
                   own_in, own, own_n):
    """Expand the ``n_leaves`` pending leaves with the evaluator's ``priors`` and back up its
    ``values`` and ``scores`` (and add its ownership ``own_in``, float32 [n, size*size], to the sums
    ``own``/``own_n`` of ``k_select_batch`` while they have more than one row).

    Children are appended from index ``count`` (the caller makes room for
    ``n_leaves * (size*size + 1)`` more nodes, all zero). Returns the new node count."""
    root_player = rootMeta[K.M_TOMOVE]
    use_own = own_n.shape[0] > 1
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
        for j in range(k):  # the rest of a new node's fields are zero already (see Tree)
            move[count + j] = legal_buf[j]
            prior[count + j] = prior_buf[j] / total if total > 0 else 1.0 / k
        count += k
        state[nd] = EXPANDED
        v = min(max(values[i], -1.0), 1.0)
        _backup(N, W, W2, SC, SC2, VL, paths[i], plen[i], v, scores[i], True)
        if use_own:
            _add_ownership(own, own_n, _own_row(first, root, paths[i], plen[i]), own_in[i],
                           1.0 if c == root_player else -1.0)
    return count


@njit(cache=True)
def k_compact(first, nchild, state, new_root):
    """The subtree under ``new_root`` in breadth-first order: (old index of each new node, count,
    new ``first``, new ``nchild``); the new root is node 0 and siblings stay next to each other."""
    order = np.empty(first.shape[0], dtype=np.int64)
    f2 = np.empty(first.shape[0], dtype=np.int32)
    c2 = np.empty(first.shape[0], dtype=np.int32)
    order[0] = new_root
    cnt = 1
    qi = 0
    while qi < cnt:
        o = order[qi]
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
    return order[:cnt], cnt, f2[:cnt], c2[:cnt]


# --------------------------------------------------------------------------- tree
class Tree:
    """The flat node arrays, grown on demand (node 0 is the root after a reset).

    Every node from ``count`` on is all zero (``reset`` clears the nodes it drops), so that an
    expansion writes only its children's moves and priors: a new node is unexpanded, unvisited,
    with no children."""

    FIELDS = (("first", np.int32), ("nchild", np.int32), ("move", np.int32), ("prior", np.float32),
              ("N", np.int32), ("W", np.float64), ("W2", np.float64), ("SC", np.float32), ("SC2", np.float32),
              ("VL", np.int32), ("state", np.int8), ("tscore", np.float32))

    def __init__(self, capacity: int = 4096) -> None:
        for name, dt in self.FIELDS:
            setattr(self, name, np.zeros(capacity, dtype=dt))
        self._arrays = self._collect()
        self.count = 0
        self.reset()

    @property
    def capacity(self) -> int:
        return self.first.shape[0]

    def reset(self) -> None:
        """One unexpanded root at index 0."""
        for a in self._arrays:
            a[: self.count] = 0
        self.count = 1
        self.root = 0
        self.first[0] = -1
        self.move[0] = PASS
        self.prior[0] = 1.0
        self.state[0] = UNEXPANDED

    def _collect(self) -> tuple:
        return tuple(getattr(self, name) for name, _ in self.FIELDS)

    def arrays(self) -> tuple:
        """The node arrays in ``FIELDS`` order, as the kernels take them."""
        return self._arrays

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more nodes."""
        need = self.count + extra
        if need <= self.capacity:
            return
        cap = max(need, 4 * self.capacity)  # fresh zeros cost nothing until written: grow in big steps
        for name, dt in self.FIELDS:
            old = getattr(self, name)
            new = np.zeros(cap, dtype=dt)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)
        self._arrays = self._collect()

    def children(self, nd: int) -> range:
        f = int(self.first[nd])
        return range(f, f + int(self.nchild[nd])) if f >= 0 else range(0)

    def reroot(self, child: int) -> None:
        """Keep only the subtree under ``child``, which becomes the root (index 0)."""
        order, cnt, f2, c2 = k_compact(self.first, self.nchild, self.state, child)
        for name, dt in self.FIELDS:
            new = np.zeros(self.capacity, dtype=dt)
            new[:cnt] = getattr(self, name)[order]
            setattr(self, name, new)
        self._arrays = self._collect()
        self.first[:cnt] = f2
        self.nchild[:cnt] = c2
        self.VL[:cnt] = 0
        self.state[:cnt][self.state[:cnt] == PENDING] = UNEXPANDED
        self.count = int(cnt)
        self.root = 0
