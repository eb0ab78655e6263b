"""The replay of a stored game into network inputs, in one Numba kernel.

Shards store moves, not positions (``policy.data.shards``): the loader replays
each game with the rules kernels and writes the features of the positions it
trains on. Every move is checked before it is played (an occupied point, a
retaken ko or a forbidden suicide stops the replay), so a crafted or corrupt
shard is refused instead of being trained on.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from go_engine import kernels as K
from go_engine.features import HISTORY, k_features, sym_rc

SETUP_ILLEGAL = -2  # k_replay's error code for setup stones that leave a chain without liberties


@njit(cache=True)
def k_replay(size, ko_rule, suicide, setup, moves, select, syms, planes, policy, to_move):
    """Replay one stored game and write the features of the positions before the moves in ``select``.

    ``setup``/``moves`` use the shard encoding (+(point + 1) black, -(point + 1)
    white; point ``size * size`` is a pass). ``select`` must be increasing. Row
    ``j`` of ``planes`` gets the position before move ``select[j]`` under symmetry
    ``syms[j]`` (as many planes as ``planes`` has: its feature version);
    ``policy[j]`` the move played (symmetry applied; pass stays ``size * size``)
    and ``to_move[j]`` its colour. The whole game is replayed.

    Returns ``(positions written, error)``: error is -1 for a legal game, the index
    of the first illegal move, or ``SETUP_ILLEGAL``."""
    n = size + 2
    L = n * n
    S = np.zeros((K.NROWS, L), dtype=np.int32)
    meta = np.zeros(K.NMETA, dtype=np.int64)
    K.k_init(S, meta, size, ko_rule, suicide)
    for i in range(setup.shape[0]):
        v = setup[i]
        q = abs(v) - 1
        K._set_color(S, meta, (q // size + 1) * n + q % size + 1, K.BLACK if v > 0 else K.WHITE)
    K.k_rebuild(S, meta)
    for p in range(L):
        if (S[K.COLOR, p] == K.BLACK or S[K.COLOR, p] == K.WHITE) and S[K.LIBS, S[K.HEAD, p]] == 0:
            return 0, SETUP_ILLEGAL
    ring = np.zeros((HISTORY, L), dtype=np.int8)
    head = 0
    ring[0, :] = S[K.COLOR]
    count = 1
    capbuf = np.empty(L, dtype=np.int32)
    j = 0
    for i in range(moves.shape[0]):
        v = moves[i]
        c = K.BLACK if v > 0 else K.WHITE
        q = abs(v) - 1
        p = -1
        if q != size * size:
            p = (q // size + 1) * n + q % size + 1
            code = K.k_legal_basic(S, meta, p, c, suicide)
            if code != K.OK and code != K.OK_SUICIDE:
                return j, i
        meta[K.M_TOMOVE] = c
        if j < select.shape[0] and select[j] == i:
            k_features(S, meta, ring, head, count, syms[j], planes[j])
            if p < 0:
                policy[j] = q
            else:
                rr, cc = sym_rc(q // size, q % size, size, syms[j])
                policy[j] = rr * size + cc
            to_move[j] = c
            j += 1
        if p < 0:
            meta[K.M_KO] = -1
        else:
            ncap, nsui, hd = K._place(S, meta, p, c, capbuf, 0)
            K._set_ko(S, meta, p, c, ncap, capbuf, 0)
        head = (head + 1) % HISTORY
        ring[head, :] = S[K.COLOR]
        count += 1
    return j, -1
