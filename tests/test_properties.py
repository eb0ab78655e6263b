"""Property tests: the engine against the flood-fill reference in ``tests/reference.py``.

Random games (mostly legal moves, some passes, illegal attempts, out-of-turn
moves, setup steps and undos) on boards from 2x2 to 25x25 under every rules
preset; after every step the whole visible state must agree with the reference.
"""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from go_engine import PRESETS, Game, IllegalMove
from tests.reference import (
    BLACK,
    KO,
    OCCUPIED,
    OVER,
    PASS,
    SUICIDE,
    SUPERKO,
    WHITE,
    RefGo,
    color_letter,
    other,
    point_of,
    vertex_of,
)

# small boards are weighted heavily: they are fast and reach captures, kos and superko quickly
SIZES = st.sampled_from([2] * 4 + [3] * 6 + [4] * 5 + [5] * 4 + [6] * 3 + [7] * 2
                        + [8, 9, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25])
RULES = st.sampled_from(sorted(PRESETS))
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def engine_reason(message: str | None) -> str | None:
    """The reference's name for the reason in an engine ``why_illegal`` message."""
    if message is None:
        return None
    for word, reason in (("over", OVER), ("occupied", OCCUPIED), ("superko", SUPERKO), ("ko", KO),
                         ("suicide", SUICIDE)):
        if word in message:
            return reason
    raise AssertionError(f"unrecognised reason {message!r}")


def snapshot(game: Game) -> tuple:
    """Everything observable about a game's position, for exact comparison."""
    return (game.board.tobytes(), game.hash, game.to_play, tuple(sorted(game.captures.items())), game.passes,
            game.ko, game.is_over, tuple(game.legal_moves("B")), tuple(game.legal_moves("W")), tuple(game.moves))


def assert_same(game: Game, ref: RefGo, reasons: bool = True) -> dict:
    """The engine's position equals the reference's in every observable respect.

    Returns the reference's reasons for the player to move (empty if not compared)."""
    assert np.array_equal(game.board, ref.board_array()), f"\n{game}\nreference:\n{ref.board_array()[::-1]}"
    assert game.to_play == color_letter(ref.to_play)
    assert game.captures == ref.prisoners()
    assert game.hash == ref.zobrist()
    assert game.passes == ref.passes
    assert game.is_over == ref.is_over
    assert game.ko == ref.ko_vertex()
    if ref.is_over:
        assert game.legal_moves("B") == game.legal_moves("W") == []
        return {}
    by_color = {color: ref.reasons(color) for color in (BLACK, WHITE)}
    for color, why in by_color.items():
        expected_moves = [v for v, reason in why.items() if reason is None] + [PASS]
        assert game.legal_moves(color_letter(color)) == expected_moves, color_letter(color)
    expected = by_color[ref.to_play]
    if reasons:  # why each point is refused, for the player to move
        got = {v: engine_reason(game.why_illegal(v)) for v in expected}
        assert got == expected
    return expected


def random_position(rnd, size: int) -> tuple[list[str], list[str]]:
    """Random black and white stones with no chain left without liberties."""
    density = rnd.choice([0.2, 0.4, 0.6, 0.8])
    ref = RefGo(size)
    for p in ref.points():
        if rnd.random() < density:
            ref.grid[p[0]][p[1]] = rnd.choice([BLACK, WHITE])
    for p in ref.points():  # removing a dead chain only adds liberties to the rest
        if ref.grid[p[0]][p[1]] and not ref.chain(ref.grid, p)[1]:
            for s in ref.chain(ref.grid, p)[0]:
                ref.grid[s[0]][s[1]] = 0
    black = [vertex_of(p) for p in ref.points() if ref.grid[p[0]][p[1]] == BLACK]
    white = [vertex_of(p) for p in ref.points() if ref.grid[p[0]][p[1]] == WHITE]
    return black, white


def removes_stones(ref: RefGo, v: str) -> bool:
    """Whether the legal move ``v`` captures (or suicides) stones."""
    _, (_, captured, suicided, _) = ref.try_move(point_of(v, ref.size), ref.to_play)
    return captured + suicided > 0


def max_steps(size: int) -> int:
    return 60 if size <= 7 else 20 if size <= 13 else 8


def start(data, size: int, rules: str) -> tuple[Game, RefGo]:
    game, ref = Game(size=size, rules=rules), RefGo(size, rules)
    if data.draw(st.booleans(), label="random start"):
        rnd = random.Random(data.draw(st.integers(0, 2**32 - 1), label="position seed"))
        black, white = random_position(rnd, size)
        to_play = data.draw(st.sampled_from("BW"), label="to play")
        game.setup(black=black, white=white, to_play=to_play)
        ref.setup(black=black, white=white, to_play=BLACK if to_play == "B" else WHITE)
    return game, ref


def try_illegal(data, game: Game, ref: RefGo) -> None:
    """Attempt a move the reference refuses: the engine must raise and change nothing."""
    color = data.draw(st.sampled_from([ref.to_play, other(ref.to_play)]), label="illegal colour")
    reasons = ref.reasons(color)
    kinds = sorted({why for why in reasons.values() if why is not None})
    if not kinds:
        return
    # rare kinds as often as common ones, and an immediate ko retake whenever there is one
    kind = KO if KO in kinds else data.draw(st.sampled_from(kinds), label="kind of illegal move")
    v = data.draw(st.sampled_from([v for v, why in reasons.items() if why == kind]), label="illegal move")
    event(f"illegal attempt: {reasons[v]}")
    before = snapshot(game)
    with pytest.raises(IllegalMove):
        game.play(v, color_letter(color))
    assert snapshot(game) == before
    assert not game.is_legal(v, color_letter(color))
    assert engine_reason(game.why_illegal(v, color_letter(color))) == reasons[v]


def random_setup(data, game: Game, ref: RefGo) -> None:
    """A setup step of a few points, sometimes naming one point twice; refused ones change nothing."""
    names = [vertex_of(p) for p in ref.points()]
    pts = data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from([0, 1, 2])), min_size=1,
                             max_size=4), label="setup")
    lists = {0: [], 1: [], 2: []}
    for v, c in pts:
        lists[c].append(v)
    to_play = data.draw(st.sampled_from([BLACK, WHITE]), label="setup to play")
    try:
        ref.setup(black=lists[1], white=lists[2], empty=lists[0], to_play=to_play)
    except ValueError:
        before = snapshot(game)
        with pytest.raises(ValueError):
            game.setup(black=lists[1], white=lists[2], empty=lists[0], to_play=color_letter(to_play))
        assert snapshot(game) == before
        return
    game.setup(black=lists[1], white=lists[2], empty=lists[0], to_play=color_letter(to_play))


@settings(max_examples=200, **SETTINGS)
@given(data=st.data(), size=SIZES, rules=RULES)
def test_random_games_match_reference(data, size, rules):
    game, ref = start(data, size, rules)
    assert_same(game, ref)
    for _ in range(data.draw(st.integers(max_steps(size) // 2, max_steps(size)), label="steps")):
        action = data.draw(st.integers(0, 99), label="action")
        if ref.is_over:
            if action < 50:
                with pytest.raises(IllegalMove):
                    game.play(PASS)
                assert game.legal_moves() == []
            else:
                game.undo()
                ref.undo()
        elif action < 62:  # a legal move for the player to move (pass excluded), often a capture
            moves = ref.legal_moves()[:-1]
            if action < 31:
                moves = [v for v in moves if removes_stones(ref, v)] or moves
            if moves:
                v = data.draw(st.sampled_from(moves), label="move")
                ref.play(v)
                game.play(v)
        elif action < 68:
            ref.play(PASS)
            game.play(PASS)
        elif action < 78:
            try_illegal(data, game, ref)
        elif action < 85:  # a legal move for the other colour, out of turn
            color = other(ref.to_play)
            moves = ref.legal_moves(color)
            v = data.draw(st.sampled_from(moves), label="other move")
            ref.play(v, color)
            game.play(v, color_letter(color))
        elif action < 89:
            random_setup(data, game, ref)
        else:  # undo one or several steps
            for _ in range(data.draw(st.integers(1, 3), label="undos")):
                if not ref.stack:
                    with pytest.raises(IndexError):
                        game.undo()
                    break
                ref.undo()
                game.undo()
        why = set(assert_same(game, ref, reasons=size <= 9 or action >= 62).values())
        for reason in (KO, SUPERKO, SUICIDE):
            if reason in why:
                event(f"{reason} forbade a move")
    event(f"prisoners taken: {'none' if sum(game.captures.values()) == 0 else 'some'}")


@settings(max_examples=60, **SETTINGS)
@given(data=st.data(), size=SIZES, rules=RULES)
def test_undo_restores_every_earlier_state(data, size, rules):
    game, ref = start(data, size, rules)
    states = [snapshot(game)]
    for _ in range(data.draw(st.integers(1, 2 * max_steps(size)), label="moves")):
        if ref.is_over:
            break
        moves = ref.legal_moves()
        if len(moves) > 1 and data.draw(st.integers(0, 9), label="pass?") > 0:
            moves = moves[:-1]
        v = data.draw(st.sampled_from(moves), label="move")
        ref.play(v)
        game.play(v)
        states.append(snapshot(game))
    assert states[-1][:3] == (ref.board_array().tobytes(), ref.zobrist(), color_letter(ref.to_play))
    # undo part of the way, replay the same moves, then undo everything
    k = data.draw(st.integers(0, len(states) - 1), label="partial undo")
    replay = game.moves[len(game.moves) - k:] if k else []
    for i in range(k):
        game.undo()
        assert snapshot(game) == states[-2 - i]
    for color, v in replay:
        game.play(v, color)
    assert snapshot(game) == states[-1]
    for i in range(len(states) - 1):
        game.undo()
        assert snapshot(game) == states[-2 - i]
    # back at the start: the original position (a setup step, if any, is still there to undo)
    assert snapshot(game) == states[0]


@settings(max_examples=40, **SETTINGS)
@given(data=st.data(), size=SIZES, rules=RULES)
def test_copy_is_independent(data, size, rules):
    game, ref = start(data, size, rules)
    for _ in range(data.draw(st.integers(0, max_steps(size) // 2), label="prefix")):
        moves = ref.legal_moves()
        if ref.is_over:
            break
        v = data.draw(st.sampled_from(moves), label="move")
        ref.play(v)
        game.play(v)
    clone, ref_clone = game.copy(), copy.deepcopy(ref)
    before = snapshot(game)
    assert snapshot(clone) == before
    # the copy plays on, undoes past the branch point, and plays on again
    for _ in range(data.draw(st.integers(1, 8), label="clone steps")):
        if ref_clone.stack and data.draw(st.integers(0, 3), label="undo?") == 0:
            ref_clone.undo()
            clone.undo()
        else:
            moves = ref_clone.legal_moves()
            if ref_clone.is_over:
                continue
            v = data.draw(st.sampled_from(moves), label="clone move")
            ref_clone.play(v)
            clone.play(v)
        assert_same(clone, ref_clone, reasons=False)
        assert snapshot(game) == before
    # and the original still plays and undoes like the reference
    moves = ref.legal_moves()
    if moves:
        v = data.draw(st.sampled_from(moves), label="original move")
        ref.play(v)
        game.play(v)
        assert_same(game, ref, reasons=False)
        game.undo()
        assert snapshot(game) == before
