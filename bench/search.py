"""Search speed: simulations per second of selfplay.search.Search.

Prints one JSON object per line:
- the search itself, with the constant evaluator (uniform priors, value 0),
  on 9x9 and 19x19 from the empty board, median of several runs, per batch size;
- if torch is available, a small random-weight GoNet (6 blocks x 64 channels)
  on the CPU at batch 8 and 16.

Usage: PYTHONPATH=. python bench/search.py [--visits 20000] [--runs 5] [--no-net]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

from go_engine.game import Game
from selfplay.search import NetworkEvaluator, Search, UniformEvaluator


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--net-visits", type=int, default=256)
    ap.add_argument("--no-net", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    uni = UniformEvaluator()
    for size, visits in ((9, args.visits), (19, max(1000, args.visits // 4))):
        for batch in (1, 16, 64):
            print(json.dumps(bench(size, visits, args.runs, uni, batch, "uniform")), flush=True)
    if args.no_net:
        return
    try:
        import torch

        from policy.model import GoNet, NetConfig
    except Exception as e:  # torch missing or broken
        print(json.dumps({"bench": "search", "evaluator": "net", "skipped": repr(e)}))
        return
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = NetworkEvaluator(GoNet(NetConfig(blocks=6, channels=64)))
    for size in (9, 19):
        for batch in (8, 16):
            r = bench(size, args.net_visits if size == 9 else args.net_visits // 2, 3, net, batch,
                      "gonet-6x64-random-cpu-1thread")
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
