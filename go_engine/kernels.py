"""Numba kernels over flat, bordered board arrays.

A position is two arrays. ``S`` (int32, shape ``(NROWS, L)`` with
``L = (size + 2) ** 2``) holds one row per per-point field:

- ``COLOR``: 0 empty, 1 black, 2 white, 3 border;
- ``HEAD``/``NEXT``: each chain is a circular linked list through ``NEXT``,
  named by its head stone; ``HEAD[p]`` is the head of the chain at ``p``;
- ``LIBS``/``CSIZE``: exact liberty count and stone count, valid at heads;
- ``ELIST``/``EPOS``: the list of empty points and each point's place in it;
- ``MARK``: scratch stamps for de-duplicating points without clearing.

``meta`` (int64) holds the scalars (``M_*``). Liberties are kept exact
incrementally: a move costs work proportional to the chains it merges and
captures, never a flood fill of the board. The history arrays that the
``Game`` wrapper owns (position hashes for superko, undo records, captured
stones) are passed in by the caller, which keeps them large enough.
"""

from __future__ import annotations

import numpy as np
from numba import njit

COLOR, HEAD, NEXT, LIBS, CSIZE, ELIST, EPOS, MARK = range(8)
NROWS = 8
EMPTY, BLACK, WHITE, BORDER = 0, 1, 2, 3

(M_SIZE, M_STRIDE, M_TOMOVE, M_KO, M_KOCOLOR, M_PASSES, M_CAPB, M_CAPW, M_NEMPTY,
 M_STAMP, M_NHIST, M_NUNDO, M_NCAP, M_KORULE, M_SUICIDE) = range(15)
NMETA = 16

# undo record columns
U_KIND, U_POINT, U_COLOR, U_KO, U_KOCOLOR, U_PASSES, U_CAPSTART, U_NCAP, U_NSUI, U_TOMOVE, U_CAPB, U_CAPW = range(12)
UW = 12
KIND_MOVE, KIND_PASS, KIND_SETUP = 0, 1, 2

# legality codes
OK, OK_SUICIDE, OCCUPIED, KO, SUICIDE, SUPERKO = 0, 1, 2, 3, 4, 5

KO_SIMPLE, KO_POSITIONAL, KO_SITUATIONAL = 0, 1, 2

# k_in_seki: a chain that keeps its liberties, in seki or with eyes of its own
SEKI, EYES = 1, 2

MAX_POINTS = 27 * 27
_rng = np.random.default_rng(0x7E6E6E)
ZOBRIST = _rng.integers(1, 2**63 - 1, size=(3, MAX_POINTS), dtype=np.int64).astype(np.uint64)
ZOBRIST[1] ^= np.uint64(1) << np.uint64(63)
ZOBRIST[0, :] = 0


@njit(cache=True, inline="always")
def _empty_remove(S, meta, p):
    i = S[EPOS, p]
    n = meta[M_NEMPTY] - 1
    last = S[ELIST, n]
    S[ELIST, i] = last
    S[EPOS, last] = i
    meta[M_NEMPTY] = n


@njit(cache=True, inline="always")
def _empty_add(S, meta, p):
    n = meta[M_NEMPTY]
    S[ELIST, n] = p
    S[EPOS, p] = n
    meta[M_NEMPTY] = n + 1


@njit(cache=True, inline="always")
def _new_stamp(S, meta):
    stamp = meta[M_STAMP] + 1
    if stamp >= 2_000_000_000:
        S[MARK, :] = 0
        stamp = 1
    meta[M_STAMP] = stamp
    return stamp


@njit(cache=True)
def k_init(S, meta, size, ko_rule, suicide):
    """Set up an empty board of ``size`` in ``S``/``meta``."""
    n = size + 2
    S[:, :] = 0
    meta[:] = 0
    meta[M_SIZE] = size
    meta[M_STRIDE] = n
    meta[M_TOMOVE] = BLACK
    meta[M_KO] = -1
    meta[M_KORULE] = ko_rule
    meta[M_SUICIDE] = suicide
    for p in range(n * n):
        r = p // n
        c = p % n
        if r == 0 or c == 0 or r == n - 1 or c == n - 1:
            S[COLOR, p] = BORDER
        else:
            _empty_add(S, meta, p)


@njit(cache=True, inline="always")
def _adjacent_to(S, e, n, color, head):
    """Whether empty point ``e`` touches a stone of chain ``head``."""
    return ((S[COLOR, e - n] == color and S[HEAD, e - n] == head)
            or (S[COLOR, e - 1] == color and S[HEAD, e - 1] == head)
            or (S[COLOR, e + 1] == color and S[HEAD, e + 1] == head)
            or (S[COLOR, e + n] == color and S[HEAD, e + n] == head))


@njit(cache=True)
def _merge(S, meta, a, b):
    """Merge chains with heads ``a`` and ``b``; liberties stay exact. Returns the new head."""
    if S[CSIZE, a] < S[CSIZE, b]:
        a, b = b, a
    n = meta[M_STRIDE]
    color = S[COLOR, a]
    stamp = _new_stamp(S, meta)
    add = 0
    s = b
    while True:
        for e in (s - n, s - 1, s + 1, s + n):
            if S[COLOR, e] == EMPTY and S[MARK, e] != stamp:
                S[MARK, e] = stamp
                if not _adjacent_to(S, e, n, color, a):
                    add += 1
        s = S[NEXT, s]
        if s == b:
            break
    s = b
    while True:
        S[HEAD, s] = a
        s = S[NEXT, s]
        if s == b:
            break
    na = S[NEXT, a]
    S[NEXT, a] = S[NEXT, b]
    S[NEXT, b] = na
    S[LIBS, a] += add
    S[CSIZE, a] += S[CSIZE, b]
    return a


@njit(cache=True)
def _add_liberty_around(S, n, s, delta):
    """Add ``delta`` to the liberty count of each distinct chain next to point ``s``
    (+1 when ``s`` has just become empty, -1 when a stone has just filled it)."""
    h0 = -1
    h1 = -1
    h2 = -1
    for q in (s - n, s - 1, s + 1, s + n):
        col = S[COLOR, q]
        if col == BLACK or col == WHITE:
            h = S[HEAD, q]
            if h != h0 and h != h1 and h != h2:
                S[LIBS, h] += delta
                if h0 < 0:
                    h0 = h
                elif h1 < 0:
                    h1 = h
                else:
                    h2 = h


@njit(cache=True)
def _remove_chain(S, meta, h, capbuf, cpos):
    """Remove the chain at head ``h``, appending its stones to ``capbuf`` at ``cpos``.

    Returns (stones removed, hash delta)."""
    n = meta[M_STRIDE]
    color = S[COLOR, h]
    hd = np.uint64(0)
    count = 0
    s = h
    while True:
        capbuf[cpos + count] = s
        count += 1
        S[COLOR, s] = EMPTY
        _empty_add(S, meta, s)
        hd ^= ZOBRIST[color, s]
        s = S[NEXT, s]
        if s == h:
            break
    for i in range(count):
        _add_liberty_around(S, n, capbuf[cpos + i], 1)
    return count, hd


@njit(cache=True)
def _place(S, meta, p, c, capbuf, cpos):
    """Put a stone of colour ``c`` on empty ``p``, capture, and remove a suicided chain.

    The move must be legal. Captured stones, then suicided ones, go to
    ``capbuf[cpos:]``. Returns (opponent stones captured, own stones removed,
    hash delta)."""
    n = meta[M_STRIDE]
    opp = 3 - c
    _empty_remove(S, meta, p)
    S[COLOR, p] = c
    S[HEAD, p] = p
    S[NEXT, p] = p
    S[CSIZE, p] = 1
    hd = ZOBRIST[c, p]
    _add_liberty_around(S, n, p, -1)
    S[LIBS, p] = ((S[COLOR, p - n] == EMPTY) + (S[COLOR, p - 1] == EMPTY)
                  + (S[COLOR, p + 1] == EMPTY) + (S[COLOR, p + n] == EMPTY))
    for q in (p - n, p - 1, p + 1, p + n):
        if S[COLOR, q] == c:
            hq = S[HEAD, q]
            hp = S[HEAD, p]
            if hq != hp:
                _merge(S, meta, hp, hq)
    ncap = 0
    for q in (p - n, p - 1, p + 1, p + n):
        if S[COLOR, q] == opp:
            hq = S[HEAD, q]
            if S[LIBS, hq] == 0:
                k, d = _remove_chain(S, meta, hq, capbuf, cpos + ncap)
                ncap += k
                hd ^= d
    nsui = 0
    hp = S[HEAD, p]
    if S[LIBS, hp] == 0:
        nsui, d = _remove_chain(S, meta, hp, capbuf, cpos + ncap)
        hd ^= d
    return ncap, nsui, hd


@njit(cache=True)
def k_legal_basic(S, meta, p, c, allow_suicide):
    """Legality of ``c`` at ``p`` under simple ko: ``OK``, ``OK_SUICIDE``, ``OCCUPIED``, ``KO`` or ``SUICIDE``."""
    if S[COLOR, p] != EMPTY:
        return OCCUPIED
    if p == meta[M_KO] and c == meta[M_KOCOLOR]:
        return KO
    n = meta[M_STRIDE]
    opp = 3 - c
    friend = False
    for q in (p - n, p - 1, p + 1, p + n):
        col = S[COLOR, q]
        if col == EMPTY:
            return OK
        if col == c:
            if S[LIBS, S[HEAD, q]] > 1:
                return OK
            friend = True
        elif col == opp:
            if S[LIBS, S[HEAD, q]] == 1:
                return OK
    if friend and allow_suicide:
        return OK_SUICIDE
    return SUICIDE


@njit(cache=True)
def _chain_hash(S, h):
    color = S[COLOR, h]
    hd = np.uint64(0)
    s = h
    while True:
        hd ^= ZOBRIST[color, s]
        s = S[NEXT, s]
        if s == h:
            break
    return hd


@njit(cache=True)
def _hash_after(S, meta, hist, p, c, code):
    """Board hash after a legal (by ``k_legal_basic``) move of ``c`` at ``p``."""
    n = meta[M_STRIDE]
    opp = 3 - c
    newh = hist[meta[M_NHIST] - 1, 0] ^ ZOBRIST[c, p]
    h0 = -1
    h1 = -1
    h2 = -1
    for q in (p - n, p - 1, p + 1, p + n):
        col = S[COLOR, q]
        if col == EMPTY:
            continue
        target = (col == opp and S[LIBS, S[HEAD, q]] == 1) or (col == c and code == OK_SUICIDE)
        if target:
            h = S[HEAD, q]
            if h != h0 and h != h1 and h != h2:
                newh ^= _chain_hash(S, h)
                if h0 < 0:
                    h0 = h
                elif h1 < 0:
                    h1 = h
                else:
                    h2 = h
    if code == OK_SUICIDE:
        newh ^= ZOBRIST[c, p]
    return newh


@njit(cache=True)
def k_legal(S, meta, hist, p, c):
    """Full legality of ``c`` at ``p`` under the position's ko and suicide rules."""
    code = k_legal_basic(S, meta, p, c, meta[M_SUICIDE] != 0)
    if code > OK_SUICIDE:
        return code
    korule = meta[M_KORULE]
    if korule != KO_SIMPLE:
        newh = _hash_after(S, meta, hist, p, c, code)
        opp = 3 - c
        for k in range(meta[M_NHIST]):
            if hist[k, 0] == newh and (korule == KO_POSITIONAL or hist[k, 1] == opp):
                return SUPERKO
    return code


@njit(cache=True)
def k_legal_moves(S, meta, hist, c, out):
    """Write the points where ``c`` may play into ``out``, in board order; return their count."""
    k = 0
    L = S.shape[1]
    for p in range(L):
        if S[COLOR, p] == EMPTY and k_legal(S, meta, hist, p, c) <= OK_SUICIDE:
            out[k] = p
            k += 1
    return k


@njit(cache=True)
def _push_undo(meta, undo, kind, p, c):
    u = meta[M_NUNDO]
    undo[u, U_KIND] = kind
    undo[u, U_POINT] = p
    undo[u, U_COLOR] = c
    undo[u, U_KO] = meta[M_KO]
    undo[u, U_KOCOLOR] = meta[M_KOCOLOR]
    undo[u, U_PASSES] = meta[M_PASSES]
    undo[u, U_CAPSTART] = meta[M_NCAP]
    undo[u, U_NCAP] = 0
    undo[u, U_NSUI] = 0
    undo[u, U_TOMOVE] = meta[M_TOMOVE]
    undo[u, U_CAPB] = meta[M_CAPB]
    undo[u, U_CAPW] = meta[M_CAPW]
    meta[M_NUNDO] = u + 1
    return u


@njit(cache=True)
def k_play(S, meta, hist, undo, capbuf, p, c):
    """Play ``c`` at ``p`` (``p < 0`` passes) with full legality; record undo. Returns a legality code."""
    if p < 0:
        _push_undo(meta, undo, KIND_PASS, -1, c)
        meta[M_KO] = -1
        meta[M_PASSES] += 1
        meta[M_TOMOVE] = 3 - c
        h = meta[M_NHIST]
        hist[h, 0] = hist[h - 1, 0]
        hist[h, 1] = 3 - c
        meta[M_NHIST] = h + 1
        return OK
    code = k_legal(S, meta, hist, p, c)
    if code > OK_SUICIDE:
        return code
    u = _push_undo(meta, undo, KIND_MOVE, p, c)
    cpos = meta[M_NCAP]
    ncap, nsui, hd = _move(S, meta, p, c, capbuf, cpos)
    undo[u, U_NCAP] = ncap
    undo[u, U_NSUI] = nsui
    meta[M_NCAP] = cpos + ncap + nsui
    h = meta[M_NHIST]
    hist[h, 0] = hist[h - 1, 0] ^ hd
    hist[h, 1] = 3 - c
    meta[M_NHIST] = h + 1
    return code


@njit(cache=True)
def _move(S, meta, p, c, capbuf, cpos):
    """Colour ``c`` plays the legal move ``p``: stones, prisoners, ko, passes and the turn (the part of a
    move that ``k_play`` and ``k_play_scratch`` share). Returns ``_place``'s (captured, suicided, hash delta)."""
    ncap, nsui, hd = _place(S, meta, p, c, capbuf, cpos)
    if c == BLACK:
        meta[M_CAPB] += ncap
        meta[M_CAPW] += nsui
    else:
        meta[M_CAPW] += ncap
        meta[M_CAPB] += nsui
    _set_ko(S, meta, p, c, ncap, capbuf, cpos)
    meta[M_PASSES] = 0
    meta[M_TOMOVE] = 3 - c
    return ncap, nsui, hd


@njit(cache=True)
def k_play_scratch(S, meta, p, capbuf):
    """Play ``p`` (``p < 0`` passes) for the player to move on a scratch position, without a legality
    check, hash history or undo: the search's descent and random playouts. Returns the change of the
    position's Zobrist hash (XOR it into the hash before the move; 0 for a pass).

    The move must be legal; ``capbuf`` needs room for every point of the board."""
    if p < 0:
        meta[M_KO] = -1
        meta[M_PASSES] += 1
        meta[M_TOMOVE] = 3 - meta[M_TOMOVE]
        return np.uint64(0)
    return _move(S, meta, p, meta[M_TOMOVE], capbuf, 0)[2]


@njit(cache=True, inline="always")
def _set_ko(S, meta, p, c, ncap, capbuf, cpos):
    hp = S[HEAD, p]
    if ncap == 1 and S[COLOR, p] == c and S[CSIZE, hp] == 1 and S[LIBS, hp] == 1:
        meta[M_KO] = capbuf[cpos]
        meta[M_KOCOLOR] = 3 - c
    else:
        meta[M_KO] = -1


@njit(cache=True)
def _fill_chain(S, n, root, stamp):
    """Rebuild the chain containing stone ``root`` by flood fill, marking it with ``stamp``."""
    color = S[COLOR, root]
    S[MARK, root] = stamp
    S[HEAD, root] = root
    S[NEXT, root] = root
    tail = root
    size = 1
    libs = 0
    cur = root
    while True:
        for q in (cur - n, cur - 1, cur + 1, cur + n):
            if S[MARK, q] == stamp:
                continue
            col = S[COLOR, q]
            if col == color:
                S[MARK, q] = stamp
                S[HEAD, q] = root
                S[NEXT, q] = root
                S[NEXT, tail] = q
                tail = q
                size += 1
            elif col == EMPTY:
                S[MARK, q] = stamp
                libs += 1
        cur = S[NEXT, cur]
        if cur == root:
            break
    S[CSIZE, root] = size
    S[LIBS, root] = libs


@njit(cache=True)
def _refill_around(S, meta, seeds, nseeds, epoch):
    """Rebuild every chain holding a seed or next to one (stamps >= ``epoch`` mean done)."""
    n = meta[M_STRIDE]
    for i in range(nseeds):
        s = seeds[i]
        for q in (s, s - n, s - 1, s + 1, s + n):
            col = S[COLOR, q]
            if (col == BLACK or col == WHITE) and S[MARK, q] < epoch:
                _fill_chain(S, n, q, _new_stamp(S, meta))


@njit(cache=True)
def k_undo(S, meta, hist, undo, capbuf):
    """Take back the last move, pass or setup. Returns False when there is none."""
    u = meta[M_NUNDO] - 1
    if u < 0:
        return False
    kind = undo[u, U_KIND]
    p = undo[u, U_POINT]
    c = undo[u, U_COLOR]
    start = undo[u, U_CAPSTART]
    ncap = undo[u, U_NCAP]
    nsui = undo[u, U_NSUI]
    if kind == KIND_SETUP:
        # newest first, so a point the step set more than once gets its original colour back
        for i in range(start + ncap - 1, start - 1, -1):
            q = capbuf[i] >> 2
            _set_color(S, meta, q, capbuf[i] & 3)
        k_rebuild(S, meta)
    elif kind == KIND_MOVE:
        epoch = _new_stamp(S, meta)
        seeds = np.empty(ncap + nsui + 1, dtype=np.int64)
        for i in range(ncap + nsui):
            q = capbuf[start + i]
            _empty_remove(S, meta, q)
            S[COLOR, q] = (3 - c) if i < ncap else c
            seeds[i] = q
        _empty_add(S, meta, p)
        S[COLOR, p] = EMPTY
        seeds[ncap + nsui] = p
        _refill_around(S, meta, seeds, ncap + nsui + 1, epoch)
    meta[M_NCAP] = start
    meta[M_KO] = undo[u, U_KO]
    meta[M_KOCOLOR] = undo[u, U_KOCOLOR]
    meta[M_PASSES] = undo[u, U_PASSES]
    meta[M_TOMOVE] = undo[u, U_TOMOVE]
    meta[M_CAPB] = undo[u, U_CAPB]
    meta[M_CAPW] = undo[u, U_CAPW]
    meta[M_NUNDO] = u
    meta[M_NHIST] -= 1
    return True


@njit(cache=True, inline="always")
def _set_color(S, meta, p, color):
    old = S[COLOR, p]
    if old == EMPTY and color != EMPTY:
        _empty_remove(S, meta, p)
    elif old != EMPTY and color == EMPTY:
        _empty_add(S, meta, p)
    S[COLOR, p] = color


@njit(cache=True)
def k_rebuild(S, meta):
    """Recompute every chain, liberty count and the empty list from the colours."""
    n = meta[M_STRIDE]
    meta[M_NEMPTY] = 0
    for p in range(n * n):
        if S[COLOR, p] == EMPTY:
            _empty_add(S, meta, p)
    epoch = _new_stamp(S, meta)
    for p in range(n * n):
        col = S[COLOR, p]
        if (col == BLACK or col == WHITE) and S[MARK, p] < epoch:
            _fill_chain(S, n, p, _new_stamp(S, meta))


@njit(cache=True)
def k_board_hash(S):
    """Zobrist hash of the stones on the board."""
    h = np.uint64(0)
    for p in range(S.shape[1]):
        col = S[COLOR, p]
        if col == BLACK or col == WHITE:
            h ^= ZOBRIST[col, p]
    return h


@njit(cache=True)
def k_setup(S, meta, hist, undo, capbuf, points, colors, to_move):
    """Set ``points`` to ``colors`` (0 empty, 1 black, 2 white) as one undoable step.

    Returns the head of a chain left without liberties, or -1 (the step is then kept;
    the caller undoes it to refuse the position)."""
    u = _push_undo(meta, undo, KIND_SETUP, -1, 0)
    start = meta[M_NCAP]
    k = 0
    for i in range(points.shape[0]):
        p = points[i]
        capbuf[start + k] = (p << 2) | S[COLOR, p]
        k += 1
        _set_color(S, meta, p, colors[i])
    undo[u, U_NCAP] = k
    meta[M_NCAP] = start + k
    k_rebuild(S, meta)
    meta[M_KO] = -1
    meta[M_PASSES] = 0
    meta[M_TOMOVE] = to_move
    h = meta[M_NHIST]
    hist[h, 0] = k_board_hash(S)
    hist[h, 1] = to_move
    meta[M_NHIST] = h + 1
    for p in range(S.shape[1]):
        col = S[COLOR, p]
        if (col == BLACK or col == WHITE) and S[LIBS, S[HEAD, p]] == 0:
            return p
    return -1


@njit(cache=True)
def k_owner(color, n, owner):
    """Tromp-Taylor ownership of every point of a padded colour array.

    Stones own their point; an empty region owns its points for a colour when it
    reaches stones of that colour only. ``owner`` gets 1, 2 or 0 (neutral)."""
    L = n * n
    seen = np.zeros(L, dtype=np.uint8)
    stack = np.empty(L, dtype=np.int32)
    region = np.empty(L, dtype=np.int32)
    for p in range(L):
        col = color[p]
        if col == BLACK or col == WHITE:
            owner[p] = col
        else:
            owner[p] = 0
    for p in range(L):
        if color[p] != EMPTY or seen[p]:
            continue
        reach = 0
        top = 0
        nreg = 0
        stack[top] = p
        top += 1
        seen[p] = 1
        while top > 0:
            top -= 1
            s = stack[top]
            region[nreg] = s
            nreg += 1
            for q in (s - n, s - 1, s + 1, s + n):
                col = color[q]
                if col == EMPTY:
                    if not seen[q]:
                        seen[q] = 1
                        stack[top] = q
                        top += 1
                elif col == BLACK:
                    reach |= 1
                elif col == WHITE:
                    reach |= 2
        if reach == 1 or reach == 2:
            for i in range(nreg):
                owner[region[i]] = reach


@njit(cache=True, inline="always")
def _rand(rng):
    """xorshift64* step on ``rng[0]``; returns 32 random bits."""
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    return (x * np.uint64(2685821657736338717)) >> np.uint64(32)


@njit(cache=True)
def k_is_eye(S, meta, p, c):
    """Whether empty ``p`` is a one-point eye of ``c`` (not a false eye)."""
    n = meta[M_STRIDE]
    for q in (p - n, p - 1, p + 1, p + n):
        col = S[COLOR, q]
        if col != c and col != BORDER:
            return False
    opp = 3 - c
    bad = 0
    edge = False
    for q in (p - n - 1, p - n + 1, p + n - 1, p + n + 1):
        col = S[COLOR, q]
        if col == opp:
            bad += 1
        elif col == BORDER:
            edge = True
    if edge:
        return bad == 0
    return bad < 2


@njit(cache=True)
def _is_killing_shape(S, meta, stamp, size, first, heads, nheads):
    """Whether the ``size`` stones marked ``stamp`` (``first`` and the chains ``heads[:nheads]``), once
    captured, leave an eye space the captor cannot make two eyes in: any 2 or 3 points, the square and
    the T of four, the bulky five and the cross, the rabbity six (counted by their inner adjacencies)."""
    if size <= 3:
        return True
    if size > 6:
        return False
    n = meta[M_STRIDE]
    links = 0
    most = 0
    for k in range(-1, nheads):
        s = first if k < 0 else heads[k]
        while True:
            d = 0
            for q in (s - n, s - 1, s + 1, s + n):
                if S[MARK, q] == stamp:
                    d += 1
            links += d
            most = max(most, d)
            if k < 0:
                break
            s = S[NEXT, s]
            if s == heads[k]:
                break
    links //= 2
    if size == 4:
        return links == 4 or most == 3
    if size == 5:
        return links == 5 or most == 4
    return links == 6 and most == 4


@njit(cache=True)
def k_bad_self_atari(S, meta, p, c):
    """The one liberty left to ``c``'s chain by its legal move at empty ``p`` when that move captures
    nothing and leaves a chain of two or more stones in atari that, captured, would not leave a dead
    eye shape (nakade): a move that only hands the opponent a capture and a living shape, as filling
    a seki's liberty. -1 for any other move."""
    n = meta[M_STRIDE]
    opp = 3 - c
    open_ = 0
    friends = False
    for q in (p - n, p - 1, p + 1, p + n):
        col = S[COLOR, q]
        if col == EMPTY:
            open_ += 1
        elif col == c:
            if S[LIBS, S[HEAD, q]] > 2:
                return -1
            friends = True
        elif col == opp and S[LIBS, S[HEAD, q]] == 1:
            return -1  # a capture
    if open_ > 1 or not friends:
        return -1
    heads = np.empty(4, dtype=np.int32)
    nheads = _friend_heads(S, n, p, c, heads)
    libs = _new_stamp(S, meta)
    S[MARK, p] = libs
    last = -1
    for q in (p - n, p - 1, p + 1, p + n):
        if S[COLOR, q] == EMPTY and S[MARK, q] != libs:
            S[MARK, q] = libs
            last = q
    size = 1
    for k in range(nheads):
        size += S[CSIZE, heads[k]]
        s = heads[k]
        while True:
            for q in (s - n, s - 1, s + 1, s + n):
                if S[COLOR, q] == EMPTY and S[MARK, q] != libs:
                    if last >= 0:
                        return -1  # two liberties
                    S[MARK, q] = libs
                    last = q
            s = S[NEXT, s]
            if s == heads[k]:
                break
    if last < 0:
        return -1
    stones = _new_stamp(S, meta)
    S[MARK, p] = stones
    for k in range(nheads):
        s = heads[k]
        while True:
            S[MARK, s] = stones
            s = S[NEXT, s]
            if s == heads[k]:
                break
    return -1 if _is_killing_shape(S, meta, stones, size, p, heads, nheads) else last


@njit(cache=True, inline="always")
def _friend_heads(S, n, p, c, heads):
    """The distinct heads of ``c``'s chains next to ``p`` into ``heads``; returns how many."""
    nheads = 0
    for q in (p - n, p - 1, p + 1, p + n):
        if S[COLOR, q] == c:
            h = S[HEAD, q]
            seen = False
            for k in range(nheads):
                seen = seen or heads[k] == h
            if not seen:
                heads[nheads] = h
                nheads += 1
    return nheads


@njit(cache=True)
def k_in_seki(S, meta, p):
    """Whether the chain at ``p`` keeps its liberties: on each of them, each player's move is illegal
    or a bad self-atari (``k_bad_self_atari``) whose last liberty is one of this chain's or the
    mover's own eye, so that no move elsewhere prepares it; a liberty taken back under ko does not
    count as unplayable. 0: it does not; ``SEKI``: it does and a liberty touches the opponent's
    stones; ``EYES``: it does with eyes of its own alone (merely alive)."""
    n = meta[M_STRIDE]
    h = S[HEAD, p]
    opp = 3 - S[COLOR, h]
    libs = np.empty(S[LIBS, h], dtype=np.int32)
    stamp = _new_stamp(S, meta)
    k = 0
    touches = False
    s = h
    while True:
        for q in (s - n, s - 1, s + 1, s + n):
            if S[COLOR, q] == EMPTY and S[MARK, q] != stamp:
                S[MARK, q] = stamp
                libs[k] = q
                k += 1
                for r in (q - n, q - 1, q + 1, q + n):
                    touches = touches or S[COLOR, r] == opp
        s = S[NEXT, s]
        if s == h:
            break
    heads = np.empty(4, dtype=np.int32)
    for i in range(k):
        lib = libs[i]
        for c in (BLACK, WHITE):
            code = k_legal_basic(S, meta, lib, c, False)
            if code == KO:
                return 0
            if code != OK:
                continue
            last = k_bad_self_atari(S, meta, lib, c)
            if last < 0:
                return 0
            shared = False
            closed = True
            nheads = _friend_heads(S, n, lib, c, heads)
            for q in (last - n, last - 1, last + 1, last + n):
                col = S[COLOR, q]
                if col == BLACK or col == WHITE:
                    shared = shared or S[HEAD, q] == h
                own = q == lib
                if col == c:
                    for j in range(nheads):
                        own = own or S[HEAD, q] == heads[j]
                closed = closed and (own or col == BORDER)
            if not (shared or closed):
                return 0
    if k == 0:
        return 0
    return SEKI if touches else EYES


@njit(cache=True)
def k_playout(S, meta, rng, max_moves, capbuf):
    """Random playout to the end, in place, from the position in ``S``/``meta``.

    Each move is uniform over the legal moves (simple ko, no suicide) that do not
    fill the mover's own one-point eye; a player with none passes, and two passes
    in a row end the game. Stops after ``max_moves`` moves. Returns the number of
    moves played (passes included)."""
    moves = 0
    while meta[M_PASSES] < 2 and moves < max_moves:
        c = meta[M_TOMOVE]
        remaining = meta[M_NEMPTY]
        found = -1
        while remaining > 0:
            i = np.int64(_rand(rng) % np.uint64(remaining))
            p = S[ELIST, i]
            if k_legal_basic(S, meta, p, c, False) == OK and not k_is_eye(S, meta, p, c):
                found = p
                break
            remaining -= 1
            last = S[ELIST, remaining]
            S[ELIST, i] = last
            S[EPOS, last] = i
            S[ELIST, remaining] = p
            S[EPOS, p] = remaining
        k_play_scratch(S, meta, found, capbuf)  # found < 0: no move left, a pass
        moves += 1
    return moves


@njit(cache=True)
def k_area_score(S, meta):
    """Tromp-Taylor area of black minus area of white (no komi)."""
    n = meta[M_STRIDE]
    owner = np.empty(n * n, dtype=np.int8)
    k_owner(S[COLOR], n, owner)
    score = 0
    for p in range(n * n):
        if owner[p] == BLACK:
            score += 1
        elif owner[p] == WHITE:
            score -= 1
    return score
