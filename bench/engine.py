"""Rules-engine speed: random playouts, moves, and the Python API, single thread.

Prints one JSON line per board size:
  size, playouts_per_s, moves_per_s (inside playouts), api_moves_per_s
  (``Game.play`` with its legality check, replaying random games: uniform
  over the legal moves, to the cap of 3 * size * size moves),
  compile_s (first call, Numba compile or cache load).
Then one JSON line with cold and warm import-plus-first-move times (fresh
processes; cold with an empty Numba cache directory, warm reusing it).
Rates are medians over ``--repeats`` runs.

    python bench/engine.py [--sizes 9 19] [--seconds 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from go_engine import Game  # noqa: E402
from go_engine.playout import random_playouts  # noqa: E402


def random_games(size: int, count: int, seed: int) -> list[list[str]]:
    """Move lists of random games: each move uniform over the legal ones (a pass only when it is the last
    one left), to two passes or 3 * size * size moves."""
    rng = np.random.default_rng(seed)
    games = []
    for _ in range(count):
        g = Game(size=size)
        while not g.is_over and len(g.moves) < 3 * size * size:
            moves = g.legal_moves()
            g.play(moves[rng.integers(max(1, len(moves) - 1))])
        games.append([v for _, v in g.moves])
    return games


def time_playouts(size: int, seconds: float, seed: int) -> tuple[float, float]:
    game = Game(size=size)
    done = moves = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        r = random_playouts(game, 200, seed=seed + done)
        done += 200
        moves += r.moves
    dt = time.perf_counter() - t0
    return done / dt, moves / dt


def time_api(size: int, games: list[list[str]]) -> float:
    total = sum(len(g) for g in games)
    t0 = time.perf_counter()
    for moves in games:
        g = Game(size=size)
        for v in moves:
            g.play(v)
    return total / (time.perf_counter() - t0)


def import_first_move(cache_dir: str) -> float:
    code = ("import time; t=time.perf_counter(); from go_engine import Game; g=Game(19); g.play('D4'); "
            "g.legal_moves(); g.undo(); print(time.perf_counter()-t)")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[9, 19])
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per playout measurement")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--games", type=int, default=20, help="random games replayed through the API")
    ap.add_argument("--no-import", action="store_true", help="skip the cold/warm import measurement")
    args = ap.parse_args()

    for size in args.sizes:
        t0 = time.perf_counter()
        random_playouts(Game(size=size), 1)
        Game(size=size).play("pass")
        compile_s = time.perf_counter() - t0
        games = random_games(size, args.games, seed=size)
        po, mv, api = [], [], []
        for i in range(args.repeats):
            a, b = time_playouts(size, args.seconds, seed=1000 * i)
            po.append(a)
            mv.append(b)
            api.append(time_api(size, games))
        print(json.dumps({
            "size": size,
            "playouts_per_s": round(statistics.median(po), 1),
            "moves_per_s": round(statistics.median(mv)),
            "api_moves_per_s": round(statistics.median(api)),
            "compile_s": round(compile_s, 3),
            "repeats": args.repeats,
        }), flush=True)
    if not args.no_import:
        with tempfile.TemporaryDirectory() as d:
            cold = import_first_move(d)
            warm = statistics.median(import_first_move(d) for _ in range(3))
        print(json.dumps({"import_first_move_cold_s": round(cold, 2), "import_first_move_warm_s": round(warm, 3)}))


if __name__ == "__main__":
    main()
