"""Reviewing a game: every position through ``tengen analysis`` (batched) vs move by move through ``tengen gtp``.

The game's first ``--moves`` moves (default 250; a 19x19 game from the shared records unless ``--sgf``)
give ``--moves`` + 1 positions, each searched to ``--visits`` visits (default 100) with the bundled
network, ``--threads`` torch threads each (default 1):

- analysis: one ``tengen analysis`` query with ``analyzeTurns`` 0..N; the engine searches
  ``--positions`` of them at once, their leaves sharing each network call;
- gtp: ``tengen gtp --visits V``, then for each position ``reg_genmove`` (a search, its tree kept and
  reused after ``play``, as a GUI stepping through the game would get) and ``play`` of the game's move;
- kata: ``tengen gtp`` as a GUI analysing move by move drives it: for each position ``kata-analyze interval
  10 rootInfo true`` until a line reports V root visits, then ``play`` of the game's move (which ends that
  analysis; the tree it grew is kept for the next position, as with reg_genmove).

Each engine is started and warmed up (model loaded, kernels compiled, one small search) before the
clock starts; the clock reads wall time and the engine process's CPU time (the fair figure on a
shared machine). The three alternate ``--runs`` times; prints one JSON line per run and a summary with
the median ratios gtp / analysis and kata / analysis.

Usage: PYTHONPATH=. python bench/review.py [--sgf GAME.sgf] [--moves 250] [--visits 100] [--runs 2]
       [--only analysis gtp kata] [--precision bf16]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from go_engine.sgf import read_sgf_file

DEFAULT_SGF = "/work/shared/data/ai-games/master/22-2016.12.31-Master-Chen_Yaoye.sgf"
ROOT = Path(__file__).resolve().parent.parent


ENGINE_OPTIONS: list[str] = []  # given to every engine started (main sets ``--precision``)


def start(args: list[str], threads: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(threads))
    return subprocess.Popen([sys.executable, "-m", "tengen_cli", *args, "--threads", str(threads), *ENGINE_OPTIONS],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=ROOT)


def cpu_seconds(p: subprocess.Popen) -> float:
    """CPU time (user + system, all threads) the engine process has used so far."""
    fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def query(game, moves: list[tuple[str, str]], visits: int, qid: str, turns: list[int]) -> str:
    return json.dumps({"id": qid, "moves": [list(m) for m in moves], "rules": "chinese", "komi": game.komi,
                       "boardXSize": game.size, "boardYSize": game.size, "analyzeTurns": turns,
                       "maxVisits": visits})


def run_analysis(game, moves, visits: int, threads: int, positions: int, leaves: int) -> tuple[float, float]:
    p = start(["analysis", "--positions", str(positions), "--leaves", str(leaves)], threads)
    p.stdin.write(query(game, moves[:2], 16, "warm", [0, 1, 2]) + "\n")  # load and compile before the clock
    p.stdin.flush()
    for _ in range(3):
        p.stdout.readline()
    t0, c0 = time.perf_counter(), cpu_seconds(p)
    p.stdin.write(query(game, moves, visits, "review", list(range(len(moves) + 1))) + "\n")
    p.stdin.flush()
    results = []
    while sum(r.get("id") == "review" and not r.get("isDuringSearch", True) for r in results) < len(moves) + 1:
        line = p.stdout.readline()
        if not line:
            break
        results.append(json.loads(line))
    seconds, cpu = time.perf_counter() - t0, cpu_seconds(p) - c0
    p.stdin.close()
    p.wait()
    done = [r for r in results if r.get("id") == "review" and "rootInfo" in r]
    if len(done) != len(moves) + 1 or any(r["rootInfo"]["visits"] < visits for r in done):
        raise RuntimeError(f"analysis answered {len(done)} of {len(moves) + 1} positions: {results[:2]}")
    return seconds, cpu


def start_gtp(game, visits: int, threads: int) -> subprocess.Popen:
    p = start(["gtp", "--visits", str(visits), "--resign-threshold", "0", "--komi", str(game.komi),
               "--size", str(game.size)], threads)
    gtp_command(p, "name")  # the engine warms up before it reads its first command
    return p


def send(p: subprocess.Popen, c: str) -> None:
    p.stdin.write(c + "\n")
    p.stdin.flush()


def answer(p: subprocess.Popen, c: str) -> str:
    """The rest of the answer to ``c``, up to its closing blank line."""
    out = []
    while (line := p.stdout.readline()) != "\n":
        if not line:
            raise RuntimeError(f"tengen gtp ended at {c!r}")
        out.append(line)
    if not out or not out[0].startswith("="):
        raise RuntimeError(f"{c!r}: {''.join(out)}")
    return "".join(out)


def gtp_command(p: subprocess.Popen, c: str) -> str:
    send(p, c)
    return answer(p, c)


def finish_gtp(p: subprocess.Popen) -> None:
    gtp_command(p, "quit")
    p.wait()


def run_gtp(game, moves, visits: int, threads: int) -> tuple[float, float]:
    p = start_gtp(game, visits, threads)
    t0, c0 = time.perf_counter(), cpu_seconds(p)
    for color, vertex in moves:
        gtp_command(p, f"reg_genmove {color}")
        gtp_command(p, f"play {color} {vertex}")
    gtp_command(p, f"reg_genmove {'W' if moves[-1][0] == 'B' else 'B'}")
    seconds, cpu = time.perf_counter() - t0, cpu_seconds(p) - c0
    finish_gtp(p)
    return seconds, cpu


def run_kata(game, moves, visits: int, threads: int) -> tuple[float, float]:
    p = start_gtp(game, visits, threads)

    def analyse(then: str | None) -> None:
        """kata-analyze until a line reports ``visits`` root visits, then send ``then`` (or stop)."""
        send(p, "kata-analyze interval 10 rootInfo true")
        if not p.stdout.readline().startswith("="):
            raise RuntimeError("kata-analyze refused")
        while True:
            line = p.stdout.readline()
            if not line or line == "\n":
                raise RuntimeError(f"kata-analyze ended before {visits} visits")
            if int(line.split(" rootInfo visits ", 1)[1].split()[0]) >= visits:
                break
        send(p, then or "stop")
        while (line := p.stdout.readline()) != "\n":  # the analysis's last lines and its end
            if not line:
                raise RuntimeError("tengen gtp ended in kata-analyze")
        answer(p, then or "stop")

    t0, c0 = time.perf_counter(), cpu_seconds(p)
    for color, vertex in moves:
        analyse(f"play {color} {vertex}")
    analyse(None)
    seconds, cpu = time.perf_counter() - t0, cpu_seconds(p) - c0
    finish_gtp(p)
    return seconds, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sgf", default=DEFAULT_SGF)
    ap.add_argument("--moves", type=int, default=250)
    ap.add_argument("--visits", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--positions", type=int, default=32, help="tengen analysis --positions")
    ap.add_argument("--leaves", type=int, default=4, help="tengen analysis --leaves")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--precision", default=None, help="tengen gtp/analysis --precision for both engines")
    ap.add_argument("--only", choices=["analysis", "gtp", "kata"], nargs="+", default=["analysis", "gtp", "kata"])
    args = ap.parse_args()
    if args.precision:
        ENGINE_OPTIONS.extend(["--precision", args.precision])
    game = read_sgf_file(args.sgf)[0].replay()
    moves = game.moves[: args.moves]
    if len(moves) < args.moves:
        raise SystemExit(f"{args.sgf} has {len(moves)} moves, fewer than --moves {args.moves}")
    n = len(moves) + 1
    ratios: dict[str, list[float]] = {}
    for r in range(args.runs):
        res = {"bench": "review", "run": r, "positions": n, "visits": args.visits, "threads": args.threads,
               "precision": args.precision or "float32"}
        for way in args.only:
            if way == "analysis":
                wall, cpu = run_analysis(game, moves, args.visits, args.threads, args.positions, args.leaves)
            else:
                wall, cpu = (run_gtp if way == "gtp" else run_kata)(game, moves, args.visits, args.threads)
            res.update({f"{way}_s": round(wall, 2), f"{way}_cpu_s": round(cpu, 2)})
        if "analysis" in args.only:
            for way in ("gtp", "kata"):
                if way in args.only:
                    res[f"{way}_ratio"] = round(res[f"{way}_s"] / res["analysis_s"], 2)
                    res[f"{way}_cpu_ratio"] = round(res[f"{way}_cpu_s"] / res["analysis_cpu_s"], 2)
        for key, value in res.items():
            if key.endswith("ratio"):
                ratios.setdefault(key, []).append(value)
        print(json.dumps(res), flush=True)
    if ratios:
        print(json.dumps({"bench": "review", "summary": True, "sgf": Path(args.sgf).name, "positions": n,
                          "visits": args.visits, **{f"median_{k}": statistics.median(v) for k, v in ratios.items()}}),
              flush=True)


if __name__ == "__main__":
    main()
