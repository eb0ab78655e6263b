"""In-process matches between two evaluators (the loop's evaluation)."""

import json

from go_engine.sgf import parse_sgf
from go_engine.stats import score_of
from selfplay.arena import ArenaConfig, load_games, play_match
from selfplay.evaluators import UniformEvaluator
from selfplay.selfplay import make_evaluator


def test_colours_alternate_records_and_resume(tmp_path):
    cfg = ArenaConfig(size=5, komi=0.5, visits=8, parallel=3, max_moves=40)
    games = play_match((UniformEvaluator(), UniformEvaluator()), ("a", "b"), cfg, 4, tmp_path, seed=1)
    assert [g.number for g in games] == [0, 1, 2, 3]
    assert [(g.black, g.white) for g in games] == [("a", "b"), ("b", "a")] * 2
    for g in games:
        sgf = (tmp_path / f"game-{g.number:04d}.sgf").read_text()
        rec = parse_sgf(sgf)[0]
        assert rec.black == g.black and len(rec.replay().moves) == g.moves
    assert score_of(games, "a") + score_of(games, "b") == 4
    # a killed match: the game whose record is missing is played again, the others are kept
    (tmp_path / "game-0002.json").unlink()
    kept = (tmp_path / "game-0001.json").stat().st_mtime_ns
    again = play_match((UniformEvaluator(), UniformEvaluator()), ("a", "b"), cfg, 4, tmp_path, seed=1)
    assert len(again) == 4 and (tmp_path / "game-0002.json").exists()
    assert (tmp_path / "game-0001.json").stat().st_mtime_ns == kept
    assert json.loads((tmp_path / "game-0003.json").read_text())["black"] == "b"
    assert len(load_games(tmp_path)) == 4


def test_the_network_beats_uniform_priors(tmp_path):
    cfg = ArenaConfig(size=9, komi=7.0, visits=16, parallel=4)
    games = play_match((make_evaluator(None), UniformEvaluator()), ("net", "uniform"), cfg, 4, tmp_path)
    assert score_of(games, "net") == 4, [(g.black, g.result) for g in games]
