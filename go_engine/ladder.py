"""A ladder reader in Numba kernels: which chains a ladder captures, and which moves start one.

A ladder is read on a scratch copy of the colour row of a kernel position
(``S[COLOR]``: 0 empty, 1 black, 2 white, 3 border), with moves placed and
taken back on it; the position itself is not touched. Ko and superko are
ignored while reading, as ladder readers usually do.

The definitions follow the usual ones for network inputs:

- a chain with **one** liberty is *ladder-captured* when its owner, moving
  first, cannot escape: every extension at the liberty and every capture of
  an adjacent attacker chain in atari leaves it with one liberty, or with two
  from which the attacker captures it again by a ladder;
- a chain with **two** liberties is ladder-captured when the attacker, moving
  first, puts it in atari at one of the two liberties and it then cannot
  escape as above;
- a *ladder capture move* for a player is a liberty of an opponent chain with
  two liberties at which that player starts a ladder that captures it.

A reading that exceeds ``MAX_NODES`` positions or ``MAX_DEPTH`` moves counts
as an escape (the chain is not marked).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import kernels as K

MAX_DEPTH = 160  # moves in one line of a ladder (a 25x25 ladder runs about 2 * 25 moves)
MAX_NODES = 300  # positions read for one chain (a long ladder reads about 3 per move)

# rows of the int32 work array ``w`` shared by the kernels (each of length L)
W_MARK, W_STONES, W_LIBS, W_STAMP, W_TARGET = 0, 1, 2, 3, 4  # W_STAMP: the stamp in column 0
W_ROWS = 5


@njit(cache=True)
def _chain(col, n, p, w, max_libs):
    """Flood-fill the chain at ``p``: its stones into ``w[W_STONES]`` and its distinct liberties into
    ``w[W_LIBS]``; returns ``(stones, liberties)``. Stops as soon as ``max_libs`` liberties are found
    (the stones are then incomplete)."""
    w[W_STAMP, 0] += 1
    stamp = w[W_STAMP, 0]
    mark = w[W_MARK]
    stones = w[W_STONES]
    libs = w[W_LIBS]
    c = col[p]
    stones[0] = p
    mark[p] = stamp
    ns = 1
    nl = 0
    i = 0
    while i < ns:
        q = stones[i]
        i += 1
        for d in (-n, -1, 1, n):
            r = q + d
            if mark[r] == stamp:
                continue
            v = col[r]
            if v == c:
                mark[r] = stamp
                stones[ns] = r
                ns += 1
            elif v == K.EMPTY:
                mark[r] = stamp
                libs[nl] = r
                nl += 1
                if nl >= max_libs:
                    return ns, nl
    return ns, nl


@njit(cache=True)
def _place(col, n, p, c, caps, ncaps, w):
    """Put a ``c`` stone at ``p`` and take off the opponent chains it leaves without liberties,
    appending their points to ``caps`` from ``ncaps``. Returns the new end of ``caps``, or -1 (and
    the board unchanged) when the move is suicide or ``caps`` is full."""
    opp = 3 - c
    col[p] = c
    end = ncaps
    for d in (-n, -1, 1, n):
        q = p + d
        if col[q] == opp:
            ns, nl = _chain(col, n, q, w, 1)
            if nl == 0:
                if end + ns > caps.shape[0]:  # out of room for this line: read as no move
                    _take_back(col, p, c, caps, ncaps, end)
                    return -1
                for i in range(ns):
                    col[w[W_STONES, i]] = K.EMPTY
                    caps[end] = w[W_STONES, i]
                    end += 1
    if end == ncaps and _chain(col, n, p, w, 1)[1] == 0:
        col[p] = K.EMPTY
        return -1
    return end


@njit(cache=True)
def _take_back(col, p, c, caps, start, end):
    """Undo ``_place``: empty ``p`` and put back the captured opponent stones."""
    col[p] = K.EMPTY
    for i in range(start, end):
        col[caps[i]] = 3 - c


@njit(cache=True)
def _candidates(col, n, target, defender_moves, w, out):
    """The moves to try at a node of the reading, into ``out``; returns how many, or -1 when the
    chain is captured already, or -2 when it is safe (more liberties than the node expects)."""
    ns, nl = _chain(col, n, target, w, 3)
    if not defender_moves:  # the attacker ataris at one of two liberties
        if nl < 2:
            return -1
        if nl > 2:
            return -2
        out[0] = w[W_LIBS, 0]
        out[1] = w[W_LIBS, 1]
        return 2
    if nl == 0:
        return -1
    if nl > 1:
        return -2
    # the defender extends at its liberty, or captures an adjacent attacker chain in atari
    a = 3 - col[target]
    nc = 1
    out[0] = w[W_LIBS, 0]
    for i in range(ns):
        w[W_TARGET, i] = w[W_STONES, i]
    for i in range(ns):
        for dd in (-n, -1, 1, n):
            q = w[W_TARGET, i] + dd
            if col[q] != a or nc == out.shape[0]:
                continue
            qs, ql = _chain(col, n, q, w, 2)
            if ql != 1:
                continue
            lib = w[W_LIBS, 0]
            known = False
            for j in range(nc):
                if out[j] == lib:
                    known = True
            if not known:
                out[nc] = lib
                nc += 1
    return nc


@njit(cache=True)
def _unwind(col, k, result, defender_first, dcol, frames, caps):
    """Hand a node's ``result`` (True: the chain is captured) up the stack, taking back moves. A
    parent whose result it decides passes it on (an escape decides a defender node, a capture an
    attacker node). Returns the depth of the node that goes on with its next candidate, or -1 when
    the root is decided."""
    while True:
        k -= 1
        if k < 0:
            return -1
        parent_defender = (k % 2 == 0) == defender_first
        _take_back(col, frames[F_MOVE, k], dcol if parent_defender else 3 - dcol, caps, frames[F_CSTART, k],
                   frames[F_CEND, k])
        if parent_defender == result:
            return k  # a failed escape or a failed atari: the parent tries its next move


# rows of the int64 ``frames`` array: one column per depth of the reading
F_NCAND, F_NEXT, F_MOVE, F_CSTART, F_CEND = 0, 1, 2, 3, 4
F_ROWS = 5
MAX_CANDIDATES = 16


@njit(cache=True)
def _ladder_captures(col, n, target, defender_first, start_depth, w, caps, ncaps0, cand, frames):
    """Whether the chain at ``target`` is captured by a ladder: with ``defender_first`` it has one
    liberty and its owner moves (captured when every escape fails), otherwise it has two and the
    attacker moves (captured when an atari at one of them leads to a capture).

    Depth-first over an explicit stack of nodes, not recursion (Numba's cache cannot hold a
    recursive kernel); the node at depth ``k`` is the defender's when ``k`` is even from a
    defender-first root. Reading past ``MAX_NODES`` positions or ``MAX_DEPTH`` moves counts as an
    escape."""
    dcol = col[target]
    budget = MAX_NODES
    k = 0
    frames[F_CSTART, 0] = ncaps0
    entering = True
    while True:
        defender = (k % 2 == 0) == defender_first
        if entering:
            entering = False
            budget -= 1
            nc = -2
            if budget >= 0 and k + start_depth <= MAX_DEPTH:
                nc = _candidates(col, n, target, defender, w, cand[k])
            if nc < 0:  # decided on entry: -1 captured, -2 safe
                result = nc == -1
                k = _unwind(col, k, result, defender_first, dcol, frames, caps)
                if k < 0:
                    return result
                continue
            frames[F_NCAND, k] = nc
            frames[F_NEXT, k] = 0
        if frames[F_NEXT, k] >= frames[F_NCAND, k]:  # every move failed: the defender is caught, the attacker not
            result = defender
            k = _unwind(col, k, result, defender_first, dcol, frames, caps)
            if k < 0:
                return result
            continue
        m = cand[k, frames[F_NEXT, k]]
        frames[F_NEXT, k] += 1
        c = dcol if defender else 3 - dcol
        end = _place(col, n, m, c, caps, frames[F_CSTART, k], w)
        if end < 0:
            continue
        libs = 0 if col[target] == K.EMPTY else _chain(col, n, target, w, 3)[1]
        if (defender and libs == 2) or (not defender and libs == 1):  # the ladder goes on
            frames[F_MOVE, k] = m
            frames[F_CEND, k] = end
            frames[F_CSTART, k + 1] = end
            k += 1
            entering = True
            continue
        _take_back(col, m, c, caps, frames[F_CSTART, k], end)
        if (defender and libs >= 3) or (not defender and libs == 0):  # escaped / captured
            result = not defender
            k = _unwind(col, k, result, defender_first, dcol, frames, caps)
            if k < 0:
                return result


@njit(cache=True)
def k_ladders(S, meta, mover, captured, capture_moves):
    """Mark ladder-captured chains and ladder capture moves of the position ``S``/``meta``.

    ``captured`` (uint8 [L]) gets 1 on every stone of a ladder-captured chain of either colour;
    ``capture_moves`` (uint8 [L]) gets 1 on every ladder capture move of ``mover``. Both are
    cleared first."""
    n = meta[K.M_STRIDE]
    L = S.shape[1]
    col = S[K.COLOR].astype(np.int8)
    captured[:] = 0
    capture_moves[:] = 0
    w = np.zeros((W_ROWS, L), dtype=np.int32)
    caps = np.empty(8 * L, dtype=np.int32)  # stones captured along the line being read
    cand = np.empty((MAX_DEPTH + 2, MAX_CANDIDATES), dtype=np.int32)
    frames = np.zeros((F_ROWS, MAX_DEPTH + 2), dtype=np.int64)
    done = np.zeros(L, dtype=np.uint8)
    chain_libs = np.empty(2, dtype=np.int64)
    stones = np.empty(L, dtype=np.int32)  # the chain being read (the reading reuses every row of w)
    for p in range(L):
        v = col[p]
        if (v != K.BLACK and v != K.WHITE) or done[p]:
            continue
        libs = S[K.LIBS, S[K.HEAD, p]]
        if libs > 2:
            continue
        ns, nl = _chain(col, n, p, w, 3)  # the whole chain: at most 2 liberties
        for i in range(ns):
            done[w[W_STONES, i]] = 1
            stones[i] = w[W_STONES, i]
        chain_libs[0] = w[W_LIBS, 0]
        chain_libs[1] = w[W_LIBS, 1] if nl == 2 else -1
        if not _ladder_captures(col, n, p, nl == 1, 0, w, caps, 0, cand, frames):
            continue
        for i in range(ns):
            captured[stones[i]] = 1
        if nl == 2 and v != mover:  # which of its two liberties start the ladder
            for j in range(2):
                m = chain_libs[j]
                end = _place(col, n, m, mover, caps, 0, w)
                if end < 0:
                    continue
                works = col[p] == K.EMPTY or (_chain(col, n, p, w, 2)[1] == 1
                                             and _ladder_captures(col, n, p, True, 1, w, caps, end, cand, frames))
                _take_back(col, m, mover, caps, 0, end)
                if works:
                    capture_moves[m] = 1
