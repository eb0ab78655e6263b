"""What the bundled network must know: komi moves its win rate and its score (issue: strength)."""

import numpy as np
import pytest
import torch

from go_engine.features import game_features
from go_engine.game import Game
from policy.modelfile import BUNDLED, load_model

KOMIS = (-15.0, 0.0, 7.5, 15.0, 30.0)


@pytest.fixture(scope="module")
def bundled():
    return load_model(BUNDLED)  # package data: a missing network is a failure, not a skip


def _empty_board(model, info, komi: float) -> tuple[float, float]:
    """Black's win rate and score lead on the empty 19x19 board, Black to move."""
    planes, glob = game_features(Game(19, komi=komi), version=info.feature_version)
    with torch.no_grad():
        out = model(torch.from_numpy(planes[None]).float(), torch.from_numpy(glob[None]))
    return float(torch.sigmoid(out["value"])[0]), float(out["score"][0])


def test_black_win_rate_on_the_empty_board_falls_with_komi(bundled):
    model, info = bundled
    rates = [_empty_board(model, info, k)[0] for k in KOMIS]
    steps = -np.diff(rates)
    assert np.all(steps >= 0.01), f"win rates {np.round(rates, 3)} at komi {KOMIS}"
    assert rates[0] - rates[-1] >= 0.10, f"win rates {np.round(rates, 3)} at komi {KOMIS}"


def test_score_head_follows_komi(bundled):
    model, info = bundled
    scores = np.array([_empty_board(model, info, k)[1] for k in KOMIS])
    assert np.all(np.diff(scores) < 0), f"score leads {np.round(scores, 2)} at komi {KOMIS}"
    slope = np.polyfit(KOMIS, scores, 1)[0]  # points of lead per point of komi: -1 for a perfect reader
    assert -1.5 <= slope <= -0.5, f"score leads {np.round(scores, 2)} at komi {KOMIS}: slope {slope:.2f}"
