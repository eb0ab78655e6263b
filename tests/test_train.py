"""Training runs: refusal of an existing run, safe checkpoints, metrics on resume, a non-finite loss,
a time budget, warm start from an earlier feature version or into a deeper network, loader workers, bf16 autocast on the CPU, and
data of several board sizes mixed by share."""

import json
import pickle

import numpy as np
import pytest
import torch

import policy.train as train_mod
import tengen_cli
from go_engine.features import FEATURE_PLANES
from policy.data.shards import write_shard
from policy.model import GoNet, NetConfig
from policy.modelfile import ModelInfo, load_model, save_model
from policy.train import TrainConfig, Trainer, TrainingError
from tests.test_model import TINY, _tiny_data
from tests.test_shards import _records


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


def test_warm_start_into_more_blocks_keeps_the_function_and_trains_the_new_ones(tmp_path):
    small = NetConfig(blocks=2, channels=8, gpool_channels=4, head_channels=4, value_hidden=8, gpool_every=2)
    torch.manual_seed(5)
    old = GoNet(small).eval()
    for m in old.modules():  # statistics unlike the defaults, as a trained network has
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    save_model(tmp_path / "small.pt", old, ModelInfo(small))
    deep = NetConfig(blocks=5, channels=8, gpool_channels=4, head_channels=4, value_hidden=8, gpool_every=2)
    t = Trainer(_cfg(tmp_path, init=str(tmp_path / "small.pt"), net=deep, steps=6))
    assert [b.gpool for b in t.model.blocks] == [0, 4, 0, 4, 0]
    planes = (torch.rand(3, FEATURE_PLANES[2], 9, 9) < 0.3).float()
    planes[:, 23] = 1
    globs = torch.rand(3, 6)
    t.model.eval()
    new, ref = t.model(planes, globs), old(planes, globs)
    for k in ("policy", "value", "score", "ownership"):
        assert torch.allclose(new[k], ref[k], atol=1e-5), k
    t.run()
    grown, info = load_model(tmp_path / "run" / "model.pt")
    assert info.config.blocks == 5
    for b in grown.blocks[2:]:
        assert b.conv2.weight.abs().sum() > 0  # the new blocks learn
    d = str(tmp_path / "d")
    for extra in (["--blocks", "1"], ["--channels", "16"]):
        assert tengen_cli.main(["train", d, "--out", str(tmp_path / "r2"), "--init", str(tmp_path / "small.pt"),
                                "--steps", "1", "--device", "cpu", *extra]) == 2
    assert tengen_cli.main(["train", d, "--out", str(tmp_path / "r3"), "--init", str(tmp_path / "small.pt"),
                            "--steps", "1", "--batch-size", "8", "--blocks", "3", "--device", "cpu"]) == 0
    assert load_model(tmp_path / "r3" / "model.pt")[1].config.blocks == 3


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


def _two_sizes(tmp_path):
    """9x9 games (72 positions) and 7x7 games (random, up to 60 moves each) in two folders."""
    _tiny_data(tmp_path / "d9" / "s.npz")
    write_shard(tmp_path / "d7" / "s.npz", _records(8, size=7))
    return [str(tmp_path / "d9"), str(tmp_path / "d7")]


def test_board_sizes_mix_by_their_shares_one_size_a_batch(tmp_path):
    from policy.data.loader import data_groups, group_weights, mixed_batches
    data = _two_sizes(tmp_path)
    groups = data_groups(data)
    assert [(g.size, g.positions) for g in groups][0] == (9, 72) and groups[1].size == 7
    assert groups[1].positions == sum(len(r.moves) for r in _records(8, size=7))
    w = group_weights(groups, {7: 0.25})
    assert w.tolist() == pytest.approx([0.75, 0.25])
    free = group_weights(groups, {})  # by positions
    assert free[1] / free[0] == pytest.approx(groups[1].positions / groups[0].positions)
    stream = mixed_batches(groups, w, seed=3, batch_size=8)
    sizes = [next(stream).planes.shape[-1] for _ in range(400)]
    assert set(sizes) == {7, 9} and 70 <= sizes.count(7) <= 130  # binomial(400, 0.25): mean 100, sd 8.7
    again = mixed_batches(groups, w, seed=3, batch_size=8)
    assert [next(again).planes.shape[-1] for _ in range(400)] == sizes
    for shares, what in [({13: 0.2}, "no 13x13 shards"), ({7: 1.0}, "add up to 1"), ({7: 0.5, 9: 0.4}, "add up to 0.9")]:
        with pytest.raises(ValueError, match=what):
            group_weights(groups, shares)


def test_a_named_input_is_drawn_by_its_own_share_apart_from_its_size(tmp_path):
    from dataclasses import replace

    from policy.data.loader import data_groups, group_weights, mixed_batches
    data = _two_sizes(tmp_path)
    # "Tengen's own games": 7x7 beside the 7x7 folder, told apart in a batch by their komi
    write_shard(tmp_path / "own" / "s.npz", [replace(r, komi=-3.0) for r in _records(4, size=7, seed=1)])
    own = str(tmp_path / "own")
    groups = data_groups([*data, own], [own])
    assert [(g.size, g.source) for g in groups] == [(7, own), (9, None), (7, None)]
    assert groups[0].paths == (tmp_path / "own" / "s.npz",) and groups[0].paths[0] not in groups[2].paths
    assert groups[0].positions == sum(len(r.moves) for r in _records(4, size=7, seed=1))
    assert group_weights(groups, {7: 0.25}, {own: 0.5}).tolist() == pytest.approx([0.5, 0.25, 0.25])
    w = group_weights(groups, {}, {own: 0.5})  # the other half by positions
    assert w[0] == pytest.approx(0.5) and w[1] / w[2] == pytest.approx(groups[1].positions / groups[2].positions)
    w = group_weights(groups, {9: 0.2}, {own: 0.6})
    stream = mixed_batches(groups, w, seed=3, batch_size=8)
    komi = {k: abs(next(mixed_batches(groups[k:k + 1], np.ones(1), batch_size=8)).globals[0, 0]) for k in (0, 2)}
    assert komi[0] != pytest.approx(komi[2])  # the komi input, signed for the player to move
    drawn = []
    for _ in range(300):
        b = next(stream)
        drawn.append(9 if b.planes.shape[-1] == 9 else "own" if abs(b.globals[0, 0]) == pytest.approx(komi[0]) else 7)
        assert np.allclose(np.abs(b.globals[:, 0]), abs(b.globals[0, 0]))  # a batch from one group
    assert 150 <= drawn.count("own") <= 210 and 40 <= drawn.count(9) <= 80  # binomial(300, 0.6 / 0.2)
    with pytest.raises(ValueError, match="not one of the training inputs"):
        data_groups(data, [own])
    write_shard(tmp_path / "mixed" / "a.npz", _records(2, size=7))
    _tiny_data(tmp_path / "mixed" / "b.npz")
    with pytest.raises(ValueError, match="several sizes"):
        data_groups([*data, str(tmp_path / "mixed")], [str(tmp_path / "mixed")])
    for sizes, sources, what in [({7: 0.5}, {own: 0.6}, "add up to 1.1"), ({}, {own: 1.5}, "at most 1"),
                                 ({9: 0.5, 7: 0.2}, {own: 0.2}, "add up to 0.9")]:
        with pytest.raises(ValueError, match=what):
            group_weights(groups, sizes, sources)
    assert group_weights(groups, {9: 0.5, 7: 0.2}, {own: 0.3}).tolist() == pytest.approx([0.3, 0.5, 0.2])


def test_the_source_share_option_trains_and_resumes_only_with_the_same_shares(tmp_path, capsys):
    data = _two_sizes(tmp_path)
    args = ["train", *data, "--out", str(tmp_path / "r"), "--steps", "2", "--batch-size", "8", "--blocks", "1",
            "--channels", "8"]
    assert tengen_cli.main([*args, "--source-share", f"{data[1]}=0.4"]) == 0
    saved = json.loads(torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)["config"])
    assert saved["source_shares"] == {data[1]: 0.4}
    assert load_model(tmp_path / "r" / "model.pt")[1].board_sizes == [7, 9]
    capsys.readouterr()
    assert tengen_cli.main([*args, "--steps", "3", "--resume", "--source-share", f"{data[1]}=0.3"]) == 2
    assert "source_shares differs" in capsys.readouterr().err
    for bad, what in [("0.3", "expected INPUT=SHARE"), (f"{data[1]}=2", "expected a number"),
                      (f"{tmp_path}=0.3", "not one of the training inputs")]:
        assert tengen_cli.main([*args, "--force", "--source-share", bad]) == 2
        err = capsys.readouterr().err
        assert what in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_training_on_two_board_sizes_validates_each_and_resumes_exactly(tmp_path):
    data = _two_sizes(tmp_path)
    base = dict(train=data, val=data, steps=16, batch_size=8, lr=0.02, warmup_steps=2, log_every=4, eval_every=8,
                eval_positions=64, checkpoint_minutes=100, net=TINY, optimizer="adamw", device="cpu",
                size_shares={7: 0.5})
    full = Trainer(TrainConfig(out=str(tmp_path / "full"), **base))
    full.run()
    last = full.history[-1]
    assert {"val_top1", "val_value_loss", "val7_top1", "val7_value_loss"} <= set(last)
    assert last["val_positions"] == 72 and last["val7_positions"] >= 64  # all 9x9 positions; 7x7 to the limit
    assert load_model(tmp_path / "full" / "model.pt")[1].board_sizes == [9, 7]
    half = Trainer(TrainConfig(out=str(tmp_path / "half"), **base))
    half.run(until_step=7)
    with pytest.raises(ValueError, match="size_shares differs"):
        Trainer(TrainConfig(out=str(tmp_path / "half"), **{**base, "size_shares": {7: 0.4}}), resume=True)
    resumed = Trainer(TrainConfig(out=str(tmp_path / "half"), **base), resume=True)
    resumed.run()
    for k, v in full.model.state_dict().items():
        assert torch.allclose(v.float(), resumed.model.state_dict()[k].float(), atol=1e-5), k
    by_size = train_mod.eval_model(str(tmp_path / "full" / "model.pt"), data, device="cpu")
    assert set(by_size) == {"9x9", "7x7"} and by_size["7x7"]["positions"] > 0


def test_the_size_share_option(tmp_path, capsys):
    data = _two_sizes(tmp_path)
    assert tengen_cli.main(["train", *data, "--out", str(tmp_path / "r"), "--steps", "2", "--batch-size", "8",
                            "--size-share", "7=0.3", "--blocks", "1", "--channels", "8"]) == 0
    saved = json.loads(torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)["config"])
    assert saved["size_shares"] == {"7": 0.3}
    capsys.readouterr()
    for bad, what in [("7", "expected SIZE=SHARE"), ("7=0", "expected a number"), ("1=0.3", "expected a whole number"),
                      ("13=0.2", "no 13x13 shards")]:
        assert tengen_cli.main(["train", *data, "--out", str(tmp_path / "bad"), "--steps", "1",
                                "--size-share", bad]) == 2
        err = capsys.readouterr().err
        assert what in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_frozen_normalisation_keeps_the_starting_statistics_and_still_learns(tmp_path):
    data = _two_sizes(tmp_path)
    torch.manual_seed(5)
    start = GoNet(TINY)
    with torch.no_grad():  # statistics unlike any batch's, as a network trained on another size has
        for m in start.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    save_model(tmp_path / "start.pt", start, ModelInfo(TINY))
    stats = {k: v.clone() for k, v in start.state_dict().items() if "running_" in k}
    runs = {}
    for frozen in (True, False):
        t = Trainer(TrainConfig(train=data, val=data, out=str(tmp_path / f"run{frozen}"), steps=24, batch_size=16,
                                lr=0.01, warmup_steps=2, log_every=4, eval_every=12, eval_positions=32,
                                checkpoint_minutes=100, net=TINY, optimizer="adamw", device="cpu",
                                init=str(tmp_path / "start.pt"), size_shares={7: 0.5}, freeze_norm=frozen))
        t.run()
        runs[frozen] = t
        after = t.model.state_dict()
        same = [torch.equal(after[k], v) for k, v in stats.items()]
        assert all(same) if frozen else not any(same)
    losses = [h["loss"] for h in runs[True].history if "loss" in h]
    assert losses[-1] < losses[0]
    # trained as it plays: the frozen network's outputs in training mode are those of inference
    m = runs[True].model
    runs[True]._train_mode()
    planes = (torch.rand(2, TINY.in_planes, 9, 9) < 0.3).float()
    planes[:, 23] = 1
    with torch.no_grad():
        trained = m(planes, torch.zeros(2, 6))["policy"]
        m.eval()
        assert torch.allclose(trained, m(planes, torch.zeros(2, 6))["policy"])
