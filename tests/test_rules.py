"""Rules of Go, one diagram at a time, under every preset.

Diagrams are ASCII boards, top row first: ``X`` black, ``O`` white, ``.`` empty.
"""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest

from go_engine import PRESETS, Game, IllegalMove, handicap_vertices, write_sgf
from go_engine.game import NO_RESULT
from go_engine.kernels import ZOBRIST
from tests.reference import BLACK, WHITE, RefGo, color_letter

ALL_RULES = sorted(PRESETS)
SUPERKO_POSITIONAL = [r for r in ALL_RULES if PRESETS[r].ko == "positional"]
SUPERKO_SITUATIONAL = [r for r in ALL_RULES if PRESETS[r].ko == "situational"]
SIMPLE_KO = [r for r in ALL_RULES if PRESETS[r].ko == "simple"]
SUICIDE_LEGAL = [r for r in ALL_RULES if PRESETS[r].suicide]
SUICIDE_ILLEGAL = [r for r in ALL_RULES if not PRESETS[r].suicide]


def zobrist_of(game: Game) -> int:
    """The Zobrist hash of ``game``'s stones, computed from scratch."""
    n = game.size + 2
    h = 0
    for (row, col), v in np.ndenumerate(game.board):
        if v:
            h ^= int(ZOBRIST[1 if v == 1 else 2, (row + 1) * n + col + 1])
    return h


def stones(game: Game) -> tuple[set[str], set[str]]:
    """The vertices of black's and of white's stones."""
    cols = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
    black = {f"{cols[c]}{r + 1}" for r, c in zip(*np.nonzero(game.board == 1), strict=False)}
    white = {f"{cols[c]}{r + 1}" for r, c in zip(*np.nonzero(game.board == -1), strict=False)}
    return black, white


def state(game: Game) -> tuple:
    return (game.board.tobytes(), game.hash, game.to_play, tuple(sorted(game.captures.items())), game.ko,
            game.passes, game.is_over, tuple(game.legal_moves("B")), tuple(game.legal_moves("W")),
            tuple(game.moves))


def test_diagram_orientation():
    g = Game.from_diagram("""
        X . .
        . . .
        . . O
    """)
    assert g.board[2, 0] == 1 and g.board[0, 2] == -1  # top-left is A3, bottom-right is C1
    assert stones(g) == ({"A3"}, {"C1"})
    assert g.hash == zobrist_of(g)


# ----------------------------------------------------------------- captures
@pytest.mark.parametrize("rules", ALL_RULES)
@pytest.mark.parametrize("diagram, move, gone", [
    # corner
    ("""
     . . . . .
     . . . . .
     . . . . .
     X . . . .
     O . . . .
     """, "B1", {"A1"}),
    # edge
    ("""
     . . . . .
     . . . . .
     . . . . .
     . . X . .
     . X O . .
     """, "D1", {"C1"}),
    # centre, a chain of two
    ("""
     . . . . .
     . . X X .
     . X O O .
     . . X X .
     . . . . .
     """, "E3", {"C3", "D3"}),
], ids=["corner", "edge", "centre"])
def test_capture(rules, diagram, move, gone):
    g = Game.from_diagram(diagram, rules=rules)
    black, white = stones(g)
    g.play(move)
    assert stones(g) == (black | {move}, white - gone)
    assert g.captures == {"B": len(gone), "W": 0}
    assert g.hash == zobrist_of(g)
    for v in gone:  # captured points are empty and playable again
        assert g.is_legal(v, "B")


@pytest.mark.parametrize("rules", ALL_RULES)
def test_one_move_captures_two_chains_at_the_edge(rules):
    g = Game.from_diagram("""
        . . . . .
        . . . . .
        X . . . .
        O X X X .
        O . O O X
    """, rules=rules)
    g.play("B1")
    assert stones(g) == ({"A3", "B2", "C2", "D2", "E1", "B1"}, set())
    assert g.captures == {"B": 4, "W": 0}
    assert g.ko is None
    assert g.hash == zobrist_of(g)


@pytest.mark.parametrize("rules", ALL_RULES)
def test_one_move_captures_four_chains(rules):
    diagram = """
        . . . . . . . . .
        . . . . . . . . .
        . . . . X . . . .
        . . . X O X . . .
        . . X O . O X . .
        . . . X O X . . .
        . . . . X . . . .
        . . . . . . . . .
        . . . . . . . . .
    """
    g = Game.from_diagram(diagram, rules=rules)
    g.play("E5")
    assert stones(g)[1] == set()
    assert g.captures == {"B": 4, "W": 0}
    assert g.ko is None  # four stones taken: no ko
    for v in ("D5", "F5", "E6", "E4"):  # now empty points surrounded by black
        assert g.is_legal(v, "B") and "suicide" in g.why_illegal(v, "W")
    assert g.hash == zobrist_of(g)
    # white filling E5 itself joins all four stones into a chain without liberties
    w = Game.from_diagram(diagram, rules=rules, to_play="W")
    if PRESETS[rules].suicide:
        w.play("E5")
        assert stones(w)[1] == set() and w.captures == {"B": 5, "W": 0}
    else:
        assert "suicide" in w.why_illegal("E5")


@pytest.mark.parametrize("rules", ALL_RULES)
def test_snapback(rules):
    g = Game.from_diagram("""
        . . . . .
        . . . . .
        X X X X .
        O O O X .
        O . . X .
    """, rules=rules)
    g.play("B1")  # throw-in: a single stone in atari
    g.play("C1")  # white takes it ...
    assert g.captures == {"B": 0, "W": 1}
    assert g.ko is None  # ... with a chain of five, so it is no ko
    g.play("B1")  # ... and black takes back five stones
    black, white = stones(g)
    assert white == set()
    assert black == {"A3", "B3", "C3", "D3", "D2", "D1", "B1"}
    assert g.captures == {"B": 5, "W": 1}
    assert g.hash == zobrist_of(g)


# ----------------------------------------------------------------- ko
KO = """
    . . . . .
    . . . . .
    . . . . .
    . X O . .
    X O . O .
"""


@pytest.mark.parametrize("rules", ALL_RULES)
def test_simple_ko_ban_and_release_by_other_moves(rules):
    g = Game.from_diagram(KO, rules=rules)
    g.play("C1")  # takes B1
    assert g.captures["B"] == 1 and g.board[0, 1] == 0
    assert g.ko == "B1"
    assert "B1" not in g.legal_moves()
    before = state(g)
    with pytest.raises(IllegalMove, match="ko"):
        g.play("B1")
    assert state(g) == before
    assert g.is_legal("B1", "B")  # the ban binds only white
    g.play("E5")  # a threat elsewhere lifts the ban ...
    assert g.ko is None
    g.play("A5")
    assert g.is_legal("B1")
    g.play("B1")  # ... so white retakes
    assert g.captures == {"B": 1, "W": 1}
    assert g.ko == "C1"  # and now black may not retake at once
    assert not g.is_legal("C1")
    assert g.hash == zobrist_of(g)


@pytest.mark.parametrize("rules", ALL_RULES)
def test_simple_ko_ban_lifted_by_a_pass(rules):
    g = Game.from_diagram(KO, rules=rules)
    g.play("C1")
    assert not g.is_legal("B1", "W")
    g.play("pass")  # white passes instead of retaking
    assert g.ko is None
    if PRESETS[rules].ko == "simple":
        assert g.is_legal("B1", "W")
    else:  # white retaking now (out of turn) would recreate the start with black to play
        assert "superko" in g.why_illegal("B1", "W")
    g.play("pass")  # two passes: the game is over
    assert g.is_over
    g.undo()
    g.play("A5")
    g.play("B1")  # retake after the pass and a black move
    assert stones(g)[1] >= {"B1"} and g.captures == {"B": 1, "W": 1}


# three kos at once: B takes at C1, W at C9, B at H1; then each is retaken in turn
TRIPLE_KO = """
    O X . X . . . . .
    . O X . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . X O . . . X O .
    X O . O . X O . O
"""
TRIPLE_KO_CYCLE = ["C1", "C9", "H1", "B1", "B9", "G1"]


@pytest.mark.parametrize("rules", ALL_RULES)
def test_triple_ko(rules):
    g = Game.from_diagram(TRIPLE_KO, rules=rules)
    start = g.board.copy()
    for move in TRIPLE_KO_CYCLE[:-1]:
        g.play(move)
        assert g.hash == zobrist_of(g)
    # the sixth capture would bring back the starting position with black to play
    if PRESETS[rules].ko == "simple":
        g.play("G1")
        assert np.array_equal(g.board, start)
        assert g.captures == {"B": 3, "W": 3}
        g.play("C1")  # and the cycle can go round again
        assert g.captures == {"B": 4, "W": 3}
    else:
        assert "superko" in g.why_illegal("G1")
        assert "G1" not in g.legal_moves()
        before = state(g)
        with pytest.raises(IllegalMove, match="superko"):
            g.play("G1")
        assert state(g) == before
        # white's other moves are not affected
        assert g.is_legal("E5") and g.is_legal("pass")


@pytest.mark.parametrize("rules", SIMPLE_KO)
def test_a_ko_cycle_ends_without_a_result_when_the_position_stands_the_third_time(rules):
    g = Game.from_diagram(TRIPLE_KO, rules=rules)
    seen = []
    for _ in range(2):
        for move in TRIPLE_KO_CYCLE:
            g.play(move)
            seen.append(g.cycled)
    assert seen == [False] * 11 + [True]  # the start, black to play, stands for the third time
    out = g.outcome()
    assert (out.winner, out.reason, out.result(), out.score) == (None, NO_RESULT, "Void", None)
    assert "RE[Void]" in write_sgf(g)
    assert not g.is_over and g.is_legal("C1")  # the rules still allow the moves: a referee ends the game
    g.undo()
    assert not g.cycled and g.outcome() is None


def test_a_pass_between_the_repetitions_starts_the_count_again():
    g = Game.from_diagram(TRIPLE_KO)  # chinese: simple ko
    for move in TRIPLE_KO_CYCLE:
        g.play(move)
    g.play("pass")
    g.play("pass")
    g.resume()  # the start, black to play, for the third time in all: once since the last pass
    assert not g.cycled
    for move in TRIPLE_KO_CYCLE:
        g.play(move)
    assert not g.cycled  # four times in all, twice since the passes
    for move in TRIPLE_KO_CYCLE:
        g.play(move)
    assert g.cycled


# two kos; white to move. After W C9, B C1, W pass, B B9, W B1 the board is the
# starting one again, but now with black (not white) to play.
TWO_KOS = """
    O X . X . . . . .
    . O X . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . . . . . . . . .
    . X O . . . . . .
    X O . O . . . . .
"""


@pytest.mark.parametrize("rules", ALL_RULES)
def test_positional_and_situational_superko_differ(rules):
    g = Game.from_diagram(TWO_KOS, rules=rules, to_play="W")
    start = g.board.copy()
    for move in ["C9", "C1", "pass", "B9"]:
        g.play(move)
    if PRESETS[rules].ko == "positional":
        assert "superko" in g.why_illegal("B1")  # the board repeats
        with pytest.raises(IllegalMove):
            g.play("B1")
    else:  # situational: that board was seen only with white to play
        g.play("B1")
        assert np.array_equal(g.board, start)
        assert g.to_play == "B"


@pytest.mark.parametrize("rules", SUPERKO_SITUATIONAL)
def test_situational_superko_forbids_the_same_player_to_move(rules):
    g = Game.from_diagram(TWO_KOS, rules=rules, to_play="B")  # now the start has black to play
    g.play("pass")
    for move in ["C9", "C1", "pass", "B9"]:
        g.play(move)
    assert "superko" in g.why_illegal("B1")


# ----------------------------------------------------------------- suicide
MULTI_SUICIDE = """
    . . . . .
    . . . . .
    O . . . .
    X O . . .
    . X O . .
"""


@pytest.mark.parametrize("rules", SUICIDE_LEGAL)
def test_multi_stone_suicide_legal(rules):
    g = Game.from_diagram(MULTI_SUICIDE, rules=rules)
    assert "A1" in g.legal_moves()
    g.play("A1")
    assert stones(g) == (set(), {"A3", "B2", "C1"})
    assert g.captures == {"B": 0, "W": 3}  # the suicided stones are white's prisoners
    assert g.to_play == "W"
    assert g.hash == zobrist_of(g)
    g.undo()
    assert stones(g) == ({"A2", "B1"}, {"A3", "B2", "C1"})
    assert g.captures == {"B": 0, "W": 0}


@pytest.mark.parametrize("rules", SUICIDE_ILLEGAL)
def test_multi_stone_suicide_illegal(rules):
    g = Game.from_diagram(MULTI_SUICIDE, rules=rules)
    assert "A1" not in g.legal_moves()
    before = state(g)
    with pytest.raises(IllegalMove, match="suicide"):
        g.play("A1")
    assert state(g) == before
    assert g.is_legal("A1", "W")


@pytest.mark.parametrize("rules", ALL_RULES)
def test_single_stone_suicide_always_illegal(rules):
    g = Game.from_diagram("""
        . . .
        O . .
        . O .
    """, rules=rules)
    assert "suicide" in g.why_illegal("A1")
    assert "A1" not in g.legal_moves()
    before = state(g)
    with pytest.raises(IllegalMove, match="suicide"):
        g.play("A1")
    assert state(g) == before
    assert g.is_legal("A1", "W")  # white filling its own eye is fine


@pytest.mark.parametrize("rules", ALL_RULES)
def test_filling_the_last_liberty_is_legal_when_it_captures(rules):
    g = Game.from_diagram("""
        . . .
        O X .
        . O X
    """, rules=rules)
    # black A1 touches only white stones, but white B1's last liberty is A1: the move captures
    assert g.is_legal("A1")
    g.play("A1")
    assert g.captures["B"] == 1 and g.board[0, 1] == 0 and g.board[0, 0] == 1


# ----------------------------------------------------------------- scoring
SEKI = """
    . X X O .
    X X X O O
    X X . O O
    X X X O O
    X X X O O
"""


@pytest.mark.parametrize("rules", ALL_RULES)
def test_seki_shared_liberty_is_neutral_under_area_scoring(rules):
    g = Game.from_diagram(SEKI, rules=rules, komi=0.5)
    own = g.ownership()
    assert own[2, 2] == 0  # C3, the shared liberty
    assert own[4, 0] == 1 and own[4, 4] == -1  # A5 black's eye, E5 white's eye
    assert g.score() == (13 + 1) - (9 + 1) - 0.5
    # it is a real seki: whoever fills C3 puts its own group in atari and loses it
    b = g.copy()
    b.play("C3")
    b.play("A5")
    assert b.captures["W"] == 14
    w = g.copy()
    w.play("C3", "W")
    w.play("E5", "B")
    assert w.captures["B"] == 10
    assert "suicide" in g.why_illegal("E5")  # and an eye cannot be filled by the other side
    assert "suicide" in g.why_illegal("A5", "W")


DEAD_STONE = """
    . . X O .
    . O X O .
    . . X O .
    X . X O .
    O . X O .
"""


@pytest.mark.parametrize("rules", ["japanese", "korean", "chinese", "aga", "tromp-taylor"])
def test_scoring_with_dead_stones(rules):
    g = Game.from_diagram(DEAD_STONE, rules=rules, komi=0.5)
    g.play("B1")  # takes A1: one prisoner for black
    assert g.captures == {"B": 1, "W": 0}
    g.play("pass")
    g.play("pass")
    # territory: A1 A3 A4 A5 B2 B3 B5 + the dead stone's point B4 = 8, prisoners 1 + 1 dead; white E1-E5 = 5
    assert g.territory_score(dead=["B4"]) == (8 + 2) - 5 - 0.5
    # without marking B4 dead, the left side touches both colours and is nobody's
    assert g.territory_score() == (1 + 1) - 5 - 0.5  # A1 alone is still black's
    # area: black 7 stones + 8 points, white 5 stones + 5 points
    assert g.score(dead=["B4"]) == 15 - 10 - 0.5
    assert g.score() == (7 + 1) - (6 + 5) - 0.5
    own = g.ownership(dead=["B4"])
    assert own[3, 1] == 1 and own[0, 0] == 1 and own[0, 4] == -1
    expected = g.territory_score(["B4"]) if PRESETS[rules].scoring == "territory" else g.score(["B4"])
    assert g.final_score(["B4"]) == expected
    out = g.outcome(dead=["B4"])
    assert (out.winner, out.reason, out.margin) == ("B", "score", 4.5)
    assert out.result() == "B+4.5"
    with pytest.raises(ValueError, match="A1"):
        g.score(dead=["A1"])  # no stone there


@pytest.mark.parametrize("rules, bonus", [("chinese", 3), ("chinese-ogs", 3), ("aga", 2), ("bga", 2),
                                          ("tromp-taylor", 0), ("nz", 0)])
def test_handicap_bonus_in_area_scoring(rules, bonus):
    g = Game(size=9, komi=0.5, rules=rules)
    assert g.place_handicap(3) == ["C3", "G7", "C7"]
    assert g.to_play == "W" and g.handicap == 3
    g.play("E5")  # white
    g.play("pass")
    g.play("pass")
    # the lone white stone makes every empty point touch both colours
    assert g.score() == 3 - 1 - 0.5 - bonus
    assert g.final_score() == g.score()


@pytest.mark.parametrize("rules", ["japanese", "korean"])
def test_no_handicap_bonus_in_territory_scoring(rules):
    g = Game(size=9, komi=0.5, rules=rules)
    g.place_handicap(4)
    assert g.final_score() == g.territory_score() == 77 - 0.5


@pytest.mark.parametrize("rules, per_stones", [("chinese", {0: 0, 1: 0, 2: 2, 9: 9}), ("aga", {0: 0, 1: 0, 2: 1, 9: 8}),
                                               ("nz", {1: 0, 2: 0, 9: 0}), ("japanese", {2: 0, 9: 0})])
def test_handicap_bonus_table(rules, per_stones):
    for n, bonus in per_stones.items():
        assert PRESETS[rules].bonus(n) == bonus


# ----------------------------------------------------------------- end of game
@pytest.mark.parametrize("rules", ALL_RULES)
def test_two_passes_end_the_game(rules):
    g = Game(size=9, komi=7.5, rules=rules)
    g.play("E5")
    g.play("pass")
    assert not g.is_over
    g.play("C3")  # a move in between resets the count
    g.play("pass")
    assert not g.is_over and g.passes == 1
    g.play("pass")
    assert g.is_over and g.passes == 2
    assert g.legal_moves() == [] and g.legal_moves("W") == []
    assert not g.is_legal("D4") and not g.is_legal("pass")
    before = state(g)
    for move in ("D4", "pass"):
        with pytest.raises(IllegalMove, match="over"):
            g.play(move)
    with pytest.raises(IllegalMove):
        g.resign()
    assert state(g) == before
    out = g.outcome()
    # only black stones: every empty point is black's
    expected = 81 - 7.5 if PRESETS[rules].scoring == "area" else 79 - 7.5
    assert g.final_score() == expected
    assert out.reason == "score" and out.winner == ("B" if expected > 0 else "W") and out.margin == abs(expected)
    g.undo()  # taking back a pass reopens the game
    assert not g.is_over and g.to_play == "B" and g.outcome() is None
    g.play("D4")


def test_draw_by_score():
    g = Game(size=5, komi=0, rules="chinese")
    g.play("pass")
    g.play("pass")
    assert g.outcome().winner is None and g.outcome().result() == "0"


@pytest.mark.parametrize("color, winner", [(None, "W"), ("B", "W"), ("W", "B")])
def test_resignation(color, winner):
    g = Game(size=9)
    g.play("E5")
    g.play("C3")  # black to move
    assert g.outcome() is None
    g.resign(color)
    assert g.is_over and g.resigned == ("B" if winner == "W" else "W")
    out = g.outcome()
    assert (out.winner, out.reason) == (winner, "resignation")
    assert out.result() == f"{winner}+R"
    assert g.legal_moves() == []
    with pytest.raises(IllegalMove):
        g.play("D4")
    g.undo()  # taking back the resignation
    assert not g.is_over and g.outcome() is None and g.resigned is None
    assert len(g.moves) == 2
    g.play("D4")


# ----------------------------------------------------------------- whole games
def own_eye(board: np.ndarray, to_play: str, ref: RefGo, v: str) -> bool:
    """Whether every neighbour of ``v`` is a stone of the player to move (random games skip those)."""
    row, col = int(v[1:]) - 1, "ABCDEFGHJKLMNOPQRSTUVWXYZ".index(v[0])
    me = 1 if to_play == "B" else -1
    return all(board[r, c] == me for r, c in ref.neighbours((row, col)))


@pytest.mark.parametrize("size, rules, full_check", [(2, "chinese", True), (2, "tromp-taylor", True),
                                                     (2, "aga", True), (3, "nz", True),
                                                     (25, "chinese", False)])
def test_random_game_to_the_end(size, rules, full_check):
    rnd = random.Random(size * 1000 + len(rules))
    g, ref = Game(size=size, komi=0.5, rules=rules), RefGo(size, rules)
    for _ in range(4 * size * size + 50):
        if g.is_over:
            break
        moves = g.legal_moves()[:-1]
        rnd.shuffle(moves)
        board = g.board
        move = next((v for v in moves if not own_eye(board, g.to_play, ref, v)), "pass")
        if size <= 3 and rnd.random() < 0.05:  # tiny boards: sometimes pass early
            move = "pass"
        g.play(move)
        ref.play(move)
        if full_check or len(ref.stack) % 20 == 0:
            assert np.array_equal(g.board, ref.board_array())
            assert g.captures == ref.prisoners() and g.hash == ref.zobrist()
        if full_check:
            for color in (BLACK, WHITE):
                assert g.legal_moves(color_letter(color)) == ref.legal_moves(color)
    if not g.is_over:  # a cycle under simple ko on a tiny board: stop it
        g.play("pass")
        g.play("pass")
    assert g.is_over
    assert np.array_equal(g.board, ref.board_array())
    assert g.captures == ref.prisoners() and g.hash == ref.zobrist()
    assert g.score() == ref.area() - 0.5
    assert sum(g.captures.values()) > 0 or size == 2
    for _ in range(len(g.moves)):  # and the whole game undoes to an empty board
        g.undo()
    assert not g.board.any() and g.hash == 0 and g.captures == {"B": 0, "W": 0} and g.to_play == "B"
    with pytest.raises(IndexError):
        g.undo()


def test_two_by_two_board():
    g = Game(size=2, rules="tromp-taylor")
    assert g.legal_moves() == ["A1", "B1", "A2", "B2", "pass"]
    g.play("A1")
    g.play("B2")
    g.play("B1")  # black B1 and A1: white B2 has liberty A2 only
    assert g.legal_moves("W") == ["A2", "pass"]
    g.play("A2")  # white takes A1 and B1 (two stones)
    assert stones(g) == (set(), {"A2", "B2"})
    assert g.captures == {"B": 0, "W": 2}


def test_twenty_five_board_corners():
    g = Game(size=25)
    for v in ("A1", "Z25", "A25", "Z1", "M13"):
        g.play(v)
    assert g.board[0, 0] == 1 and g.board[24, 24] == -1 and g.board[24, 0] == 1 and g.board[0, 24] == -1
    assert g.board[12, 11] == 1
    assert len(g.legal_moves()) == 625 - 5 + 1
    assert g.hash == zobrist_of(g)


# ----------------------------------------------------------------- handicap
def test_fixed_handicap_vertices_19():
    assert handicap_vertices(19, 2) == ["D4", "Q16"]
    assert handicap_vertices(19, 3) == ["D4", "Q16", "D16"]
    assert handicap_vertices(19, 4) == ["D4", "Q16", "D16", "Q4"]
    assert handicap_vertices(19, 5) == ["D4", "Q16", "D16", "Q4", "K10"]
    assert handicap_vertices(19, 6) == ["D4", "Q16", "D16", "Q4", "D10", "Q10"]
    assert handicap_vertices(19, 7) == ["D4", "Q16", "D16", "Q4", "D10", "Q10", "K10"]
    assert handicap_vertices(19, 8) == ["D4", "Q16", "D16", "Q4", "D10", "Q10", "K4", "K16"]
    assert handicap_vertices(19, 9) == ["D4", "Q16", "D16", "Q4", "D10", "Q10", "K4", "K16", "K10"]


@pytest.mark.parametrize("size, stones_, expected", [
    (9, 2, ["C3", "G7"]), (9, 9, ["C3", "G7", "C7", "G3", "C5", "G5", "E3", "E7", "E5"]),
    (13, 5, ["D4", "K10", "D10", "K4", "G7"]), (7, 4, ["C3", "E5", "C5", "E3"]),
    (8, 4, ["C3", "F6", "C6", "F3"]), (25, 2, ["D4", "W22"]),
])
def test_fixed_handicap_vertices_other_sizes(size, stones_, expected):
    assert handicap_vertices(size, stones_) == expected


@pytest.mark.parametrize("size, stones_", [(19, 1), (19, 10), (19, 0), (8, 5), (7, 5), (6, 2), (2, 2)])
def test_fixed_handicap_out_of_range(size, stones_):
    with pytest.raises(ValueError, match=f"of {stones_} stones"):
        handicap_vertices(size, stones_)


def test_place_handicap():
    g = Game(size=19)
    verts = g.place_handicap(9)
    assert stones(g) == (set(verts), set())
    assert g.to_play == "W" and g.handicap == 9
    assert g.hash == zobrist_of(g)
    with pytest.raises(ValueError):
        g.place_handicap(2)  # not on an empty board


def test_undoing_the_handicap_drops_the_bonus():
    g = Game(size=9, komi=0.5, rules="chinese")
    g.place_handicap(3)
    g.play("E5")
    g.undo()
    assert g.handicap == 3  # still there while the stones are
    g.undo()
    assert not g.board.any() and g.handicap == 0
    g.play("pass")
    g.play("pass")
    assert g.score() == -0.5  # an empty board: komi only, no handicap bonus


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("size", [1, 26, 0, -3, "9", 9.0, None])
def test_bad_board_size(size):
    with pytest.raises(ValueError, match=re.escape(repr(size))):
        Game(size=size)


@pytest.mark.parametrize("rules", ["go", "chinese-2017", ""])
def test_unknown_rules(rules):
    with pytest.raises(ValueError, match=re.escape(f"unknown rules '{rules}'")):
        Game(rules=rules)


def test_rules_aliases_and_case():
    assert Game(rules="Tromp-Taylor").rules is PRESETS["tromp-taylor"]
    assert Game(rules="JAPANESE").rules is PRESETS["japanese"]


@pytest.mark.parametrize("vertex", ["Z99", "I5", "", "D0", 5, "A20", "U1", "Z1", "D", "44", "D4x", None, "i5"])
def test_malformed_or_off_board_vertex(vertex):
    g = Game(size=19)
    g.play("D4")
    before = state(g)
    for call in (g.play, g.is_legal, g.why_illegal):
        with pytest.raises(ValueError) as err:
            call(vertex)
        assert repr(vertex) in str(err.value)
    assert state(g) == before


@pytest.mark.parametrize("vertex", ["K5", "A10", "J10", "Z9"])
def test_off_board_on_9x9(vertex):
    g = Game(size=9)
    with pytest.raises(ValueError, match=vertex):
        g.play(vertex)
    assert not g.board.any() and g.to_play == "B" and g.moves == []


def test_vertex_spellings():
    g = Game(size=19)
    g.play("d4")
    g.play(" Q16 ")
    g.play("PASS")
    assert stones(g) == ({"D4"}, {"Q16"})
    assert g.moves == [("B", "D4"), ("W", "Q16"), ("B", "pass")]


def test_bad_colour():
    g = Game(size=9)
    with pytest.raises(ValueError, match="'X'"):
        g.play("E5", "X")
    with pytest.raises(ValueError, match="'red'"):
        g.to_play = "red"
    assert g.to_play == "B" and not g.board.any()


@pytest.mark.parametrize("rules", ALL_RULES)
def test_occupied_point_rejected_without_change(rules):
    g = Game(size=9, rules=rules)
    g.play("E5")
    before = state(g)
    for color in ("W", "B"):
        with pytest.raises(IllegalMove, match="occupied"):
            g.play("E5", color)
        assert state(g) == before
    assert "E5" in str(pytest.raises(IllegalMove, g.play, "E5").value)


def test_undo_with_nothing_to_undo():
    g = Game(size=9)
    with pytest.raises(IndexError):
        g.undo()


def test_setup_refuses_a_chain_without_liberties():
    g = Game(size=5)
    g.play("C3")
    before = state(g)
    with pytest.raises(ValueError, match="A1"):
        g.setup(black=["A1"], white=["A2", "B1"])
    assert state(g) == before


def test_setup_undo_restores_a_point_named_twice():
    g = Game(size=5)
    g.setup(white=["A1"])
    g.setup(empty=["A1", "A1"], black=["A1"], white=["A1"])  # A1 ends white; the undo must bring back white
    g.undo()
    assert g.board[0, 0] == -1
    g.setup(black=["C3"], white=["C3"])
    assert g.board[2, 2] == -1
    assert [c for c, _ in g.history] == [0, 0] and g.moves == []  # setup steps are in history, not moves
    g.undo()
    assert g.board[2, 2] == 0
    assert g.hash == zobrist_of(g)


def test_katago_rules_names_and_json():
    from go_engine.rules import katago_rules

    assert katago_rules("tromp-taylor") == (PRESETS["tromp-taylor"], [])
    assert katago_rules("new zealand")[0] == PRESETS["nz"] and katago_rules("chinese_ogs")[0] == PRESETS["chinese-ogs"]
    # KataGo's JSON, as an object or as text: the matching preset, else a custom rule set
    assert katago_rules({"ko": "SIMPLE", "scoring": "TERRITORY", "tax": "SEKI", "suicide": False})[0] == PRESETS["japanese"]
    custom, notes = katago_rules('{"ko":"POSITIONAL","scoring":"TERRITORY","suicide":true,"whiteHandicapBonus":"N"}')
    assert (custom.name, custom.ko, custom.scoring, custom.suicide, custom.handicap_bonus) == \
        ("custom", "positional", "territory", True, "N") and notes == []
    # what Tengen does not play is named in a warning
    assert katago_rules("stone_scoring")[1] and katago_rules({"ko": "SIMPLE", "scoring": "AREA", "hasButton": True})[1]
    for bad in ("fancy", {"ko": "SPIGHT"}, {"komi": 7.5}, "{not json", 7, {"suicide": "yes"}):
        with pytest.raises(ValueError):
            katago_rules(bad)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_katago_json_reads_back_as_the_same_rules(name):
    from go_engine.rules import katago_json, katago_rules

    spec = katago_json(PRESETS[name])
    back, notes = katago_rules(json.dumps(spec))
    assert notes == [] and (back.ko, back.suicide, back.scoring, back.handicap_bonus) == \
        (PRESETS[name].ko, PRESETS[name].suicide, PRESETS[name].scoring, PRESETS[name].handicap_bonus)
    assert spec["ko"] in ("SIMPLE", "POSITIONAL", "SITUATIONAL") and spec["scoring"] in ("AREA", "TERRITORY")
