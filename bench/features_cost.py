"""What input features cost per position: version 1 against version 2 (ladders, last moves).

Replays held-out games from shards into features with the training replay kernel, both versions on
the same games in alternation (this machine is shared: the ratio of medians is the figure).

    python bench/features_cost.py runs/data19/val --games 300 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from go_engine.features import FEATURE_PLANES  # noqa: E402
from go_engine.rules import get_rules  # noqa: E402
from policy.data.loader import shard_paths  # noqa: E402
from policy.data.replay import k_replay  # noqa: E402
from policy.data.shards import read_shard  # noqa: E402


def replay_all(games: list, version: int) -> tuple[float, int]:
    """Seconds to write the features of every position of ``games``, and the positions."""
    t0 = time.perf_counter()
    total = 0
    for size, rules, setup, moves in games:
        k = len(moves)
        sel = np.arange(k, dtype=np.int64)
        planes = np.empty((k, FEATURE_PLANES[version], size, size), np.uint8)
        out = np.empty(k, np.int64)
        k_replay(size, rules.ko_code, rules.suicide, setup, moves, sel, np.zeros(k, np.int64), planes, out, out.copy())
        total += k
    return time.perf_counter() - t0, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shards", nargs="+")
    ap.add_argument("--games", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    games = []
    for path in shard_paths(args.shards):
        s = read_shard(path)
        for g in range(s.num_games):
            games.append((s.size, get_rules(s.rule_names[s.rules[g]]), s.game_setup(g), s.game_moves(g)))
            if len(games) >= args.games:
                break
        if len(games) >= args.games:
            break
    replay_all(games[:2], 1), replay_all(games[:2], 2)  # compile
    per = {1: [], 2: []}
    for _ in range(args.repeats):
        for v in (1, 2):
            sec, n = replay_all(games, v)
            per[v].append(sec / n * 1e6)
    m1, m2 = float(np.median(per[1])), float(np.median(per[2]))
    print(json.dumps({"games": len(games), "positions": n, "us_per_position_v1": round(m1, 1),
                      "us_per_position_v2": round(m2, 1), "ratio_v2_v1": round(m2 / m1, 2)}))


if __name__ == "__main__":
    main()
