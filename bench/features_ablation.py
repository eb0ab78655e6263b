"""What each input-feature addition pays: the same training budget, three input sets.

Every variant starts from the same model (``--init``, e.g. the bundled version-1 network; the new
planes' first-layer weights start at zero, so all variants start from the same function) and trains
for the same steps on the same data and seed:

- ``v1``: the version-1 planes (stones, history, liberties, ko, board);
- ``moves``: version 2 with the ladder planes held at zero (adds the last 5 move locations);
- ``v2``: every version-2 plane (adds the ladder planes too).

Run one variant per process (they can run side by side), then compare held-out top-1 on the same
positions and play them against each other with ``tengen match``:

    git show 80080a7:policy/networks/tengen-b6c32.pt > runs/old-b6c32.pt   # the version-1 network
    python bench/features_ablation.py --variant v2 --train runs/data19/train --val runs/data19/val \\
        --init runs/old-b6c32.pt --steps 1500 --out runs/abl-v2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import policy.train as T  # noqa: E402
from go_engine.features import P_OWN_LADDER  # noqa: E402
from policy.modelfile import load_model  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=["v1", "moves", "v2"], required=True)
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--val", nargs="+", required=True)
    ap.add_argument("--init", required=True, help="the model every variant starts from")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-positions", type=int, default=20480)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.variant == "moves":  # the ladder planes read as empty, in training and evaluation alike
        plain = T.to_tensors

        def without_ladders(b, device):
            t = plain(b, device)
            t["planes"][:, P_OWN_LADDER:] = 0
            return t

        T.to_tensors = without_ladders
    version = 1 if args.variant == "v1" else 2
    net = load_model(args.init)[1].config
    cfg = T.TrainConfig(train=args.train, out=args.out, steps=args.steps, batch_size=args.batch_size,
                        sample_rate=0.25, optimizer="adamw", lr=args.lr, weight_decay=0.01, warmup_steps=50,
                        eval_every=10 ** 9, device="cpu", init=args.init, net=net, feature_version=version,
                        seed=7)
    t0 = time.time()
    trainer = T.Trainer(cfg, force=True)
    trainer.run()
    metrics = T.evaluate(trainer.model, args.val, torch.device("cpu"), args.eval_positions, feature_version=version)
    result = {"variant": args.variant, "steps": args.steps, "positions": trainer.positions,
              "seconds": round(time.time() - t0), **{k: round(v, 4) for k, v in metrics.items()}}
    (Path(args.out) / "ablation.json").write_text(json.dumps(result) + "\n")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
