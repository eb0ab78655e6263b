"""Search speed: simulations per second of selfplay.search.Search, and the same beside Leela Zero.

Prints one JSON object per line:
- the search itself, with the constant evaluator (uniform priors, value 0),
  on 9x9 and 19x19 from the empty board, median of several runs, per batch size;
- the bundled network (or --model) on the CPU, 19x19 from the empty board:
  one tree with ``--batch`` leaves per network call (virtual loss), and
  ``--games`` trees sharing each call as in self-play;
- Leela Zero 0.17 (``leelaz --cpu-only --benchmark``) with a random network of
  the same blocks x channels in its weights text format, on the same threads,
  run back to back with ours; ``ratio`` = our simulations/s over its playouts/s.

Usage: PYTHONPATH=. python bench/search.py [--visits 20000] [--runs 5] [--threads 2] [--no-net] [--no-lz]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from go_engine.game import Game
from selfplay.evaluators import NetworkEvaluator, UniformEvaluator
from selfplay.search import Search, run_many


def bench(size: int, visits: int, runs: int, evaluator, batch: int, label: str) -> dict:
    g = Game(size, komi=7.5)
    Search(g, seed=0).run(min(visits, 64), evaluator, batch)  # compile / warm up
    rates = []
    for r in range(runs):
        s = Search(g, seed=r)
        t0 = time.perf_counter()
        done = s.run(visits, evaluator, batch)
        rates.append(done / (time.perf_counter() - t0))
    return {"bench": "search", "evaluator": label, "size": size, "batch": batch, "visits": visits,
            "runs": runs, "sims_per_s": round(statistics.median(rates), 1),
            "min": round(min(rates), 1), "max": round(max(rates), 1), "threads": 1}


def write_lz_weights(path: str, blocks: int, channels: int, seed: int = 0) -> None:
    """A random Leela Zero network (weights format version 1, 19x19, 18 input planes) of the given size.

    Rows: input convolution (weights, biases) and batch norm (means, variances); two
    such pairs per residual block; the policy head (1x1 convolution to 2 planes,
    batch norm, fully connected to 362); the value head (1x1 convolution to 1
    plane, batch norm, fully connected to 256, then to 1)."""
    rng = np.random.default_rng(seed)
    rows = ["1"]

    def nums(a) -> str:
        return " ".join(f"{x:.5g}" for x in np.asarray(a).ravel())

    def layer(out: int, fan_in: int) -> None:  # weights then biases
        rows.append(nums(rng.normal(0.0, np.sqrt(2.0 / fan_in), out * fan_in)))
        rows.append(nums(np.zeros(out)))

    def bnorm(c: int) -> None:  # means then variances
        rows.append(nums(np.zeros(c)))
        rows.append(nums(np.ones(c)))

    layer(channels, 18 * 9)
    bnorm(channels)
    for _ in range(2 * blocks):
        layer(channels, channels * 9)
        bnorm(channels)
    layer(2, channels)
    bnorm(2)
    layer(362, 2 * 361)
    layer(1, channels)
    bnorm(1)
    layer(256, 361)
    layer(1, 256)
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")


LZ = "/usr/games/leelaz"


def bench_lz(weights: str, visits: int, threads: int) -> float:
    """Leela Zero's playouts per second in its own benchmark (search from the empty 19x19 board)."""
    out = subprocess.run([LZ, "--cpu-only", "--benchmark", "--noponder", "-w", weights, "-t", str(threads),
                          "-v", str(visits)], capture_output=True, text=True, timeout=1800)
    m = re.findall(r"(\d+) visits, (\d+) nodes, (\d+) playouts, (\d+) n/s", out.stdout + out.stderr)
    if not m:
        raise RuntimeError(f"no search statistics in Leela Zero's output:\n{(out.stdout + out.stderr)[-2000:]}")
    return float(m[-1][3])


def bench_many(size: int, visits: int, games: int, evaluator, batch: int) -> float:
    """Simulations/s of ``games`` trees sharing each network call (self-play)."""
    searches = [Search(Game(size, komi=7.5), seed=i) for i in range(games)]
    t0 = time.perf_counter()
    run_many(searches, visits, evaluator, batch_size=batch)
    return sum(s.root_visits for s in searches) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--net-visits", type=int, default=1600, help="per search, 19x19, for us and Leela Zero")
    ap.add_argument("--model", default=None, help="default: the bundled network")
    ap.add_argument("--threads", type=int, default=2, help="torch threads and Leela Zero threads")
    ap.add_argument("--batch", type=int, default=16, help="leaves per network call in one tree")
    ap.add_argument("--games", type=int, default=8, help="trees sharing each call (self-play style)")
    ap.add_argument("--no-net", action="store_true")
    ap.add_argument("--no-lz", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    uni = UniformEvaluator()
    for size, visits in ((9, args.visits), (19, max(1000, args.visits // 4))):
        for batch in (1, 16, 64):
            print(json.dumps(bench(size, visits, args.runs, uni, batch, "uniform")), flush=True)
    if args.no_net:
        return
    import torch

    from policy.modelfile import load_model, resolve_model

    torch.set_num_threads(args.threads)
    path = resolve_model(args.model)
    net, info = load_model(path)
    blocks, channels = info.config.blocks, info.config.channels
    ev = NetworkEvaluator(net)
    label = f"{Path(path).name} ({blocks}x{channels}), {args.threads} threads"
    one = bench(19, args.net_visits, 3, ev, args.batch, label)
    one["threads"] = args.threads
    print(json.dumps(one), flush=True)
    bench_many(19, 16, args.games, ev, 8)  # warm up
    many = [bench_many(19, args.net_visits // args.games, args.games, ev, 8) for _ in range(3)]
    print(json.dumps({"bench": "search", "evaluator": label, "size": 19, "games": args.games, "batch": 8,
                      "visits_per_game": args.net_visits // args.games,
                      "sims_per_s": round(statistics.median(many), 1)}), flush=True)
    if args.no_lz or not Path(LZ).exists():
        print(json.dumps({"bench": "leela-zero", "skipped": "--no-lz" if args.no_lz else f"{LZ} not installed"}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        weights = str(Path(tmp) / f"random-{blocks}x{channels}.txt")
        write_lz_weights(weights, blocks, channels)
        lz = [bench_lz(weights, args.net_visits, args.threads) for _ in range(3)]
    lz_rate = statistics.median(lz)
    print(json.dumps({"bench": "leela-zero", "network": f"random {blocks}x{channels}", "size": 19,
                      "threads": args.threads, "visits": args.net_visits, "playouts_per_s": lz_rate,
                      "runs": lz, "ratio_one_tree": round(one["sims_per_s"] / lz_rate, 2),
                      "ratio_selfplay": round(statistics.median(many) / lz_rate, 2)}), flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
