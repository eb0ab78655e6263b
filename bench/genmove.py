"""Latency of ``genmove`` in ``tengen gtp`` at fixed visit counts.

Starts ``tengen gtp`` as a subprocess (as a GUI would), sets up positions from
real games (the first ``--positions`` records under ``--sgf``, each cut at a
random move), and times ``genmove`` at each visit count, one engine process per
count. Every timing starts from a fresh engine state (``clear_board`` and the
moves replayed), so no search tree is reused. Prints one JSON line per visit
count: median, min and max seconds over the positions.

    python bench/genmove.py [--visits 1 100 800] [--size 19] [--model FILE] [--sgf DIR] [--device cuda] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from go_engine import read_sgf_inputs  # noqa: E402
from go_engine.gtp_client import GtpClient  # noqa: E402


def positions(sgf: str, size: int, n: int, seed: int) -> list[list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    out = []
    for _source, game in read_sgf_inputs([sgf]):
        if isinstance(game, Exception) or game.size != size:
            continue
        try:
            moves = game.replay().moves
        except ValueError:
            continue
        if len(moves) < 40:
            continue
        out.append(moves[: int(rng.integers(10, len(moves) - 10))])
        if len(out) == n:
            break
    return out


def position_options(ap: argparse.ArgumentParser, count: int) -> None:
    """The options of the engine's network and of the positions it is timed on (``count`` by default)."""
    ap.add_argument("--size", type=int, default=19)
    ap.add_argument("--model", default=None, help="default: the bundled network")
    ap.add_argument("--sgf", default=str(ROOT.parent / "shared" / "data" / "tom-9d"))
    ap.add_argument("--positions", type=int, default=count)
    ap.add_argument("--seed", type=int, default=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--visits", type=int, nargs="+", default=[1, 100, 800])
    position_options(ap, 5)
    ap.add_argument("--device", default="cpu", help="the network's device: cpu, cuda")
    ap.add_argument("--threads", type=int, default=None,
                    help="the engine's --threads (1, as in matches, picks OpenVINO where installed); default: torch's")
    args = ap.parse_args()
    os.chdir(ROOT)
    games = positions(args.sgf, args.size, args.positions, args.seed)
    print(json.dumps({"positions": len(games), "size": args.size, "cpus": os.cpu_count(),
                      "device": args.device, "load": os.getloadavg()[0], "date": time.strftime("%Y-%m-%d")}), flush=True)
    for visits in args.visits:
        cmd = [sys.executable, "-m", "tengen_cli", "gtp", "--size", str(args.size), "--visits", str(visits),
               "--resign-threshold", "0", "--device", args.device] + (["--model", args.model] if args.model else []) \
            + (["--threads", str(args.threads)] if args.threads else [])
        times = []
        with GtpClient(cmd) as eng:
            eng.send("genmove b", timeout=600)  # warm-up: compilation, first network call
            for moves in games:
                eng.send("clear_board")
                for color, vertex in moves:
                    eng.send(f"play {color} {vertex}")
                color = "W" if moves[-1][0] == "B" else "B"
                t0 = time.perf_counter()
                eng.send(f"genmove {color}", timeout=600)
                times.append(time.perf_counter() - t0)
        print(json.dumps({"visits": visits, "median_s": round(statistics.median(times), 4),
                          "min_s": round(min(times), 4), "max_s": round(max(times), 4),
                          "visits_per_s": round(visits / statistics.median(times), 1)}), flush=True)


if __name__ == "__main__":
    main()
