"""Training throughput (positions a second) of `tengen train`'s loop, against a baseline checkout.

Each measurement is a fresh process that trains ``--steps`` steps and times the steps after the
first ``--skip`` (compilation, the shuffle buffer's first fill). Settings and, with ``--baseline``,
another checkout of Tengen (e.g. `git worktree add /tmp/base ba102b8`) alternate in one run, so that
a shared, noisy machine moves both alike; the figures are medians and the ratio of medians.

    python bench/train_speed.py --data runs/data19/train --workers 0 1 --feature-version 1 2 \\
        --baseline /tmp/base --repeats 3
    python bench/train_speed.py --data runs/data19/train --workers 1 --precision float32 bf16 --repeats 3
    python bench/train_speed.py --data DATA --device cuda --compile --blocks 10 --channels 128 \\
        --batch 1024 --workers 14 --steps 300 --skip 100        # on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

DRIVER = r"""
import dataclasses, json, sys, time
import torch
from policy.model import NetConfig
import policy.train as T
args = json.loads(sys.argv[1])
if args["threads"]:
    torch.set_num_threads(args["threads"])
fields = {f.name for f in dataclasses.fields(T.TrainConfig)}
if (("loader_workers" not in fields and args["workers"]) or ("feature_version" not in fields and args["version"] != 1)
        or ("precision" not in fields and args["precision"] != "auto")):
    print(json.dumps({"unsupported": True}))  # an older checkout without these settings
    raise SystemExit(0)
extra = {k: v for k, v in (("loader_workers", args["workers"]), ("feature_version", args["version"]),
                           ("komi_relabel", 0.5), ("precision", args["precision"])) if k in fields}
cfg = T.TrainConfig(train=[args["data"]], out=args["out"], steps=args["steps"], batch_size=args["batch"],
                    sample_rate=0.25, optimizer="adamw", lr=1e-3, warmup_steps=10, eval_every=10 ** 9,
                    device=args["device"], compile=args["compile"], log_every=10 ** 9,
                    net=NetConfig(blocks=args["blocks"], channels=args["channels"]), **extra)
trainer = T.Trainer(cfg)
marks = {}
real = trainer.opt.step
def step(*a, **k):
    out = real(*a, **k)
    if trainer.step + 1 == args["skip"]:
        if args["device"].startswith("cuda"):
            torch.cuda.synchronize()
        marks["t"] = time.perf_counter()
    return out
trainer.opt.step = step
trainer.run()
if args["device"].startswith("cuda"):
    torch.cuda.synchronize()
print(json.dumps({"pos_per_s": (args["steps"] - args["skip"]) * args["batch"] / (time.perf_counter() - marks["t"])}))
"""


def measure(repo: Path, settings: dict) -> float | None:
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, PYTHONPATH=str(repo), OMP_WAIT_POLICY="PASSIVE")
        r = subprocess.run([sys.executable, "-c", DRIVER, json.dumps({**settings, "out": out})], cwd=repo, env=env,
                           capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"train_speed: {repo}: the run failed:\n{r.stderr[-2000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    return None if res.get("unsupported") else res["pos_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="training shards (a folder)")
    ap.add_argument("--baseline", default=None, help="another Tengen checkout to measure alongside")
    ap.add_argument("--workers", type=int, nargs="+", default=[0])
    ap.add_argument("--feature-version", type=int, nargs="+", default=[2])
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--channels", type=int, default=32)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--skip", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--precision", nargs="+", default=["auto"], choices=["auto", "bf16", "float32"],
                    help="autocast types to compare (tengen train --precision)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    repos = [("this", ROOT)] + ([("baseline", Path(args.baseline).resolve())] if args.baseline else [])
    runs = [(name, repo, w, v, p) for p in args.precision for v in args.feature_version for w in args.workers
            for name, repo in repos]
    speeds: dict[tuple, list[float]] = {}
    for _ in range(args.repeats):
        for name, repo, w, v, p in runs:
            settings = {"data": str(Path(args.data).resolve()), "workers": w, "version": v, "blocks": args.blocks,
                        "channels": args.channels, "batch": args.batch, "steps": args.steps, "skip": args.skip,
                        "threads": args.threads, "device": args.device, "compile": args.compile, "precision": p}
            s = measure(repo, settings)
            if s is not None:
                speeds.setdefault((name, w, v, p), []).append(s)
    rows = []
    for (name, w, v, p), xs in speeds.items():
        rows.append({"code": name, "loader_workers": w, "feature_version": v, "precision": p,
                     "median_pos_per_s": round(float(np.median(xs)), 1), "runs": [round(x, 1) for x in xs]})
    base = {(r["loader_workers"], r["feature_version"]): r["median_pos_per_s"] for r in rows
            if r["code"] == "baseline" and r["precision"] == args.precision[0]}
    for r in rows:
        b = base.get((0, r["feature_version"]))
        if b and r["code"] == "this":
            r["ratio_to_baseline_in_process"] = round(r["median_pos_per_s"] / b, 2)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
