"""Differential check of the rules engine against GNU Go 3.8, at volume.

Plays seeded random games (no own-eye filling) in Tengen's engine, relays every
move to ``gnugo --mode gtp --chinese-rules`` processes (one per worker) and
compares stones after every move, the legality of every empty point every
fifth move, and the area score with GNU Go's ``final_score`` at the end of each
game where GNU Go marks no stone dead. Prints each mismatch (with its replay
command) on stderr, then one JSON summary line on stdout:

  games, size, moves_checked, legality_checks, score_comparisons,
  score_skipped_dead_stones, score_skipped_move_cap, score_skipped_diverged,
  mismatches, seconds, games_per_s

    python bench/gnugo_diff.py --games 2000 --size 9 --workers 2 --seed 1

Game ``k`` of a run uses seed ``seed * 1_000_000 + k``; ``python -m tests.gnugo
SIZE SEED`` replays one. Exit status 1 if any mismatch was found, 2 if GNU Go
is not installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gnugo import find_gnugo, run_games  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--games", type=int, default=2000)
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--workers", type=int, default=2, help="GNU Go processes (threads) in parallel")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--legality-every", type=int, default=5, help="compare all legal points every N moves")
    ap.add_argument("--gnugo", default=None, help="path of the gnugo binary (default: PATH, then /usr/games)")
    ap.add_argument("--show", type=int, default=20, help="print at most this many mismatches")
    args = ap.parse_args(argv)

    binary = args.gnugo or find_gnugo()
    if binary is None:
        print("GNU Go not found: install it (apt-get install gnugo) or pass --gnugo PATH", file=sys.stderr)
        return 2
    seeds = range(args.seed * 1_000_000, args.seed * 1_000_000 + args.games)
    s = run_games(args.size, seeds, workers=args.workers, binary=binary, legality_every=args.legality_every)
    for m in s.mismatches[: args.show]:
        print(m, file=sys.stderr)
    if len(s.mismatches) > args.show:
        print(f"... and {len(s.mismatches) - args.show} more mismatches", file=sys.stderr)
    out = s.as_dict()
    out["games_per_s"] = round(s.games / s.seconds, 2) if s.seconds else None
    print(json.dumps(out))
    return 1 if s.mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
