"""Training-data speed: ``tengen data build`` end to end, and the position loader.

    python bench/data.py [--input ../shared/data/tom-9d] [--workers 2] [--loader-batches 200]

Prints JSON lines:
  build: games read, games/s end to end (listing, parsing, replay with full
  legality, shards, summary), positions, bytes on disk and bytes/position;
  baseline: sgfmill (a pure-Python SGF library) parsing a sample of the same
  files in the same run, games/s on one core, and our parse+replay on the same
  sample on one core;
  loader: positions/s of ready batches (features, a random symmetry each,
  targets), median of several timed runs, with and without symmetries.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from go_engine.sgf import SgfError, iter_sgf  # noqa: E402
from policy.data.build import BuildOptions, build, to_record  # noqa: E402
from policy.data.loader import PositionLoader  # noqa: E402


def baseline(files: list[Path]) -> dict:
    """Games/s on one core: sgfmill parsing only, and Tengen parsing plus replay."""
    out = {}
    try:
        from sgfmill import sgf as sgfmill_sgf
    except ImportError:
        sgfmill_sgf = None
    datas = [f.read_bytes() for f in files]
    opts = BuildOptions()
    for g in iter_sgf(datas[0][:20000], "warm-up"):  # load the kernels before timing
        if not isinstance(g, SgfError):
            to_record(g, opts)
    t0 = time.perf_counter()
    games = 0
    for i, d in enumerate(datas):
        for g in iter_sgf(d, str(files[i])):
            if not isinstance(g, SgfError):
                to_record(g, opts)
                games += 1
    out["tengen_parse_replay_games_per_s_1core"] = round(games / (time.perf_counter() - t0), 1)
    if sgfmill_sgf is not None:
        t0 = time.perf_counter()
        n = nodes = 0
        for d in datas:
            for line in d.splitlines():  # tom-9d: one game per line
                if line.strip():
                    g = sgfmill_sgf.Sgf_game.from_bytes(line)
                    nodes += sum(1 for _ in g.get_main_sequence())
                    n += 1
        secs = time.perf_counter() - t0
        out["sgfmill_parse_games_per_s_1core"] = round(n / secs, 1)
        out["ratio_vs_sgfmill"] = round(out["tengen_parse_replay_games_per_s_1core"] / out["sgfmill_parse_games_per_s_1core"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default=str(ROOT.parent / "shared" / "data" / "tom-9d"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--loader-batches", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None, help="build here (default: a temporary folder)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp) / "data"
        t0 = time.perf_counter()
        s = build([args.input], str(out), BuildOptions(), workers=args.workers, progress=False)
        secs = time.perf_counter() - t0
        print(json.dumps({"build": str(args.input), "workers": args.workers, "games_read": s["games_read"],
                          "games_used": s["games_used"], "seconds": round(secs, 1),
                          "games_per_s": round(s["games_read"] / secs, 1), "positions": s["positions_written"],
                          "bytes": s["bytes"], "bytes_per_position": round(s["bytes"] / max(1, s["positions_written"]), 2),
                          "rejected": s["rejected"]}), flush=True)
        # the three largest files, so per-file costs do not dominate the baseline
        files = sorted(Path(args.input).glob("*.sgf"), key=lambda f: -f.stat().st_size)[:3] if Path(args.input).is_dir() else []
        if files:
            print(json.dumps({"baseline_files": [f.name for f in files], **baseline(files)}), flush=True)
        for sym in (True, False):
            rates = []
            for r in range(args.repeats):
                it = iter(PositionLoader([out / "train"], batch_size=args.batch_size, seed=r, symmetries=sym))
                next(it)  # fill the shuffle buffer and load the kernels
                t0 = time.perf_counter()
                n = sum(len(next(it)) for _ in range(args.loader_batches))
                rates.append(n / (time.perf_counter() - t0))
            print(json.dumps({"loader": "train", "symmetries": sym, "batch_size": args.batch_size,
                              "positions_per_s": round(statistics.median(rates)), "runs": [round(x) for x in rates]}),
                  flush=True)


if __name__ == "__main__":
    main()
