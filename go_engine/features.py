"""The network's input features, computed by Numba kernels (documented in docs/features.md).

A position becomes binary planes of ``size x size`` (uint8; ``FEATURE_PLANES`` per
feature version, each version's planes a prefix of the next's) and ``NUM_GLOBALS``
scalars (float32), all from the view of the player to move.
Every kernel can write its planes under one of the 8 symmetries of the square
(``sym`` 0..7: bit 2 transposes, bit 0 flips rows, bit 1 flips columns, in that
order), so augmentation costs nothing extra.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import kernels as K
from .game import Game
from .ladder import k_ladders

FEATURE_VERSION = 2  # what new models are trained on; older versions stay readable
HISTORY = 8
LAST_MOVES = 5

# plane indices (every version's planes are a prefix of the newest version's)
P_OWN_STONES = 0  # own stones now (0) and HISTORY - 1 positions back
P_OPP_STONES = P_OWN_STONES + HISTORY
P_OWN_LIBERTIES = P_OPP_STONES + HISTORY  # own chains with 1, 2, 3+ liberties
P_OPP_LIBERTIES = P_OWN_LIBERTIES + 3
P_KO = P_OPP_LIBERTIES + 3
P_ON_BOARD = P_KO + 1
P_LAST_MOVES = P_ON_BOARD + 1  # version 2: where the last LAST_MOVES moves were played
P_OWN_LADDER = P_LAST_MOVES + LAST_MOVES  # version 2: own stones a ladder captures
P_OPP_LADDER = P_OWN_LADDER + 1  # version 2: opponent stones a ladder captures
P_LADDER_MOVES = P_OPP_LADDER + 1  # version 2: moves that capture an opponent chain by a ladder
FEATURE_PLANES = {1: P_ON_BOARD + 1, 2: P_LADDER_MOVES + 1}  # planes of each feature version
NUM_PLANES = FEATURE_PLANES[FEATURE_VERSION]
NUM_GLOBALS = 6
PLANE_NAMES = (
    [f"own stones t-{i}" for i in range(HISTORY)]
    + [f"opponent stones t-{i}" for i in range(HISTORY)]
    + ["own chain, 1 liberty", "own chain, 2 liberties", "own chain, 3+ liberties",
       "opponent chain, 1 liberty", "opponent chain, 2 liberties", "opponent chain, 3+ liberties",
       "ko-forbidden point", "on board"]
    + [f"move {i} ago" for i in range(1, LAST_MOVES + 1)]
    + ["own stones a ladder captures", "opponent stones a ladder captures", "ladder capture moves"]
)
GLOBAL_NAMES = ("komi / 15 for the player to move", "black to move", "simple ko", "superko",
                "multi-stone suicide legal", "territory scoring")


def planes_for(version: int) -> int:
    """How many input planes feature ``version`` has; ``ValueError`` for an unknown version."""
    if version not in FEATURE_PLANES:
        known = ", ".join(map(str, FEATURE_PLANES))
        raise ValueError(f"input features version {version} is unknown (this Tengen computes {known})")
    return FEATURE_PLANES[version]


@njit(cache=True, inline="always")
def sym_rc(r, c, size, sym):
    """Where ``(row, col)`` goes under symmetry ``sym``."""
    if sym & 4:
        r, c = c, r
    if sym & 1:
        r = size - 1 - r
    if sym & 2:
        c = size - 1 - c
    return r, c


@njit(cache=True)
def k_features(S, meta, ring, head, count, sym, planes):
    """Write the planes of the position in ``S``/``meta`` into ``planes`` (uint8 [P, size, size]),
    the first ``P`` planes of the newest feature version (``FEATURE_PLANES``): only what fits is
    computed, so a version-1 network costs no ladder reading.

    ``ring`` (int8 [HISTORY, L]) holds padded colour arrays of recent positions:
    row ``head`` is the current one, ``head - 1`` (mod HISTORY) the one before...;
    ``count`` is how many rows are valid (older ones read as an empty board). A move's location
    is the point that is empty in one position and holds a stone in the next (a pass marks
    nothing)."""
    size = meta[K.M_SIZE]
    n = meta[K.M_STRIDE]
    me = meta[K.M_TOMOVE]
    opp = 3 - me
    nplanes = planes.shape[0]
    planes[:, :, :] = 0
    ko = meta[K.M_KO] if meta[K.M_KOCOLOR] == me else -1
    moves = min(LAST_MOVES, count - 1) if nplanes > P_LAST_MOVES else 0
    ladders = nplanes > P_LADDER_MOVES
    if ladders:
        captured = np.empty(S.shape[1], dtype=np.uint8)
        capture_moves = np.empty(S.shape[1], dtype=np.uint8)
        k_ladders(S, meta, me, captured, capture_moves)
    for r in range(size):
        for c in range(size):
            p = (r + 1) * n + c + 1
            rr, cc = sym_rc(r, c, size, sym)
            for t in range(min(count, HISTORY)):
                col = ring[(head - t) % HISTORY, p]
                if col == me:
                    planes[P_OWN_STONES + t, rr, cc] = 1
                elif col == opp:
                    planes[P_OPP_STONES + t, rr, cc] = 1
            col = S[K.COLOR, p]
            if col == me or col == opp:
                libs = S[K.LIBS, S[K.HEAD, p]]
                k = 0 if libs == 1 else (1 if libs == 2 else 2)
                planes[(P_OWN_LIBERTIES if col == me else P_OPP_LIBERTIES) + k, rr, cc] = 1
            if p == ko:
                planes[P_KO, rr, cc] = 1
            planes[P_ON_BOARD, rr, cc] = 1
            for t in range(moves):
                if ring[(head - t) % HISTORY, p] != K.EMPTY and ring[(head - t - 1) % HISTORY, p] == K.EMPTY:
                    planes[P_LAST_MOVES + t, rr, cc] = 1
            if ladders:
                if captured[p]:
                    planes[P_OWN_LADDER if col == me else P_OPP_LADDER, rr, cc] = 1
                if capture_moves[p]:
                    planes[P_LADDER_MOVES, rr, cc] = 1


KEY_EXTRA = 4  # bytes after the colour rows in an input key: player to move, rows read, ko point (2)


def input_key_width(L: int) -> int:
    """Bytes in the input key (``k_input_keys``) of a position with ``L`` padded points."""
    return (HISTORY + 1) * L + KEY_EXTRA


@njit(cache=True)
def k_input_keys(S, meta, ring, head, count, out):
    """Row ``i`` of ``out`` (uint8 [n, ``input_key_width(L)``]) gets everything leaf ``i``'s planes
    are computed from, for every feature version and symmetry: the colours of its position, the
    ``HISTORY`` ring rows ``k_features`` reads (zeros past ``count``), the player to move, how many
    rows are valid and the ko point that binds the mover. Equal rows mean equal planes, so the
    network cache keys on them without computing the planes (ladder reading included)."""
    L = S.shape[2]
    base = (HISTORY + 1) * L
    for i in range(out.shape[0]):
        o = out[i]
        o[:] = 0
        for p in range(L):
            o[p] = S[i, K.COLOR, p]
        valid = min(count[i], HISTORY)
        for t in range(valid):
            row = (head[i] - t) % HISTORY
            for p in range(L):
                o[(t + 1) * L + p] = ring[i, row, p]
        me = meta[i, K.M_TOMOVE]
        ko = meta[i, K.M_KO] + 1 if meta[i, K.M_KOCOLOR] == me else 0
        o[base] = me
        o[base + 1] = valid
        o[base + 2] = ko & 255
        o[base + 3] = ko >> 8


@njit(cache=True)
def k_features_batch(S, meta, ring, head, count, rows, sym, planes):
    """``k_features`` of the leaves ``rows`` (of arrays with one row per leaf) into ``planes[0..]``."""
    for j in range(rows.shape[0]):
        i = rows[j]
        k_features(S[i], meta[i], ring[i], head[i], count[i], sym, planes[j])


def global_features(komi: float, to_move: int, ko_rule: int, suicide: bool, territory: bool) -> np.ndarray:
    """The scalar inputs: komi from the mover's view, colour, and the rules."""
    sign = 1.0 if to_move == K.WHITE else -1.0
    return np.array([sign * komi / 15.0, float(to_move == K.BLACK), float(ko_rule == K.KO_SIMPLE),
                     float(ko_rule != K.KO_SIMPLE), float(suicide), float(territory)], dtype=np.float32)


def history_ring(game: Game) -> tuple[np.ndarray, int]:
    """Colour arrays of the last ``HISTORY`` positions of ``game`` (row 0 = current, older ones
    before it in ring order), from its undo records; and how many there are. A setup step (SGF
    AB/AW, handicap stones) starts the history, as in the training data's replay, so that setup
    stones never read as moves."""
    ring = np.zeros((HISTORY, (game.size + 2) ** 2), dtype=np.int8)
    g = game.copy()
    if g.resigned:
        g.undo()  # takes back the resignation, not a move
    count = 0
    for t in range(HISTORY):
        ring[(HISTORY - t) % HISTORY] = g._S[K.COLOR]
        count += 1
        if not g.history or g.history[-1][0] == 0:
            break
        g.undo()
    return ring, count


def game_features(game: Game, sym: int = 0, version: int = FEATURE_VERSION) -> tuple[np.ndarray, np.ndarray]:
    """``(planes, globals)`` of a game's current position in feature ``version``; history comes
    from its undo records."""
    ring, count = history_ring(game)
    planes = np.zeros((planes_for(version), game.size, game.size), dtype=np.uint8)
    k_features(game._S, game._meta, ring, 0, count, sym, planes)
    r = game.rules
    glob = global_features(game.komi, int(game._meta[K.M_TOMOVE]), r.ko_code, r.suicide, r.scoring == "territory")
    return planes, glob


def inverse_symmetry(sym: int) -> int:
    """The symmetry that undoes ``sym`` in ``apply_symmetry``: a transpose with one flip (5, 6) is undone
    by the transpose with the other flip; every other symmetry undoes itself."""
    return sym ^ 3 if sym & 4 and (sym & 3) in (1, 2) else sym


def apply_symmetry(a: np.ndarray, sym: int) -> np.ndarray:
    """A ``[..., size, size]`` array moved by symmetry ``sym`` exactly as ``sym_rc`` moves points."""
    if sym & 4:
        a = np.swapaxes(a, -1, -2)
    if sym & 1:
        a = a[..., ::-1, :]
    if sym & 2:
        a = a[..., :, ::-1]
    return a
