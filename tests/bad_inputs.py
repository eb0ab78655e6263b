"""Bad input to every ``tengen`` subcommand: each must end with one error line and a non-zero exit, never
a traceback.

    python -m tests.bad_inputs [--only SUBSTRING]

runs every case as its own process (``python -m tengen_cli ...``, in a temporary folder that holds the
files the cases name: a text file, an empty folder, an SGF file, broken TOML...), and prints one line per
case and the counts: cases, tracebacks, wrong exit codes, error messages that are not one line, hangs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from policy.modelfile import BUNDLED

ROOT = Path(__file__).resolve().parent.parent
MODEL = str(BUNDLED)
SGF = "(;GM[1]FF[4]SZ[9]KM[7];B[ee];W[cc])\n"

# (subcommand and arguments, exit code): 2 for bad input; 1 where the input is readable but gives nothing
CASES: list[tuple[str, int]] = [
    ("playouts --size 0", 2), ("playouts --size 26", 2), ("playouts --seconds -1", 2), ("playouts --batch x", 2),
    ("playouts --komi nan", 2),
    ("gtp --model missing.pt", 2), ("gtp --model text.txt", 2), ("gtp --model folder", 2), ("gtp --visits 0", 2),
    ("gtp --visits x", 2), ("gtp --komi 1e308", 2), ("gtp --rules xx", 2), ("gtp --size 1", 2),
    ("gtp --device cuda:9", 2), ("gtp --device potato", 2), ("gtp --config missing.toml", 2),
    ("gtp --config bad.toml", 2), ("gtp --config negative.toml", 2), ("gtp --config unknown.toml", 2),
    ("gtp --threads 0", 2), ("gtp --move-seconds 0", 2), ("gtp --analysis-interval nan", 2),
    ("gtp --model game.sgf", 2), ("gtp --random-moves -1", 2),
    ("play --color Q", 2), ("play --model text.txt", 2), ("play --size 30", 2), ("play --komi inf", 2),
    ("play --log folder --model none", 2), ("play --visits -3", 2),
    ("match no-such-engine-a no-such-engine-b --out m1 --games 1", 2),
    (f"match '{sys.executable} -c \"import sys; sys.exit(3)\"' no-such-engine --out m2 --games 1", 2),
    ("match \"'unbalanced\" b --out m3", 2), ("match a b --out m4 --games 0", 2), ("match a b --out m5 --size 1", 2),
    ("match a b --out m6 --komi x", 2), ("match a b --out text.txt", 2),
    (f"match '{sys.executable} -m tengen_cli gtp --model none' '{sys.executable} -m tengen_cli gtp --model none' "
     "--out m7 --games 1 --size 9 --scorer no-such-scorer", 2),
    (f"match '{sys.executable} -m tengen_cli gtp --model none' '/usr/games/gnugo --mode gtp' --out m8 --games 1 "
     "--size 25", 2),
    ("selfplay --out s1 --games 0", 2), ("selfplay --out s2 --games x", 2), ("selfplay --out s3 --games 1 "
                                                                               "--model text.txt", 2),
    ("selfplay --out text.txt --games 1 --model none", 2), ("selfplay --out s4 --games 1 --size 99", 2),
    ("selfplay --out s5 --games 1 --workers 0", 2), ("selfplay --out s6 --games 1 --full-fraction 2", 2),
    ("selfplay --out s7 --games 1 --komi-stdev -1", 2), ("selfplay --out s8 --games 1 --device cuda", 2),
    ("loop run l1 --size 99", 2), ("loop run l2 --init text.txt", 2), ("loop run text.txt --games 1", 2),
    ("loop run l3 --gnugo-levels 11", 2), ("loop run l4 --games 0", 2), ("loop run l5 --lr -1", 2),
    ("loop eval missing-run", 2), ("loop eval emptyrun", 2), ("loop eval emptyrun --against text.txt", 2),
    ("loop report missing-run", 2), ("loop report emptyrun", 2), ("loop report text.txt", 2),
    ("loop", 2), ("loop fly", 2),
    ("data build missing-folder --out d1", 2), ("data build text.txt --out d2", 1), ("data build folder --out d3", 1),
    ("data build game.sgf --out d4 --size 99", 2), ("data build game.sgf --out text.txt", 2),
    ("data build game.sgf --out d5 --val-fraction 2", 2), ("data build game.sgf --out d6 --min-rank 99x", 2),
    ("data build game.sgf --out d7", 1), ("data", 2),
    ("train missing.npz --out t1", 2), ("train text.txt --out t2 --steps 1", 2), ("train game.sgf --out t3 --steps 1", 2),
    ("train folder --out t4 --steps 1", 2), ("train text.txt --out t5 --steps 0", 2),
    ("train text.txt --out t6 --init text.txt", 2), ("train text.txt --out t7 --device cuda", 2),
    ("train text.txt --out t8 --val missing.npz", 2), ("train text.txt --out t9 --sample-rate 0", 2),
    ("eval text.txt text.txt", 2), ("eval folder text.txt", 2), (f"eval {MODEL} text.txt", 2),
    (f"eval {MODEL} folder", 2), (f"eval {MODEL} game.sgf", 2), (f"eval {MODEL} missing.npz", 2),
    (f"eval {MODEL} folder --limit 0", 2), ("eval game.sgf folder", 2),
    ("", 2), ("fly", 2), ("--size 9", 2),
]


def make_files(folder: Path) -> None:
    """What the cases name, in the folder they run in."""
    (folder / "text.txt").write_text("hello\n")
    (folder / "folder").mkdir()
    (folder / "game.sgf").write_text(SGF)
    (folder / "bad.toml").write_text("visits = [\n")
    (folder / "negative.toml").write_text("visits = -5\n")
    (folder / "unknown.toml").write_text("ponies = 3\n")
    (folder / "emptyrun").mkdir()
    (folder / "emptyrun" / "loop.json").write_text("{}")


@dataclass
class BadInputCounts:
    cases: int = 0
    tracebacks: int = 0
    wrong_exit: int = 0
    not_one_line: int = 0
    hangs: int = 0
    seconds: float = 0.0


def run_case(argv: str, folder: Path, timeout: float = 300.0) -> tuple[int | None, str]:
    """The exit code (None for a hang) and stderr of ``tengen ARGV`` in ``folder``; stdin is empty."""
    import shlex

    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "TENGEN_MODEL": ""}
    try:
        p = subprocess.run([sys.executable, "-m", "tengen_cli"] + shlex.split(argv), cwd=folder, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    return p.returncode, p.stderr


def error_lines(stderr: str) -> list[str]:
    """The lines that report the error: those that start with the command's name (progress bars and the
    notice of compiling aside)."""
    return [l for l in stderr.splitlines() if l.startswith("tengen") and not l.startswith("tengen: compiling")]


def check(cases: list[tuple[str, int]], report=print) -> BadInputCounts:
    counts = BadInputCounts()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tengen-bad-") as tmp:
        folder = Path(tmp)
        make_files(folder)
        for argv, expected in cases:
            code, err = run_case(argv, folder)
            counts.cases += 1
            problems = []
            if code is None:
                counts.hangs += 1
                problems.append("hang")
            else:
                if "Traceback" in err:
                    counts.tracebacks += 1
                    problems.append("traceback")
                if code != expected:
                    counts.wrong_exit += 1
                    problems.append(f"exit {code}, expected {expected}")
                if len(error_lines(err)) != 1:
                    counts.not_one_line += 1
                    problems.append(f"{len(error_lines(err))} error lines")
            last = (error_lines(err) or err.strip().splitlines() or [""])[-1]
            report(f"{'BAD ' + '; '.join(problems) if problems else 'ok'}: tengen {argv} -> {code}: {last[:160]}")
    counts.seconds = round(time.monotonic() - t0, 1)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="run only the cases whose arguments contain this (default: all)")
    args = ap.parse_args(argv)
    counts = check([c for c in CASES if args.only in c[0]])
    print(asdict(counts))
    return 0 if counts.tracebacks == counts.wrong_exit == counts.not_one_line == counts.hangs == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
