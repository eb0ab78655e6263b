"""tengen loop: two small generations on 5x5 end to end, the report, and resuming after a kill."""

import json
import shutil
from pathlib import Path

import pytest

from go_engine.stats import elo
from selfplay.loop import LoopConfig, final_eval, load_config, report, run_loop
from selfplay.selfplay import SelfPlayConfig

GNUGO = Path("/usr/games/gnugo")


def test_elo():
    assert elo(5, 10) == 0
    assert elo(3, 4) == pytest.approx(190.85, abs=0.01)
    assert elo(0, 4) == -800 and elo(4, 4) == 800


def _cfg(**kw):
    sp = SelfPlayConfig(size=5, komi=0.5, full_visits=8, fast_visits=4, parallel=4)
    base = dict(generations=2, games=4, window=2, steps=4, batch_size=16, blocks=1, channels=8,
                selfplay=sp, eval_games=2, eval_visits=4, gnugo_levels=(1,), gnugo_games=2)
    base.update(kw)
    return LoopConfig(**base)


def test_one_generation_report_and_resume(tmp_path):
    run = tmp_path / "run"
    lines = []
    recs = run_loop(run, _cfg(generations=1, gnugo_every=0), progress=lines.append)
    assert [r["generation"] for r in recs] == [0, 1]
    assert [l.split(":")[1].strip() for l in lines[:3]] == ["self-play", "training", "evaluation"]
    assert lines[0] == "generation 1: self-play: 4 games of network 0" and lines[-1].startswith("generation 1: ")
    rec = json.loads((run / "gen-001" / "done.json").read_text())
    assert rec["vs_best"]["games"] == 2 and rec["games"] == 4 and rec["selfplay"]["games"] == 4
    assert len(list((run / "gen-001" / "games").glob("*.npz"))) == 4
    assert rec["rating"] == pytest.approx(elo(rec["vs_best"]["score"], 2), abs=0.1) and rec["opponent"] == 0
    text = report(run)
    assert text.splitlines()[0].split()[:4] == ["gen", "rating", "games", "hours"]
    assert len(text.splitlines()) == 1 + 2 + 1
    assert (run / "rating.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # killed during the evaluation: done.json and the match are gone, the trained model stays
    (run / "gen-001" / "done.json").unlink()
    shutil.rmtree(run / "gen-001" / "vs-best")
    model = (run / "gen-001" / "model.pt").stat().st_mtime_ns
    again = run_loop(run, _cfg(generations=1, gnugo_every=0), progress=lambda s: None)
    assert len(again) == 2 and (run / "gen-001" / "done.json").exists()
    assert (run / "gen-001" / "model.pt").stat().st_mtime_ns == model  # not trained again
    with pytest.raises(ValueError, match="other settings"):
        run_loop(run, _cfg(generations=1, gnugo_every=0, steps=5))
    assert load_config(run) == _cfg(generations=1, gnugo_every=0)
    # the final evaluation: the last network against the first, in-process
    res = final_eval(run, games=4, visits=4, gnugo_levels=(), progress=lambda s: None)
    assert res["generation"] == 1 and res["vs_gen0"]["games"] == 4
    lo, hi = res["vs_gen0"]["wilson95"]
    assert 0 <= lo <= res["vs_gen0"]["rate"] <= hi <= 1
    assert json.loads((run / "final" / "summary.json").read_text()) == res
    assert len(list((run / "final" / "vs-gen000").glob("game-*.sgf"))) == 4


@pytest.mark.slow
@pytest.mark.skipif(not GNUGO.exists(), reason="GNU Go 3.8 is not installed")
def test_two_generations_with_gnugo_matches(tmp_path):
    recs = run_loop(tmp_path / "run", _cfg(gnugo_every=2), progress=lambda s: None)
    assert [r["generation"] for r in recs] == [0, 1, 2]
    assert recs[2]["games"] == 8 and recs[2]["gnugo"]["1"]["games"] == 2
    assert len(list((tmp_path / "run" / "gen-002" / "vs-gnugo-L1").glob("game-*.sgf"))) == 2
    res = final_eval(tmp_path / "run", games=2, visits=4, gnugo_levels=(1,), gnugo_games=2, progress=lambda s: None)
    assert res["generation"] == 2 and res["vs_gnugo_L1"]["games"] == 2


def test_training_under_torchrun(tmp_path):
    """train_procs=2: the generation's training runs as two gloo processes under torchrun."""
    from policy.modelfile import load_model

    recs = run_loop(tmp_path / "run", _cfg(generations=1, gnugo_every=0, train_procs=2), progress=lambda s: None)
    assert len(recs) == 2
    _net, info = load_model(tmp_path / "run" / "gen-001" / "model.pt")
    assert info.training["world_size"] == 2 and info.training["steps"] == 4
    assert info.training["positions"] == 4 * 16 * 2  # each process takes its own batch


def test_the_network_under_test_runs_as_tengen_gtp_with_its_options(tmp_path):
    """The loop's GNU Go matches start the network under test from a TengenCommand: every field must be
    the tengen gtp option of that name."""
    from selfplay.match import TengenCommand
    from tengen_cli import parse_args

    model = tmp_path / "m.pt"
    model.write_bytes(b"")  # tengen gtp checks that the model file is there before it loads it
    argv = TengenCommand(model=str(model), visits=50, size=9, komi=6.5, rules="japanese", resign_threshold=0.05,
                         random_moves=6).argv()
    assert argv[1:4] == ["-m", "tengen_cli", "gtp"]
    a = parse_args(argv[3:])
    assert (a.model, a.visits, a.size, a.komi, a.rules, a.resign_threshold, a.random_moves, a.threads) == \
        (str(model), 50, 9, 6.5, "japanese", 0.05, 6, 1)
