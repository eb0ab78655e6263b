"""Self-play workers as Ray actors: one small loop generation on a local cluster started here."""

import json

import pytest

ray = pytest.importorskip("ray", reason="Ray is the optional extra 'distributed'")

from selfplay.loop import LoopConfig, run_loop  # noqa: E402
from selfplay.selfplay import SelfPlayConfig, load_stats  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_one_generation_on_ray_actors(cluster, tmp_path):
    sp = SelfPlayConfig(size=5, komi=0.5, full_visits=8, fast_visits=4, parallel=2)
    cfg = LoopConfig(generations=1, games=5, window=1, steps=4, batch_size=16, blocks=1,
                     channels=8, selfplay=sp, eval_games=2, eval_visits=4, ray_actors=2)
    recs = run_loop(tmp_path / "run", cfg, progress=lambda s: None)
    games = tmp_path / "run" / "gen-001" / "games"
    stats = load_stats(games)
    assert len(stats) == 5 and recs[1]["selfplay"]["games"] == 5
    # chunks of cfg.parallel games from two actors: 2 + 2 + 1, names from distinct chunks
    assert len({s.name.rsplit("-", 1)[0] for s in stats}) == 3
    for s in stats:
        assert (games / f"{s.name}.sgf").read_text().startswith("(;")
        assert (games / f"{s.name}.npz").stat().st_size > 0
    assert (tmp_path / "run" / "gen-001" / "model.pt").exists()
    assert json.loads((tmp_path / "run" / "gen-001" / "done.json").read_text())["vs_best"]["games"] == 2
