"""The GTP clock: time systems from time_settings and kgs-time_settings, and each move's budget."""

import pytest

from gtp.timecontrol import TimeControl


@pytest.mark.parametrize("main,byo,stones,mode", [(0, 0, 0, "none"), (0, 5, 0, "none"), (10, 0, 0, "absolute"),
                                                  (10, 5, 0, "absolute"), (10, 0, 3, "absolute"),
                                                  (0, 5, 3, "canadian"), (10, 5, 3, "canadian")])
def test_gtp_time_settings_choose_the_system(main, byo, stones, mode):
    clock = TimeControl()
    clock.set_gtp(main, byo, stones)
    assert clock.mode == mode


def test_no_clock_no_budget():
    clock = TimeControl()
    assert clock.budget("B", 81) is None
    clock.set_gtp(0, 0, 0)
    assert clock.budget("W", 81) is None


def test_absolute_time_is_spread_over_the_moves_left():
    clock = TimeControl()
    clock.set("absolute", 100)
    assert clock.budget("B", 81) == pytest.approx(100 / 40)  # half the empty points are moves still to play
    assert clock.budget("B", 0) == pytest.approx(100 / 10)  # at least ten moves
    clock.time_left("B", 3, 0)
    assert clock.budget("B", 81) == pytest.approx(3 / 40) and clock.budget("W", 81) == pytest.approx(2.5)
    clock.time_left("B", 0.5, 0)
    assert clock.budget("B", 81) == 0.05  # nothing to spend beyond the reserve: the shortest budget


def test_main_time_adds_half_a_byoyomi_period():
    clock = TimeControl()
    clock.set("byoyomi", 60, 10, 5)
    assert clock.budget("B", 81) == pytest.approx(60 / 40 + 0.5 * (10 - 0.5))
    clock.set("canadian", 60, 10, 5)
    assert clock.budget("B", 81) == pytest.approx(60 / 40 + 0.5 * (10 / 5 - 0.5))


def test_in_byoyomi_a_period_or_its_share_less_a_reserve():
    clock = TimeControl()
    clock.set("byoyomi", 0, 10, 3)
    assert clock.budget("B", 81) == pytest.approx(10 - 0.5)  # main time spent: a whole period
    clock.time_left("B", 4, 2)
    assert clock.budget("B", 81) == pytest.approx(4 - 0.5)
    clock.set("canadian", 0, 20, 4)
    clock.time_left("W", 20, 4)
    assert clock.budget("W", 81) == pytest.approx(5 - 0.5)
    clock.time_left("W", 1.2, 4)
    assert clock.budget("W", 81) == pytest.approx(0.3 - (0.1 + 0.03))  # a short period keeps less back


def test_settings_and_new_games_forget_the_times_left():
    clock = TimeControl()
    clock.set("absolute", 100)
    clock.time_left("B", 3, 0)
    clock.new_game()
    assert clock.budget("B", 81) == pytest.approx(2.5)
    clock.time_left("B", 3, 0)
    clock.set_gtp(100, 0, 0)
    assert clock.budget("B", 81) == pytest.approx(2.5)


def test_bad_settings_are_refused_and_change_nothing():
    clock = TimeControl()
    clock.set("absolute", 100)
    with pytest.raises(ValueError, match="unknown time system"):
        clock.set("hourglass", 10)
    with pytest.raises(ValueError, match="negative time"):
        clock.set_gtp(-1, 0, 0)
    with pytest.raises(ValueError, match="negative time"):
        clock.set("canadian", 10, -5, 2)
    assert (clock.mode, clock.main_time) == ("absolute", 100)
