"""The prepared device run (bench/gpu_train.sh) end to end on the CPU with tiny settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from policy.modelfile import load_model
from tests.test_model import _tiny_data

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_train.sh"
TINY = dict(MINUTES="0.03", BLOCKS="1", CHANNELS="8", BATCH="16", WORKERS="1", DEVICE="cpu", COMPILE="0",
            EVAL_POSITIONS="64", WARMUP="2", PYTHON=sys.executable)


def _build(folder: Path, size: int) -> Path:
    """A tiny ``tengen data build`` output of one board size: train/ and val/ shards."""
    _tiny_data(folder / "train" / f"{size}x{size}" / "part-0.npz", size=size)
    _tiny_data(folder / "val" / f"{size}x{size}" / "part-0.npz", games=4, size=size)
    return folder


def _script(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env)


def test_pack_then_train_leaves_model_and_metrics(tmp_path):
    r = _script("pack", _build(tmp_path / "data", 9), tmp_path / "pack", timeout=120)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    r = _script("train", tmp_path / "pack", out, env=dict(os.environ, **TINY))
    assert r.returncode == 0, r.stderr[-3000:]
    for name in ("model.pt", "metrics.jsonl", "eval.json", "eval-9x9.json", "run.json", "train.log"):
        assert (out / name).exists(), name
    assert not (out / "metrics-mix.jsonl").exists()  # one size: no mixing phase
    model, info = load_model(out / "model.pt")
    assert info.config.blocks == 1 and info.config.channels == 8 and info.feature_version == 2
    run = json.loads((out / "run.json").read_text())
    assert run["steps"] > 0 and run["positions"] == run["steps"] * 16 and run["loader_workers"] == 1
    assert 0.0 <= run["eval"]["top1"] <= 1.0 and run["eval"]["positions"] > 0
    assert run["main_size"] == "9x9" and list(run["eval_by_size"]) == ["9x9"] and "mix" not in run
    # a missing pack is one line and exit 2
    r = _script("train", tmp_path / "nowhere", out, timeout=60)
    assert r.returncode == 2 and "no such file" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_two_board_sizes_train_the_larger_then_both_with_frozen_norm(tmp_path):
    r = _script("pack", _build(tmp_path / "d19", 19), _build(tmp_path / "d9", 9), tmp_path / "pack", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "2 shards" not in r.stdout and "4 shards" in r.stdout  # train and val of both builds
    out = tmp_path / "out"
    r = _script("train", tmp_path / "pack", out, env=dict(os.environ, **TINY, MIX_MINUTES="0.03"))
    assert r.returncode == 0, r.stderr[-3000:]
    run = json.loads((out / "run.json").read_text())
    assert run["main_size"] == "19x19" and sorted(run["eval_by_size"]) == ["19x19", "9x9"]
    assert run["eval"] == run["eval_by_size"]["19x19"]
    assert run["steps"] > 0 and run["mix"]["steps"] > 0
    (net19, first), (net, mixed) = load_model(out / "model-19x19.pt"), load_model(out / "model.pt")
    assert first.training["steps"] == run["steps"] and mixed.training["steps"] == run["mix"]["steps"]
    # phase 1 saw 19x19 only; the mixing phase started from it, its batch normalisation frozen there
    assert first.board_sizes == [19] and sorted(mixed.board_sizes) == [9, 19]
    stats19, stats = net19.state_dict(), net.state_dict()
    norm = [k for k in stats if k.endswith(("running_mean", "running_var"))]
    assert norm and all(torch.equal(stats[k], stats19[k]) for k in norm)
    assert any(not torch.equal(stats[k], stats19[k]) for k in stats if k not in norm and stats[k].is_floating_point())
    assert (out / "metrics.jsonl").exists() and (out / "metrics-mix.jsonl").exists()
    assert "mix/model.pt" in (out / "train-mix.log").read_text()
    # a data folder without train/ and val/ is refused in one line
    r = _script("pack", tmp_path / "d19", tmp_path, tmp_path / "pack2", timeout=60)
    assert r.returncode == 2 and "no such folder" in r.stderr and len(r.stderr.strip().splitlines()) == 1
