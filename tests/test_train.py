"""Training runs: refusal of an existing run, safe checkpoints, metrics on resume, a non-finite loss,
a time budget, warm start from an earlier feature version, loader workers, and bf16 autocast on the CPU."""

import json
import pickle

import pytest
import torch

import policy.train as train_mod
import tengen_cli
from go_engine.features import FEATURE_PLANES
from policy.model import GoNet, NetConfig
from policy.modelfile import ModelInfo, load_model, save_model
from policy.train import TrainConfig, Trainer, TrainingError
from tests.test_model import TINY, _tiny_data


def _cfg(tmp_path, **kw):
    _tiny_data(tmp_path / "d" / "s.npz")
    base = dict(train=[str(tmp_path / "d")], out=str(tmp_path / "run"), steps=12, batch_size=16, lr=0.02,
                warmup_steps=2, log_every=2, eval_every=1000, checkpoint_minutes=100, net=TINY,
                optimizer="adamw", device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def test_an_existing_run_is_refused_unless_resumed_or_forced(tmp_path):
    Trainer(_cfg(tmp_path, steps=4)).run()
    with pytest.raises(ValueError, match="holds an earlier run .*--resume continues it, --force"):
        Trainer(_cfg(tmp_path, steps=4))
    rc = tengen_cli.main(["train", str(tmp_path / "d"), "--out", str(tmp_path / "run"), "--steps", "2",
                          "--blocks", "1", "--channels", "8", "--device", "cpu"])
    assert rc == 2
    t = Trainer(_cfg(tmp_path, steps=4), force=True)
    assert t.step == 0 and not (tmp_path / "run" / "metrics.jsonl").exists()


class _Planted:
    def __reduce__(self):  # what an attacker's pickle does when it is loaded
        import pathlib
        return (pathlib.Path.write_text, (pathlib.Path(_Planted.target), "pwned"))


def test_a_planted_checkpoint_cannot_run_code(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    _Planted.target = str(tmp_path / "written-by-pickle")
    torch.save({"model": _Planted(), "config": "{}"}, run / "checkpoint.pt")
    with pytest.raises(ValueError, match="not a readable Tengen checkpoint"):
        Trainer(_cfg(tmp_path), resume=True)
    assert not (tmp_path / "written-by-pickle").exists()
    # plain pickle too (torch.load's legacy format)
    (run / "checkpoint.pt").write_bytes(pickle.dumps(_Planted()))
    with pytest.raises(ValueError, match="not a readable Tengen checkpoint"):
        Trainer(_cfg(tmp_path), resume=True)
    assert not (tmp_path / "written-by-pickle").exists()


def test_resumed_metrics_have_no_duplicate_steps(tmp_path):
    t = Trainer(_cfg(tmp_path, steps=12))
    t.run(until_step=6)
    # a kill after the checkpoint: metrics written past it, then lost work
    with open(tmp_path / "run" / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"step": 8, "loss": 1.0}) + "\n" + '{"step": 10, "lo')
    resumed = Trainer(_cfg(tmp_path, steps=12), resume=True)
    resumed.run()
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 12


def test_a_loss_that_is_not_finite_stops_training_without_a_bad_checkpoint(tmp_path, monkeypatch):
    t = Trainer(_cfg(tmp_path, steps=12))
    t.run(until_step=4)
    good = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"]
    real = train_mod.losses
    calls = {"n": 0}

    def poisoned(out, targets, cfg):
        calls["n"] += 1
        d = real(out, targets, cfg)
        if calls["n"] == 3:
            d["loss"] = d["loss"] * float("nan")
        return d

    monkeypatch.setattr(train_mod, "losses", poisoned)
    t = Trainer(_cfg(tmp_path, steps=12), resume=True)
    with pytest.raises(TrainingError, match="not finite .* by step 7"):
        t.run()
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == good
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_a_time_budget_ends_the_run(tmp_path):
    t = Trainer(_cfg(tmp_path, steps=10 ** 6, minutes=0.02))
    t.run()
    assert 0 < t.step < 10 ** 6 and t.elapsed >= 1.2
    assert (tmp_path / "run" / "model.pt").exists()


def test_warm_start_from_an_earlier_feature_version_keeps_the_function(tmp_path):
    v1 = NetConfig(blocks=1, channels=8, gpool_channels=4, head_channels=4, value_hidden=8, gpool_every=1,
                   in_planes=FEATURE_PLANES[1])
    torch.manual_seed(3)
    old = GoNet(v1).eval()
    save_model(tmp_path / "v1.pt", old, ModelInfo(v1, feature_version=1))
    cfg = _cfg(tmp_path, init=str(tmp_path / "v1.pt"), net=v1, steps=1)
    t = Trainer(cfg)
    assert cfg.net.in_planes == FEATURE_PLANES[2]
    planes = (torch.rand(2, FEATURE_PLANES[2], 9, 9) < 0.3).float()
    planes[:, 23] = 1
    globs = torch.zeros(2, 6)
    t.model.eval()
    new = t.model(planes, globs)
    ref = old(planes[:, :FEATURE_PLANES[1]], globs)
    assert torch.allclose(new["policy"], ref["policy"], atol=1e-5)
    t.run()
    model, info = load_model(tmp_path / "run" / "model.pt")
    assert info.feature_version == 2 and info.config.in_planes == FEATURE_PLANES[2]


def test_training_with_loader_workers(tmp_path):
    t = Trainer(_cfg(tmp_path, steps=6, loader_workers=2))
    t.run()
    assert t.step == 6 and t.positions == 6 * 16


def test_the_precision_option_reaches_the_trainer(monkeypatch, tmp_path):
    got = []

    class Recorder:
        def __init__(self, cfg, **kw):
            got.append(cfg)

        def run(self):
            return tmp_path / "r" / "model.pt"

    monkeypatch.setattr(train_mod, "Trainer", Recorder)
    _tiny_data(tmp_path / "d" / "s.npz")
    tengen_cli.main(["train", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--precision", "bf16"])
    tengen_cli.main(["train", str(tmp_path / "d"), "--out", str(tmp_path / "r")])
    assert [c.precision for c in got] == ["bf16", "auto"]
