"""The network in bfloat16 against float32: how far its outputs move and how much faster it runs.

On ``--positions`` held-out positions (shards of ``tengen data build``, e.g. ``runs/data19/val``) the
network runs on each backend (OpenVINO, the prepared PyTorch model) in float32 and in bf16, as
``tengen gtp --precision`` runs it. Outputs: the largest and mean absolute differences of the move
probabilities, the win probability, the score and the ownership between the two precisions, and the mean
signed difference of the win probability and the score (a bias for the player to move); how often
both pick the same top move; and each one's move-prediction accuracy against the games' moves.
Speed: positions per second at each ``--batches`` size on one thread, float32 and bf16 in turn for
``--repeats`` rounds (medians, and the median of the paired ratios, so that load moves both alike).

    PYTHONPATH=. python bench/precision.py runs/data19/val [--model FILE] [--positions 2048]
        [--batches 1 8 32] [--repeats 5] [--seconds 1.5] [--backends openvino torch] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from policy.data.loader import batches
from policy.modelfile import load_model, resolve_model
from selfplay.evaluators import NetworkEvaluator


def runner(model, backend: str, precision: str):
    """A function planes, globals -> the network's outputs (numpy), on ``backend`` in ``precision``: the
    engine's own ``NetworkEvaluator`` path, so that the bench measures what ``tengen gtp`` runs."""
    return NetworkEvaluator(model, backend=backend, precision=precision)._outputs


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def rate(run, planes: np.ndarray, globs: np.ndarray, batch: int, seconds: float) -> float:
    """Positions per second of ``run`` at ``batch`` over about ``seconds``."""
    run(planes[:batch], globs[:batch])
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        start = (n // batch * batch) % (len(planes) - batch)
        run(planes[start:start + batch], globs[start:start + batch])
        n += batch
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", help="shards or folders of held-out positions")
    ap.add_argument("--model", default=None, help="network (default: the bundled one)")
    ap.add_argument("--positions", type=int, default=2048)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.5, help="per speed measurement")
    ap.add_argument("--backends", nargs="+", choices=["openvino", "torch"], default=["openvino", "torch"])
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, info = load_model(resolve_model(args.model))
    b = next(iter(batches(args.data, batch_size=args.positions, seed=1, sample_rate=1.0,
                          feature_version=info.feature_version, komi_relabel=0.0)))
    planes, globs, moves = np.asarray(b.planes, np.float32), np.asarray(b.globals, np.float32), np.asarray(b.policy)
    rows = []
    for backend in args.backends:
        f32, bf16 = runner(model, backend, "float32"), runner(model, backend, "bf16")
        a, c = f32(planes, globs), bf16(planes, globs)
        pa, pc = softmax(a["policy"]), softmax(c["policy"])
        va, vc = 1 / (1 + np.exp(-a["value"])), 1 / (1 + np.exp(-c["value"]))
        diff = {"policy_max": float(np.abs(pa - pc).max()), "policy_mean": float(np.abs(pa - pc).mean()),
                "winrate_max": float(np.abs(va - vc).max()), "winrate_median": float(np.median(np.abs(va - vc))),
                # signed: bf16 minus float32, for the player to move (a bias moves every leaf of a search alike)
                "winrate_bias": float((vc - va).mean()), "score_bias": float((c["score"] - a["score"]).mean()),
                "score_max": float(np.abs(a["score"] - c["score"]).max()),
                "ownership_max": float(np.abs(a["ownership"] - c["ownership"]).max()),
                "same_top_move": float((pa.argmax(1) == pc.argmax(1)).mean()),
                "top1_float32": float((pa.argmax(1) == moves).mean()), "top1_bf16": float((pc.argmax(1) == moves).mean())}
        speed: dict[int, dict[str, list[float]]] = {n: {"float32": [], "bf16": []} for n in args.batches}
        for r in range(args.repeats):
            for n in args.batches:
                order = [("float32", f32), ("bf16", bf16)]
                for name, run in order if r % 2 == 0 else order[::-1]:
                    speed[n][name].append(rate(run, planes, globs, n, args.seconds))
        for n in args.batches:
            s = speed[n]
            ratio = statistics.median(x / y for x, y in zip(s["bf16"], s["float32"], strict=True))
            rows.append({"backend": backend, "batch": n, "float32_pos_s": round(statistics.median(s["float32"])),
                         "bf16_pos_s": round(statistics.median(s["bf16"])), "ratio": round(ratio, 2)})
        print(json.dumps({"backend": backend, "positions": len(planes),
                          **{k: round(v, 5) for k, v in diff.items()}}), flush=True)
    for row in rows:
        print(json.dumps(row), flush=True)
    if args.markdown:
        print("| backend | batch | float32 pos/s | bf16 pos/s | bf16 / float32 |\n| --- | --- | --- | --- | --- |")
        for row in rows:
            print(f"| {row['backend']} | {row['batch']} | {row['float32_pos_s']:,} | {row['bf16_pos_s']:,} | "
                  f"**{row['ratio']}x** |")


if __name__ == "__main__":
    main()
