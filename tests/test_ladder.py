"""The ladder reader (go_engine/ladder.py) on known shapes and against a plain recursive reference."""

import numpy as np
import pytest

from go_engine import kernels as K
from go_engine.features import P_LADDER_MOVES, P_LAST_MOVES, P_OPP_LADDER, P_OWN_LADDER, game_features
from go_engine.game import Game
from go_engine.ladder import MAX_DEPTH, MAX_NODES, k_ladders


# --------------------------------------------------------------------------- a plain reference
def _chain(board, p):
    """Stones and liberties of the chain at ``p`` on a dict board {(r, c): colour}."""
    size = board["size"]
    c = board[p]
    stones, libs, todo = {p}, set(), [p]
    while todo:
        r, q = todo.pop()
        for x, y in ((r + 1, q), (r - 1, q), (r, q + 1), (r, q - 1)):
            if not (0 <= x < size and 0 <= y < size):
                continue
            v = board.get((x, y), 0)
            if v == c and (x, y) not in stones:
                stones.add((x, y))
                todo.append((x, y))
            elif v == 0:
                libs.add((x, y))
    return stones, libs


def _play(board, p, c):
    """A new board with ``c`` at ``p`` and captures done, or None for suicide."""
    b = dict(board)
    b[p] = c
    size = b["size"]
    r, q = p
    took = False
    for x, y in ((r + 1, q), (r - 1, q), (r, q + 1), (r, q - 1)):
        if 0 <= x < size and 0 <= y < size and b.get((x, y), 0) == 3 - c:
            stones, libs = _chain(b, (x, y))
            if not libs:
                took = True
                for s in stones:
                    b[s] = 0
    if not took and not _chain(b, p)[1]:
        return None
    return b


class _Budget(Exception):
    """The reading went past a quarter of the kernel's node budget."""


def _ref_captured(board, target, defender_moves, depth=0, nodes=None):
    nodes = nodes if nodes is not None else [0]
    nodes[0] += 1
    if nodes[0] > MAX_NODES // 4:
        raise _Budget
    if depth > MAX_DEPTH:
        return False
    d = board[target]
    a = 3 - d
    stones, libs = _chain(board, target)
    if not defender_moves:
        if len(libs) != 2:
            return len(libs) < 2
        for m in sorted(libs):
            b = _play(board, m, a)
            if b is None:
                continue
            if b[target] == 0:
                return True
            if len(_chain(b, target)[1]) == 1 and _ref_captured(b, target, True, depth + 1, nodes):
                return True
        return False
    if not libs:
        return True
    moves = set(libs)
    for s in stones:
        r, q = s
        for x, y in ((r + 1, q), (r - 1, q), (r, q + 1), (r, q - 1)):
            if board.get((x, y), 0) == a:
                st, lb = _chain(board, (x, y))
                if len(lb) == 1:
                    moves |= lb
    for m in sorted(moves):
        b = _play(board, m, d)
        if b is None:
            continue
        n = len(_chain(b, target)[1])
        if n >= 3 or (n == 2 and not _ref_captured(b, target, False, depth + 1, nodes)):
            return False
    return True


def _ref_read(board, target, defender_moves, depth=0):
    """The reference's reading, or None where it needs more than a quarter of the kernel's budget
    (where the order of reading decides whether the kernel's budget runs out, there is no one answer)."""
    try:
        return _ref_captured(board, target, defender_moves, depth)
    except _Budget:
        return None


def reference_ladders(game: Game, mover: int) -> tuple[set, set, set]:
    """(stones a ladder captures, ladder capture moves of ``mover``, points left undecided: the stones
    and liberties of chains whose reading is too long to compare) as sets of (row, col)."""
    size = game.size
    arr = game.board
    board = {"size": size}
    for r in range(size):
        for c in range(size):
            if arr[r, c]:
                board[(r, c)] = 1 if arr[r, c] > 0 else 2
    captured, moves, undecided = set(), set(), set()
    for p in [k for k in board if k != "size"]:
        stones, libs = _chain(board, p)
        if len(libs) > 2 or p in captured or p in undecided:
            continue
        verdict = _ref_read(board, p, len(libs) == 1)
        if verdict is None:
            undecided |= stones | libs
        if not verdict:
            continue
        captured |= stones
        if len(libs) == 2 and board[p] != mover:
            for m in libs:
                b = _play(board, m, mover)
                if b is None:
                    continue
                works = b[p] == 0 or (len(_chain(b, p)[1]) == 1 and _ref_read(b, p, True, 1))
                if works is None:
                    undecided.add(m)
                elif works:
                    moves.add(m)
    return captured, moves, undecided


def agree(game: Game, mover: int) -> bool:
    """Whether the kernel reads ``game`` as the reference does, wherever the reference decides."""
    cap, mv = kernel_ladders(game, mover)
    rcap, rmv, undecided = reference_ladders(game, mover)
    return cap - undecided == rcap - undecided and mv - undecided == rmv - undecided


def kernel_ladders(game: Game, mover: int) -> tuple[set, set]:
    n = game.size + 2
    cap = np.zeros(n * n, np.uint8)
    mv = np.zeros(n * n, np.uint8)
    k_ladders(game._S, game._meta, mover, cap, mv)

    def points(a):
        return {(int(q) // n - 1, int(q) % n - 1) for q in np.flatnonzero(a)}

    return points(cap), points(mv)


# --------------------------------------------------------------------------- known shapes
LADDER = """
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . X X . . . . .
. X O . . . . . .
. . . . . . . . .
. . . . . . . . .
"""


def _rc(v, size):
    return int(v[1:]) - 1, "ABCDEFGHJKLMNOPQRST".index(v[0])


def test_a_ladder_toward_the_edge_captures():
    g = Game.from_diagram(LADDER, to_play="B")
    captured, moves = kernel_ladders(g, K.BLACK)
    assert captured == {_rc("C3", 9)}
    assert moves == {_rc("C2", 9)}  # the atari from below drives White into the edge; D3 lets it out


def test_every_single_stone_added_to_a_ladder_is_read_like_the_reference():
    # a white stone on the ladder's path breaks it; a black one can only help Black
    base = Game.from_diagram(LADDER, to_play="B")
    breakers = 0
    for r in range(9):
        for c in range(9):
            if base.board[r, c]:
                continue
            v = "ABCDEFGHJ"[c] + str(r + 1)
            for color in ("white", "black"):
                g = base.copy()
                try:
                    g.setup(**{color: [v]})
                except ValueError:
                    continue
                assert agree(g, K.BLACK), (color, v)
                breakers += color == "white" and _rc("C3", 9) not in kernel_ladders(g, K.BLACK)[0]
    assert breakers >= 3  # some white stones do break it


def test_feature_planes_mark_ladders_from_the_movers_view():
    g = Game.from_diagram(LADDER, to_play="B")
    planes, _ = game_features(g)
    r, c = _rc("C3", 9)
    assert planes[P_OPP_LADDER, r, c] == 1 and planes[P_OWN_LADDER].sum() == 0
    r, c = _rc("C2", 9)
    assert planes[P_LADDER_MOVES, r, c] == 1 and planes[P_LADDER_MOVES].sum() == 1
    g.to_play = "W"
    planes, _ = game_features(g)
    r, c = _rc("C3", 9)
    assert planes[P_OWN_LADDER, r, c] == 1 and planes[P_OPP_LADDER].sum() == 0
    assert planes[P_LADDER_MOVES].sum() == 0  # Black's chains all have 3+ liberties


# --------------------------------------------------------------------------- against the reference
def _random_position(seed: int, size: int, moves: int) -> Game:
    rng = np.random.default_rng(seed)
    g = Game(size, komi=0)
    for _ in range(moves):
        legal = [m for m in g.legal_moves() if m != "pass"]
        if not legal:
            break
        g.play(legal[rng.integers(len(legal))])
    return g


@pytest.mark.parametrize("seed", range(12))
def test_kernel_agrees_with_the_reference_on_random_positions(seed):
    size = (7, 9, 11)[seed % 3]
    g = _random_position(seed, size, size * size // 2 + seed)
    for mover in (K.BLACK, K.WHITE):
        assert agree(g, mover)
    assert reference_ladders(g, K.BLACK)[0] or reference_ladders(g, K.WHITE)[0] or seed in (1, 9)


def test_last_move_planes():
    g = Game(9)
    for v in ["E5", "C3", "pass", "G7", "D4", "F6", "B2"]:
        g.play(v)
    planes, _ = game_features(g)
    # most recent first: B2, F6, D4, G7, pass (nothing)
    for t, v in enumerate(["B2", "F6", "D4", "G7"]):
        r, c = _rc(v, 9)
        assert planes[P_LAST_MOVES + t, r, c] == 1 and planes[P_LAST_MOVES + t].sum() == 1
    assert planes[P_LAST_MOVES + 4].sum() == 0
