"""Held-out accuracy in eval mode after a short training run, the loader reading 1 shard at a time vs 16.

Shards written one source after another give one-shard batches a constant komi and rule set, which
batch normalisation hides in training; the running statistics then shift every held-out position.
Trains the bundled recipe's 6x32 network for ``--steps`` on the CPU twice (same seed) and prints the
last training accuracies and the held-out top-1 of each.

    python bench/loader_mixing.py --train runs/human3/train --val runs/human3/val [--steps 300]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import policy.data.loader as L  # noqa: E402
import policy.train as T  # noqa: E402
from policy.data.loader import PositionLoader  # noqa: E402
from policy.model import NetConfig  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--val", nargs="+", required=True)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    for open_shards in (1, 16):
        L.PositionLoader = functools.partial(PositionLoader, open_shards=open_shards)
        with tempfile.TemporaryDirectory() as out:
            cfg = T.TrainConfig(train=args.train, out=out, steps=args.steps, batch_size=128, optimizer="adamw",
                                lr=2e-3, warmup_steps=100, eval_every=10 ** 9, device=args.device,
                                net=NetConfig(blocks=6, channels=32))
            t0 = time.time()
            trainer = T.Trainer(cfg)
            trainer.run()
        L.PositionLoader = PositionLoader
        acc = [round(h["accuracy"], 3) for h in trainer.history if "accuracy" in h][-4:]
        top1 = T.evaluate(trainer.model, args.val, torch.device(args.device), 5120)["top1"]
        print(json.dumps({"open_shards": open_shards, "steps": args.steps, "seconds": round(time.time() - t0),
                          "train_accuracy_last": acc, "held_out_top1": round(top1, 4)}), flush=True)


if __name__ == "__main__":
    main()
