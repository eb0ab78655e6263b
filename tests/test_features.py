"""Input features: plane contents, symmetries, and the loader's replay kernel against Game."""

import numpy as np
import pytest

from go_engine import Game
from go_engine.coords import parse_vertex
from go_engine.features import HISTORY, NUM_GLOBALS, NUM_PLANES, game_features
from policy.data.replay import k_replay
from tests.players import random_move


def _rc(v: str, size: int) -> tuple[int, int]:
    q = parse_vertex(v, size)
    return q // (size + 2) - 1, q % (size + 2) - 1


def test_planes_of_a_small_position():
    g = Game.from_diagram("""
        . . . . .
        . X O . .
        X O . O .
        . X O . .
        . . . . .
    """, to_play="B")
    planes, glob = game_features(g)
    assert planes.shape == (NUM_PLANES, 5, 5) and glob.shape == (NUM_GLOBALS,)
    board = g.board
    assert np.array_equal(planes[0], (board == 1).astype(np.uint8))
    assert np.array_equal(planes[8], (board == -1).astype(np.uint8))
    # the setup step is the only history: one position before it, the empty board
    assert planes[1].sum() == 0 and planes[9].sum() == 0
    # White C3-less shape: B2? check liberties: the white stone at B3 has 1 liberty (C3)
    r, c = _rc("B3", 5)
    assert planes[19, r, c] == 1  # opponent chain in atari
    r, c = _rc("A3", 5)
    assert planes[17, r, c] == 1  # own stone A3 has 2 liberties (A2, A4)
    assert planes[23].all()
    assert glob[1] == 1.0 and glob[0] == pytest.approx(-7.5 / 15)


def test_ko_plane_and_history_order():
    g = Game.from_diagram("""
        . X O .
        X O . O
        . X O .
        . . . .
    """, to_play="B")
    g.play("C3")  # captures B3: a ko
    assert g.ko == "B3"
    planes, _ = game_features(g)
    r, c = _rc("B3", 4)
    assert planes[22, r, c] == 1 and planes[22].sum() == 1
    # White to move: own = white; t-1 is the position before C3, where B3 was still white
    assert planes[0, r, c] == 0 and planes[1, r, c] == 1
    rc3 = _rc("C3", 4)
    assert planes[8][rc3] == 1 and planes[9][rc3] == 0


@pytest.mark.parametrize("sym", range(8))
def test_symmetry_maps_planes_like_numpy(sym):
    g = Game(7)
    for v in ["C3", "E5", "D4", "B6", "F2"]:
        g.play(v)
    base, _ = game_features(g, 0)
    moved, _ = game_features(g, sym)
    expect = base
    if sym & 4:
        expect = expect.transpose(0, 2, 1)
    if sym & 1:
        expect = expect[:, ::-1, :]
    if sym & 2:
        expect = expect[:, :, ::-1]
    assert np.array_equal(moved, expect)
    assert len({game_features(g, s)[0].tobytes() for s in range(8)}) == 8


def test_replay_kernel_matches_game_features():
    rng = np.random.default_rng(5)
    size = 9
    g = Game(size)
    g.setup(black=["C3", "G7"], to_play="W")
    setup = np.array([parse_vertex(v, size) for v in ("C3", "G7")])
    enc_setup = np.array([(q // (size + 2) - 1) * size + q % (size + 2) - 1 + 1 for q in setup], np.int16)
    snapshots, moves = [], []
    while not g.is_over and len(moves) < 120:
        snapshots.append(game_features(g, sym=len(moves) % 8)[0])
        mv = random_move(g, rng)
        c = 1 if g.to_play == "B" else 2
        if mv == "pass":
            p = size * size
        else:
            r, cc = _rc(mv, size)
            p = r * size + cc
        moves.append((p + 1) if c == 1 else -(p + 1))
        g.play(mv)
    moves = np.array(moves, np.int16)
    select = np.arange(len(moves))
    syms = select % 8
    planes = np.zeros((len(moves), NUM_PLANES, size, size), np.uint8)
    policy = np.zeros(len(moves), np.int64)
    to_move = np.zeros(len(moves), np.int64)
    got, error = k_replay(size, 0, False, enc_setup, moves, select, syms, planes, policy, to_move)
    assert got == len(moves) and error == -1
    for i in range(len(moves)):
        assert np.array_equal(planes[i], snapshots[i]), f"position {i}"
    assert HISTORY == 8
