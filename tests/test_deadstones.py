"""Dead-stone estimate and settled ownership (go_engine/deadstones.py)."""

import numpy as np

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
