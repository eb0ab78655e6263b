"""The network, its model file, and the training loop on a tiny data set (CPU)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from go_engine.features import NUM_PLANES, P_ON_BOARD
from policy.data.shards import GameRecord, write_shard
from policy.model import GoNet, NetConfig
from policy.modelfile import ModelFileError, ModelInfo, load_model, save_model
from policy.train import TrainConfig, Trainer

TINY = NetConfig(blocks=2, channels=16, gpool_channels=8, head_channels=8, value_hidden=16, gpool_every=2)


@pytest.mark.parametrize("size", [7, 9, 13, 19])
def test_one_network_every_size(size):
    torch.manual_seed(0)
    m = GoNet(TINY).eval()
    x = torch.zeros(3, NUM_PLANES, size, size)
    x[:, P_ON_BOARD] = 1
    x[0, 0, 2, 2] = 1
    out = m(x, torch.zeros(3, 6))
    assert out["policy"].shape == (3, size * size + 1)
    assert out["ownership"].shape == (3, size, size) and out["value"].shape == (3,)
    assert torch.isfinite(out["policy"]).all()


def test_model_file_round_trip_and_refusals(tmp_path):
    m = GoNet(TINY)
    save_model(tmp_path / "m.pt", m, ModelInfo(TINY, board_sizes=[9, 19], training={"steps": 7}))
    m2, info = load_model(tmp_path / "m.pt")
    assert info.board_sizes == [9, 19] and info.training["steps"] == 7 and info.config == TINY
    for k, v in m.state_dict().items():
        assert torch.equal(v, m2.state_dict()[k])
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelFileError, match="cut.pt"):
        load_model(tmp_path / "cut.pt")
    torch.save({"hello": 1}, tmp_path / "foreign.pt")
    with pytest.raises(ModelFileError, match="not a tengen-model"):
        load_model(tmp_path / "foreign.pt")
    blob = torch.load(tmp_path / "m.pt", weights_only=True)
    blob["feature_version"] = 0
    torch.save(blob, tmp_path / "oldfeat.pt")
    with pytest.raises(ModelFileError, match="features version 0"):
        load_model(tmp_path / "oldfeat.pt")
    for bad in (None, True, "2", 2.0):  # missing, or not an int (True would pass for version 1)
        blob["feature_version"] = bad
        torch.save(blob, tmp_path / "badfeat.pt")
        with pytest.raises(ModelFileError, match=f"badfeat.pt: input features version {bad!r} is not a version"):
            load_model(tmp_path / "badfeat.pt")
    blob["feature_version"] = 1  # a version-1 file whose network reads version 2's planes
    torch.save(blob, tmp_path / "planes.pt")
    with pytest.raises(ModelFileError, match="reads 32 input planes, but input features version 1 has 24"):
        load_model(tmp_path / "planes.pt")
    blob["feature_version"] = 2
    blob["config"] = dict(blob["config"], channels=32)
    torch.save(blob, tmp_path / "mismatch.pt")
    with pytest.raises(ModelFileError, match="do not match"):
        load_model(tmp_path / "mismatch.pt")
    with pytest.raises(ModelFileError, match="no such"):
        load_model(tmp_path / "absent.pt")


def _tiny_data(path: Path, games=12, size=9):
    rng = np.random.default_rng(1)
    recs = []
    for g in range(games):
        # a fixed opening repeated, so a network can learn it quickly
        moves = [(1 + i % 2, int(p)) for i, p in enumerate([40, 30, 50, 32, 20, 60] + list(rng.choice(81, 0)))]
        recs.append(GameRecord(size, 7.0, "chinese", moves, winner=1 if g % 3 else -1, key=g))
    write_shard(path, recs)


def test_training_learns_and_resumes_exactly(tmp_path):
    _tiny_data(tmp_path / "d" / "s.npz")
    base = dict(train=[str(tmp_path / "d")], val=[str(tmp_path / "d")], batch_size=16, lr=0.02, warmup_steps=2,
                log_every=5, eval_every=1000, checkpoint_minutes=100, net=TINY, optimizer="adamw", device="cpu")
    full = Trainer(TrainConfig(out=str(tmp_path / "full"), steps=40, **base))
    full.run()
    train = [h for h in full.history if "loss" in h]
    assert train[-1]["loss"] < train[0]["loss"]
    assert full.history[-1]["val_top1"] > 0.5  # the fixed opening is learnt
    half = Trainer(TrainConfig(out=str(tmp_path / "half"), steps=40, **base))
    half.run(until_step=20)  # as if killed at step 20
    resumed = Trainer(TrainConfig(out=str(tmp_path / "half"), steps=40, **base), resume=True)
    assert resumed.step == 20
    resumed.run()
    for k, v in full.model.state_dict().items():
        assert torch.allclose(v.float(), resumed.model.state_dict()[k].float(), atol=1e-5), k
    model, info = load_model(tmp_path / "half" / "model.pt")
    assert info.training["steps"] == 40


def test_distributed_gloo_keeps_ranks_identical(tmp_path):
    _tiny_data(tmp_path / "d" / "s.npz")
    script = tmp_path / "ddp.py"
    root = Path(__file__).resolve().parents[1]
    script.write_text(f"""
import os, sys, torch
sys.path.insert(0, {str(root)!r})
from policy.train import TrainConfig, Trainer
from policy.model import NetConfig
cfg = TrainConfig(train=[{str(tmp_path / 'd')!r}], out={str(tmp_path / 'run')!r}, steps=6, batch_size=8,
                  warmup_steps=1, log_every=3, checkpoint_minutes=100, device='cpu',
                  net=NetConfig(blocks=1, channels=8, gpool_channels=4, head_channels=4, value_hidden=8, gpool_every=1))
t = Trainer(cfg)
t.run()
# the trained weights (batch-norm running statistics are per-rank buffers, not weights)
torch.save(dict(t.model.named_parameters()), {str(tmp_path)!r} + f"/rank{{os.environ['RANK']}}.pt")
""")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533",
                        str(script)], env=env, capture_output=True, text=True, timeout=280)
    assert r.returncode == 0, r.stderr[-3000:]
    a = torch.load(tmp_path / "rank0.pt")
    b = torch.load(tmp_path / "rank1.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], GoNet(NetConfig(blocks=1, channels=8, gpool_channels=4, head_channels=4,
                                                     value_hidden=8, gpool_every=1)).state_dict()[k]) for k in a)
