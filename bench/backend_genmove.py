"""``genmove`` in ``tengen gtp`` on each inference backend (``--backend``), interleaved.

One engine process per backend (``tengen gtp --threads T --backend B``), all
alive at once and used in turn, so that load from other programs falls on each
alike; while one thinks the others wait. Positions come from real games (the
first ``--positions`` records of ``--size`` under ``--sgf``, each cut at a
random move, as in bench/genmove.py); every position is set up afresh
(``clear_board`` and the moves), so no tree is reused, and the backends take
turns in alternating order. Two measurements a position:

- at ``--visits`` visits a move: the seconds of each backend's genmove and the
  move it chose (``agree``: the share of positions where every backend chose the
  same move);
- under ``time_settings 0 S 1`` (S seconds a move, as ``tengen match
  --move-time S`` tells the engines): the visits each search reached, from the
  engine's log line.

Prints one JSON line per position, then a summary line: medians per backend,
and the median of the per-position ratios against the first backend (time:
first / other, so above 1 is faster; visits: other / first); ``--markdown``
also prints it as a table for docs/benchmarks.md.

    python bench/backend_genmove.py [--backends torch openvino openvino:bf16] [--threads 1] [--visits 200]
                                    [--seconds 1] [--positions 20] [--model FILE] [--markdown]

A backend written ``NAME:bf16`` runs with ``--precision bf16``, one written ``NAME@T`` (or
``NAME:bf16@T``) on ``T`` threads instead of ``--threads``: ``--backends torch@2 openvino@1`` sets
the default engine on two cores against OpenVINO on one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.genmove import position_options, positions  # noqa: E402
from bench.infer import cpu_name  # noqa: E402
from go_engine.gtp_client import GtpClient  # noqa: E402

LOG_LINE = re.compile(r"genmove [BW]: (\S+) winrate \S+ visits (\d+) in")


@dataclass(frozen=True)
class BackendSpec:
    """A backend as written on the command line, ``NAME[:PRECISION][@THREADS]``."""

    name: str
    precision: str
    threads: int

    @classmethod
    def parse(cls, spec: str, default_threads: int) -> BackendSpec:
        """Read ``spec``; no precision is float32, no thread count is ``default_threads`` (``--threads``)."""
        head, _, threads = spec.partition("@")
        name, _, precision = head.partition(":")
        return cls(name, precision or "float32", int(threads or default_threads))


class Engine:
    """A ``tengen gtp`` process on one backend, its log in a file read after each genmove."""

    def __init__(self, backend: str, args, visits: int, log_dir: str) -> None:
        self.backend = backend
        spec = BackendSpec.parse(backend, args.threads)
        self.log = open(Path(log_dir) / f"{spec.name}-{spec.precision}-{spec.threads}-{visits}.log", "w+",
                        encoding="utf-8")
        cmd = [sys.executable, "-m", "tengen_cli", "gtp", "--size", str(args.size), "--threads", str(spec.threads),
               "--backend", spec.name, "--precision", spec.precision, "--resign-threshold", "0",
               "--visits", str(visits)]
        self.client = GtpClient(cmd + (["--model", args.model] if args.model else []), stderr=self.log)

    def genmove(self, moves: list[tuple[str, str]]) -> tuple[str, float, int]:
        """In the position after ``moves`` (set up afresh): the move, its seconds and the visits reached."""
        self.client.send("clear_board")
        for color, vertex in moves:
            self.client.send(f"play {color} {vertex}")
        t0 = time.perf_counter()
        move = self.client.send(f"genmove {'W' if moves[-1][0] == 'B' else 'B'}", timeout=600)
        seconds = time.perf_counter() - t0
        self.log.seek(0)
        return move, seconds, int(LOG_LINE.findall(self.log.read())[-1][1])

    def close(self) -> list[str]:
        """Stop the engine; its log lines but those of genmove."""
        self.client.close()
        self.log.seek(0)
        lines = [x for x in self.log.read().splitlines() if "genmove" not in x]
        self.log.close()
        return lines


def interleaved(games: list, args, visits: int, clock: str | None) -> list[dict[str, tuple[str, float, int]]]:
    """Each backend's genmove in every position (backends in turn, the order alternating), each engine
    capped at ``visits`` and under the GTP ``time_settings`` ``clock`` if given."""
    out = []
    with tempfile.TemporaryDirectory() as logs:
        engines = [Engine(b, args, visits, logs) for b in args.backends]
        try:
            for e in engines:
                if clock:
                    e.client.send(f"time_settings {clock}")
                e.genmove([("B", "Q16")])  # the first move's one-off costs, after the warm-up
            for i, moves in enumerate(games):
                out.append({e.backend: e.genmove(moves) for e in (engines if i % 2 == 0 else engines[::-1])})
        finally:
            for e in engines:
                print(json.dumps({"backend": e.backend, "visits": visits, "clock": clock, "log": e.close()}),
                      flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", nargs="+", default=["torch", "openvino"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--visits", type=int, default=200, help="visits a move of the fixed-visit genmove")
    ap.add_argument("--seconds", type=float, default=1.0, help="seconds a move of the timed genmove (0: none)")
    position_options(ap, 20)
    ap.add_argument("--markdown", action="store_true", help="also print the summary as a markdown table")
    args = ap.parse_args()
    os.chdir(ROOT)
    games = positions(args.sgf, args.size, args.positions, args.seed)
    print(json.dumps({"date": time.strftime("%Y-%m-%d"),
                      "command": " ".join(["bench/backend_genmove.py"] + sys.argv[1:]),
                      "cpu": cpu_name(), "cores": os.cpu_count(), "positions": len(games),
                      "load_avg_1m": round(os.getloadavg()[0], 2)}), flush=True)
    fixed = interleaved(games, args, args.visits, None)
    timed = interleaved(games, args, 10 ** 6, f"0 {args.seconds:g} 1") if args.seconds else None
    rows = []
    for i, moves in enumerate(games):
        row = {"position": i, "moves": len(moves), "move": {b: m for b, (m, _, _) in fixed[i].items()},
               "seconds": {b: round(t, 4) for b, (_, t, _) in fixed[i].items()}}
        if timed:
            row["timed_visits"] = {b: v for b, (_, _, v) in timed[i].items()}
        print(json.dumps(row), flush=True)
        rows.append(row)
    summary = summarize(rows, args)
    print(json.dumps(summary), flush=True)
    if args.markdown:
        print(markdown(summary, args))


def summarize(rows: list[dict], args) -> dict:
    first = args.backends[0]
    out = {"summary": True, "positions": len(rows), "visits": args.visits,
           "threads": {b: BackendSpec.parse(b, args.threads).threads for b in args.backends},
           "agree": round(sum(len(set(r["move"].values())) == 1 for r in rows) / len(rows), 3),
           "median_s": {}, "time_ratio": {}, "timed_seconds": args.seconds, "median_timed_visits": {},
           "visits_ratio": {}, "load_avg_1m": round(os.getloadavg()[0], 2)}
    for b in args.backends:
        out["median_s"][b] = round(statistics.median(r["seconds"][b] for r in rows), 4)
        if b != first:
            out["time_ratio"][b] = round(statistics.median(r["seconds"][first] / r["seconds"][b] for r in rows), 3)
        if args.seconds:
            out["median_timed_visits"][b] = statistics.median(r["timed_visits"][b] for r in rows)
            if b != first:
                out["visits_ratio"][b] = round(statistics.median(
                    r["timed_visits"][b] / r["timed_visits"][first] for r in rows), 3)
    return out


def markdown(s: dict, args) -> str:
    first = args.backends[0]
    head = ["backend", f"s/move at {s['visits']} visits", f"speed vs {first}"]
    if args.seconds:
        head += [f"visits at {args.seconds:g} s/move", f"visits vs {first}"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for b in args.backends:
        cells = [b, f"{s['median_s'][b]:.3f}", "1" if b == first else f"{s['time_ratio'][b]:.2f}x"]
        if args.seconds:
            cells += [f"{s['median_timed_visits'][b]:g}", "1" if b == first else f"{s['visits_ratio'][b]:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"{s['positions']} positions, {args.size}x{args.size}, threads {s['threads']}; the same move at "
                 f"{s['visits']} visits in {s['agree']:.0%} of them.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
