"""Search speed of two or more checkouts of Tengen in one run: ``genmove`` at fixed visits, interleaved.

Each engine is ``tengen gtp`` started from its own source tree (``PYTHONPATH=TREE``) with the
settings of the matches (one thread, so OpenVINO where it is installed); all of them answer on the
same positions, cut from the records of a ``tengen match`` folder at several move numbers, in
alternating rounds so that the machine's load falls on each alike. A tree is a checkout, e.g. one
made by ``git worktree add --detach /tmp/old COMMIT``. Prints one JSON line per tree: median
seconds and visits per second.

    python bench/engine_speed.py /tmp/old . --games runs/match19-v5-1s --visits 800
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from go_engine.gtp_client import GtpClient  # noqa: E402
from go_engine.sgf import parse_sgf  # noqa: E402
from policy.modelfile import BUNDLED  # noqa: E402

CUTS = (30, 60, 90, 120, 150, 180)  # move numbers the positions are cut at, in turn


def positions(folder: Path, count: int) -> list[list[tuple[str, str]]]:
    """``count`` positions (move lists) from the match records in ``folder``, cut at ``CUTS`` in turn."""
    out = []
    for path in sorted(folder.glob("game-*.sgf")):
        moves = parse_sgf(path.read_bytes(), source=str(path))[0].moves
        cut = CUTS[len(out) % len(CUTS)]
        if len(moves) > cut:
            out.append(moves[:cut])
        if len(out) == count:
            break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trees", nargs="+", type=Path, help="source trees of the engines to compare")
    ap.add_argument("--games", type=Path, required=True, help="a tengen match folder whose records give the positions")
    ap.add_argument("--positions", type=int, default=8)
    ap.add_argument("--visits", type=int, default=800)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", default=str(BUNDLED))
    args = ap.parse_args()
    games = positions(args.games, args.positions)
    if not games:
        raise SystemExit(f"engine_speed.py: {args.games}: no match records with more than {CUTS[0]} moves")
    seconds: dict[Path, list[float]] = {t: [] for t in args.trees}
    for _ in range(args.rounds):
        for tree in args.trees:
            cmd = (f"env PYTHONPATH={shlex.quote(str(tree.resolve()))} {shlex.quote(sys.executable)} -m tengen_cli gtp"
                   f" --model {shlex.quote(args.model)} --threads 1 --visits {args.visits} --resign-threshold 0")
            with GtpClient(cmd) as eng:
                eng.send("genmove b", timeout=600)  # compilation and the first network call
                for moves in games:
                    eng.send("clear_board")
                    for colour, vertex in moves:
                        eng.send(f"play {colour} {vertex}")
                    t0 = time.perf_counter()
                    eng.send(f"reg_genmove {'W' if moves[-1][0] == 'B' else 'B'}", timeout=600)
                    seconds[tree].append(time.perf_counter() - t0)
    for tree, times in seconds.items():
        med = statistics.median(times)
        print(json.dumps({"tree": str(tree), "positions": len(games), "visits": args.visits, "median_s": round(med, 3),
                          "visits_per_s": round(args.visits / med)}))


if __name__ == "__main__":
    main()
