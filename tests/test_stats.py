"""Statistics of results: scores with draws, Wilson intervals, Elo differences."""

from types import SimpleNamespace

import pytest

from go_engine.stats import elo, score_of, wilson


def test_score_counts_a_draw_as_half_a_win():
    games = [SimpleNamespace(winner=w) for w in ("a", "b", None, "a", None)]
    assert score_of(games, "a") == 3.0 and score_of(games, "b") == 2.0
    assert score_of(games, "c") == 1.0  # a name that never won still shares the draws
    assert score_of([], "a") == 0.0


def test_elo_of_a_wilson_bound_is_below_the_elo_of_the_score():
    lo, hi = wilson(15, 20)
    assert elo(lo * 20, 20) < elo(15, 20) < elo(hi * 20, 20)
    assert elo(15, 20) == pytest.approx(190.85, abs=0.01)
    assert wilson(15, 20, z=1.0)[0] > lo  # a narrower interval at a lower confidence level
