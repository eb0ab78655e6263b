"""The prepared device run (bench/gpu_train.sh) end to end on the CPU with tiny settings."""

import json
import os
import subprocess
import sys
from pathlib import Path

from policy.modelfile import load_model
from tests.test_model import _tiny_data

ROOT = Path(__file__).resolve().parents[1]


def test_pack_then_train_leaves_model_and_metrics(tmp_path):
    _tiny_data(tmp_path / "data" / "train" / "9x9" / "part-0.npz")
    _tiny_data(tmp_path / "data" / "val" / "9x9" / "part-0.npz", games=4)
    script = ROOT / "bench" / "gpu_train.sh"
    r = subprocess.run(["bash", str(script), "pack", str(tmp_path / "data"), str(tmp_path / "pack")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, MINUTES="0.03", BLOCKS="1", CHANNELS="8", BATCH="16", WORKERS="1", DEVICE="cpu",
               COMPILE="0", EVAL_POSITIONS="64", WARMUP="2", PYTHON=sys.executable)
    out = tmp_path / "out"
    r = subprocess.run(["bash", str(script), "train", str(tmp_path / "pack"), str(out)], capture_output=True,
                       text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    for name in ("model.pt", "metrics.jsonl", "eval.json", "run.json", "train.log"):
        assert (out / name).exists(), name
    model, info = load_model(out / "model.pt")
    assert info.config.blocks == 1 and info.config.channels == 8 and info.feature_version == 2
    run = json.loads((out / "run.json").read_text())
    assert run["steps"] > 0 and run["positions"] == run["steps"] * 16 and run["loader_workers"] == 1
    assert 0.0 <= run["eval"]["top1"] <= 1.0 and run["eval"]["positions"] > 0
    # a missing pack is one line and exit 2
    r = subprocess.run(["bash", str(script), "train", str(tmp_path / "nowhere"), str(out)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "no such file" in r.stderr and len(r.stderr.strip().splitlines()) == 1
