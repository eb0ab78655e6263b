"""The player shared by GTP, self-play and the arena: move choice, resignation, outcome, tree reuse."""

import numpy as np
import pytest

from go_engine.game import Game
from selfplay.evaluators import UniformEvaluator
from selfplay.player import Player, PlayerConfig, temperature_schedule
from selfplay.search import Evaluation


class FixedValue:
    """Uniform priors and one value for every leaf (for the player to move there)."""

    needs_history = False

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, leaves):
        a = leaves.size ** 2 + 1
        return Evaluation(np.full((len(leaves), a), 1.0 / a, np.float32), np.full(len(leaves), self.value, np.float32),
                          np.zeros(len(leaves), np.float32))


def test_temperature_schedule():
    assert temperature_schedule(0) == 1.0
    assert temperature_schedule(40, moves=30) == 0.0
    assert abs(temperature_schedule(10, start=1.0, end=0.0, halflife=10) - 0.5) < 1e-9


def test_temperature_after_the_random_moves():
    p = Player(PlayerConfig(random_moves=2))
    assert [p.temperature(n) for n in range(4)] == [1.0, 1.0, 0.0, 0.0]
    sp = Player(PlayerConfig(random_moves=1, temperature=1.0, temperature_end=0.2, temperature_halflife=10))
    assert sp.temperature(0) == 1.0 and sp.temperature(10) == pytest.approx(0.6)


def test_random_moves_are_drawn_from_the_players_generator():
    def opening(seed):
        p = Player(PlayerConfig(random_moves=6), rng=np.random.default_rng(seed))
        p.new_game(Game(9))
        moves = []
        for _ in range(6):
            p.think(p.game, UniformEvaluator(), 24)
            moves.append(p.choose())
            p.play(moves[-1])
        return moves

    assert opening(1) == opening(1)
    assert len({tuple(opening(s)) for s in range(4)}) > 1


def test_choose_by_prior_takes_the_networks_favourite():
    class Favourite(FixedValue):
        def __call__(self, leaves):
            ev = super().__call__(leaves)
            ev.priors[:, 12] = 1.0  # C3 on a 5x5 board (row-major index 2 * 5 + 2)
            return ev

    p = Player()
    p.think(Game(5), Favourite(0.0), 1)
    assert p.choose(by_prior=True) == "C3"


class BlackLoses(FixedValue):
    """Every position is lost for Black by ``value`` (won for White)."""

    def __call__(self, leaves):
        ev = super().__call__(leaves)
        white = np.array([leaves.to_move(i) == 2 for i in range(len(leaves))])
        return Evaluation(ev.priors, np.where(white, -ev.values, ev.values).astype(np.float32), ev.scores)


@pytest.mark.parametrize("value,resigns", [(-0.9, True), (0.0, False)])
def test_resigns_after_consecutive_low_moves_once_a_quarter_is_played(value, resigns):
    p = Player(PlayerConfig(resign_threshold=0.1, resign_moves=3))
    game = Game(5)
    answers = []
    for _ in range(10):
        p.think(game, BlackLoses(value), 8)
        answers.append(p.wants_to_resign())
        game.play(next(m for m in game.legal_moves() if m != "pass"))
    if resigns:
        # Black searches at moves 0, 2, 4, ...: its third low search is at move 4, but resigning waits
        # for a quarter of the 25 points to be played (6 moves), so Black resigns at move 6
        assert [i for i, a in enumerate(answers) if a] == [6, 8] and p.low == {"B": 5, "W": 0}
    else:
        assert not any(answers) and p.low == {"B": 0, "W": 0}


def test_a_threshold_of_zero_never_resigns():
    p = Player(PlayerConfig(resign_threshold=0.0, resign_moves=1))
    game = Game(3)
    for _ in range(6):
        p.think(game, FixedValue(-1.0), 4)
        assert not p.wants_to_resign()
        game.play("pass" if game.passes else game.legal_moves()[0])
        if game.is_over:
            break


def test_sync_keeps_the_subtree_and_restarts_on_another_line():
    p = Player()
    game = Game(7)
    s = p.think(game, UniformEvaluator(), 64)
    reply = s.analysis()[0]["move"]
    game.play(reply)
    assert p.sync(game) is s and s.root_visits > 0  # the opponent's move: the same tree, one level down
    other = Game(7)
    other.play("A1" if reply != "A1" else "B1")
    assert p.sync(other) is not s and p.search.root_visits == 0


def test_outcome_by_resignation_or_by_count():
    p = Player()
    p.new_game(Game(5, komi=0.5))
    for move in ("C3", "pass", "pass"):
        p.play(move)
    assert p.outcome().result() == "B+24.5" and p.outcome().score == 24.5
    p.new_game(Game(5, komi=0.5))
    p.play("C3")
    assert p.outcome().result() == "B+24.5"  # unfinished (a move cap): counted as it stands
    p.game.resign("B")
    assert p.outcome().result() == "W+R" and p.outcome().score is None
