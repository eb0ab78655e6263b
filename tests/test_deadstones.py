"""Dead-stone estimate and settled ownership (go_engine/deadstones.py)."""

import numpy as np
import pytest

from go_engine import kernels as K
from go_engine.coords import COLUMNS
from go_engine.deadstones import chains, dead_stones, settle
from go_engine.game import Game

# Black owns the left, White the right; a lone white stone at B7 sits inside Black's area and a lone
# black stone at H3 inside White's: both are dead at the end of the game.
FINAL = """
. . . X O . . . .
. . . X O . . . .
. O . X O . . . .
. . . X O . . . .
. . . X O . . . .
. . . X O . . . .
. . . X O . . X .
. . . X O . . . .
. . . X O . . . .
"""


def test_lone_stones_in_the_other_sides_area_are_dead():
    g = Game.from_diagram(FINAL, komi=0)
    assert sorted(dead_stones(g)) == ["B7", "H3"]


def test_settled_ownership_counts_dead_stones_for_their_captor():
    g = Game.from_diagram(FINAL, komi=0)
    settled = settle(g)
    own = settled.ownership
    assert sorted(settled.dead) == ["B7", "H3"]
    assert g.final_score(settled.dead) == own.sum()  # komi 0: area score of the settled position
    assert own.dtype == np.int8 and own.shape == (9, 9)
    assert own[6, 1] == 1  # B7 (row 6 = GTP row 7): the dead white stone's point is Black's
    assert own[2, 7] == -1  # H3: the dead black stone's point is White's
    assert (own[:, :4] == 1).all() and (own[:, 4:] == -1).all()
    # Tromp-Taylor reach without removal leaves the regions around the dead stones neutral
    assert (g.ownership()[:, :4] == 0).any()


def test_chains_partition_the_stones():
    g = Game.from_diagram(FINAL, komi=0)
    found = sorted(p for ch in chains(g.board) for p in ch)
    assert found == sorted(zip(*np.nonzero(g.board), strict=False))
    assert len(chains(g.board)) == 4


# The end of a 9x9 game against GNU Go (Tengen Black, komi 7): the lower left is a seki (White's 14 stones and
# Black's B1-D1 share the liberties A1 and E1, and whoever fills one loses its chain); Black's stones in the
# upper right are dead. GNU Go 3.8's final_status_list dead names exactly those nine, and counts W+30.
SEKI = """
. O . O X X X . X
O . O O X . O X .
O O X O O O O X X
O X X X X O O O X
X X O X . X O O O
O X O X X X X O O
O O O X O X . X O
O O O O O O X X X
. X X X . O X X .
"""


def test_a_seki_stays_alive_and_its_shared_liberties_neutral():
    g = Game.from_diagram(SEKI, komi=7)
    settled = settle(g)
    assert sorted(settled.dead) == ["E8", "E9", "F9", "G9", "H7", "H8", "J6", "J7", "J9"]
    assert g.final_score(settled.dead) == -30
    assert settled.ownership[0, 0] == 0 and settled.ownership[0, 4] == 0  # A1 and E1: dame of the seki


# White's group has one eye space, B3-C3-D3, with a black stone on its vital point: Black kills it by playing
# B3 or D3, a self-atari of two stones that leaves White an eye space of two when captured.
NAKADE = """
. X . X . X .
X X X X X X X
X X X X X X X
O O O O O X X
O . X . O X .
O O O O O X X
X X X X X X .
"""


def test_a_group_with_one_eye_space_of_a_dead_shape_dies():
    g = Game.from_diagram(NAKADE, komi=0)
    white = sorted(f"{'ABCDEFG'[c]}{r + 1}" for r, c in zip(*np.nonzero(g.board == -1), strict=True))
    assert len(white) == 12
    assert sorted(dead_stones(g)) == white


SHAPES = {  # stones of Black's chain after its move at the first one, and whether it is a dead eye shape for White
    "two": ([(0, 0), (0, 1)], True),
    "bent three": ([(0, 0), (0, 1), (1, 1)], True),
    "square four": ([(0, 0), (0, 1), (1, 0), (1, 1)], True),
    "T four": ([(0, 0), (0, 1), (0, 2), (1, 1)], True),
    "straight four": ([(0, 0), (0, 1), (0, 2), (0, 3)], False),
    "L four": ([(0, 0), (1, 0), (2, 0), (2, 1)], False),
    "bulky five": ([(2, 0), (0, 0), (0, 1), (1, 0), (1, 1)], True),
    "cross five": ([(1, 0), (0, 1), (1, 1), (1, 2), (2, 1)], True),
    "W five": ([(0, 0), (1, 0), (1, 1), (2, 1), (2, 2)], False),
    "rabbity six": ([(0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)], True),
    "rectangular six": ([(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)], False),
    "seven": ([(0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2), (3, 1)], False),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_a_self_atari_is_bad_unless_its_chain_would_leave_a_dead_eye_shape(name):
    """White fills the board but for Black's shape and one liberty next to it; Black plays the shape's first
    point, which leaves its chain in atari: random playouts may play it only where White, capturing, would
    get an eye space it cannot live in."""
    stones, killing = SHAPES[name]
    shape = {(r + 2, c + 2) for r, c in stones}
    lib = next((r + dr, c + dc) for r, c in sorted(shape) for dr, dc in ((-1, 0), (0, -1), (1, 0), (0, 1))
               if (r + dr, c + dc) not in shape)
    move = (stones[0][0] + 2, stones[0][1] + 2)
    rows = [["X" if (r, c) in shape - {move} else "." if (r, c) in (lib, move) else "O" for c in range(9)]
            for r in range(9)]
    g = Game.from_diagram(["".join(row) for row in rows], komi=0)
    point = g._point(f"{COLUMNS[move[1]]}{9 - move[0]}")
    assert (K.k_bad_self_atari(g._S, g._meta, point, K.BLACK) >= 0) is (not killing)


def test_shared_liberties_of_a_seki_are_bad_self_ataris_and_a_capture_and_a_lone_stone_are_not():
    g = Game.from_diagram(SEKI, komi=7)
    for v in ("A1", "E1"):  # either shared liberty puts Black's four stones in atari, and White's fifteen
        other = g._point({"A1": "E1", "E1": "A1"}[v])  # the liberty left is the other shared one
        assert K.k_bad_self_atari(g._S, g._meta, g._point(v), K.BLACK) == other
        assert K.k_bad_self_atari(g._S, g._meta, g._point(v), K.WHITE) == other
    assert K.k_bad_self_atari(g._S, g._meta, g._point("F8"), K.WHITE) == -1  # White's F8 keeps liberties
    g = Game.from_diagram("""
    . O X . O
    O X . . .
    X . . . .
    . . . . .
    . . . . .
    """, komi=0)
    assert K.k_bad_self_atari(g._S, g._meta, g._point("A5"), K.BLACK) == -1  # captures B5 and A4
    assert K.k_bad_self_atari(g._S, g._meta, g._point("D5"), K.BLACK) == -1  # C5 and D5: two liberties
    assert K.k_bad_self_atari(g._S, g._meta, g._point("D4"), K.WHITE) == -1  # a lone stone would have three
    g = Game.from_diagram("""
    . . O . .
    . O . . .
    . . . . .
    . . . . .
    . . . . .
    """, komi=0)
    assert K.k_bad_self_atari(g._S, g._meta, g._point("B5"), K.BLACK) == -1  # a lone stone in atari: a throw-in


def test_chains_in_seki_are_told_from_dead_ones():
    g = Game.from_diagram(SEKI, komi=7)
    probes = ("A2", "C5", "B1", "E9", "H8", "J9", "B9", "D5")
    in_seki = {v for v in probes if K.k_in_seki(g._S, g._meta, g._point(v))}
    assert in_seki == {"A2", "C5", "B1"}  # White's lower left and Black's B1-D1, not the dead or the living
    g = Game.from_diagram(NAKADE, komi=0)
    assert not K.k_in_seki(g._S, g._meta, g._point("A2"))  # Black's B3 or D3 kills: a dead shape


# From a 9x9 game against GNU Go: White's B1-B4-C1-C3 and Black's chains share D1 and, through A2-A4, A1, and
# either player's move there is a self-atari; but Black's A5 first joins A2-A4 to B5 and then A1 ataris White.
# Not a seki: White's six stones are dead (GNU Go's verdict too).
APPROACH = """
. . . . . . . . .
O O . . O O . . .
X O O O . . O X .
X X X X O O . O .
. X . O X O . O .
X O X X X X O O .
X O O X X O . . .
X O X X X O O O O
. O O . X X X X O
"""


def test_shared_liberties_that_a_move_elsewhere_opens_are_no_seki():
    g = Game.from_diagram(APPROACH, komi=7)
    assert K.k_bad_self_atari(g._S, g._meta, g._point("A1"), K.BLACK) == g._point("A5")
    assert not K.k_in_seki(g._S, g._meta, g._point("B1"))
    assert {"B1", "B2", "B3", "B4", "C1", "C3"} <= set(dead_stones(g))
