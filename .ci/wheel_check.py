"""Does a plain ``pip install`` of Tengen play with its bundled network?

Builds the wheel from a clean copy of the working tree (the files git would commit, so no
stale ``build/``), checks that it holds the bundled network, installs it into a fresh virtual
environment (CPU torch first, as .ci/run does) and plays ``name``, ``boardsize 9``,
``genmove b``, ``quit`` with its ``tengen gtp``, run outside the repository. Exit status 0
when every check passes, 1 with one line naming the failed check otherwise.

    python .ci/wheel_check.py                 # everything (about 2 minutes)
    python .ci/wheel_check.py --files-only    # build and check the file list (seconds)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETWORK = "policy/networks/tengen-b6c32-v9.pt"  # policy/modelfile.py BUNDLED, as the wheel holds it
PACKAGE_DATA = (NETWORK, "policy/networks/README.md")
TORCH = "torch==2.13.0"  # the CPU build on this machine's disk (.ci/run)
GTP_IN = "1 name\n2 boardsize 9\n3 genmove b\n4 quit\n"
VERTEX_9 = re.compile(r"[A-HJ][1-9]")  # a point of the 9x9 board: no pass, no resign on the empty board


class CheckFailed(Exception):
    """One check that did not pass; the message says which and why."""


def run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    """Run ``cmd``; a non-zero exit is a ``CheckFailed`` carrying the end of its output."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"{' '.join(cmd)}: no answer within {timeout:.0f}s") from None
    except OSError as e:
        raise CheckFailed(f"{cmd[0]}: cannot run: {e.strerror or e}") from None
    if r.returncode != 0:
        tail = (r.stdout + r.stderr).strip().splitlines()[-5:]
        raise CheckFailed(f"{' '.join(cmd)}: exit {r.returncode}: {' | '.join(tail)}")
    return r


def copy_tree(dst: Path) -> None:
    """The working tree's files as git would commit them (tracked and new, not ignored) into ``dst``."""
    listed = run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"], 60)
    for name in filter(None, listed.stdout.split("\0")):
        src = ROOT / name
        if src.is_file():  # a tracked file deleted in the working tree is not part of it
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)


def build_wheel(work: Path) -> Path:
    """The wheel of a clean copy of the tree, built in ``work`` as a user's pip builds it (in an
    isolated environment with the build requirements of pyproject.toml)."""
    src, dist = work / "src", work / "dist"
    copy_tree(src)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], 300)
    wheels = list(dist.glob("tengen-*.whl"))
    if len(wheels) != 1:
        raise CheckFailed(f"{dist}: expected one tengen wheel, found {[w.name for w in wheels]}")
    return wheels[0]


def check_files(wheel: Path) -> None:
    """The wheel holds the bundled network (the very bytes of the tree's) and its model card."""
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        missing = [n for n in PACKAGE_DATA if n not in names]
        if missing:
            raise CheckFailed(f"{wheel.name}: package data missing: {', '.join(missing)}")
        if z.read(NETWORK) != (ROOT / NETWORK).read_bytes():
            raise CheckFailed(f"{wheel.name}: {NETWORK} differs from the tree's")


def scratch() -> str | None:
    """Where to put the virtual environment: memory (/dev/shm) when it has room, as deleting
    torch's 1.2 GB from a disk mounted with ``discard`` takes about a minute; else the default."""
    shm = "/dev/shm"
    try:
        return shm if os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 << 30 else None
    except OSError:
        return None


def outside_env() -> dict[str, str]:
    """The environment without what would point the install at the tree or at another model."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TENGEN_MODEL", "VIRTUAL_ENV")}


def install(wheel: Path, venv: Path) -> Path:
    """A fresh virtual environment with torch, then the wheel and its dependencies; its ``tengen``."""
    run([sys.executable, "-m", "venv", str(venv)], 120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]  # bytecode on import
    run(pip + [TORCH], 600, env=outside_env())
    run(pip + [str(wheel)], 600, env=outside_env())
    return venv / "bin" / "tengen"


def play(tengen: Path, venv: Path, cwd: Path) -> str:
    """``tengen gtp`` from the install: right answers, and the installed bundled network loaded."""
    installed = list(venv.glob(f"lib/python*/site-packages/{NETWORK}"))
    if len(installed) != 1:
        raise CheckFailed(f"{venv}: the install holds no {NETWORK}")
    r = run([str(tengen), "gtp", "--visits", "32", "--threads", "1"], 300, input=GTP_IN, cwd=cwd, env=outside_env())
    answers = [a for a in r.stdout.split("\n\n") if a.strip()]
    if len(answers) != 4:
        raise CheckFailed(f"tengen gtp: expected 4 answers, got {r.stdout!r}")
    name, size, move, quit_ = (a.strip() for a in answers)
    if name != "=1 Tengen" or size != "=2" or quit_ != "=4" or not (
            move.startswith("=3 ") and VERTEX_9.fullmatch(move[3:])):
        raise CheckFailed(f"tengen gtp: wrong answers {answers!r}")
    loaded = [line for line in r.stderr.splitlines() if "loaded" in line and str(installed[0]) in line]
    if not loaded:
        raise CheckFailed(f"tengen gtp: stderr does not say {installed[0]} was loaded: {r.stderr.strip()!r}")
    return f"name {name[3:]}, genmove b {move[3:]}; stderr: {loaded[0]}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files-only", action="store_true",
                    help="build the wheel and check its files; install nothing")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tengen-wheel-", dir=None if args.files_only else scratch()) as tmp:
        work = Path(tmp)
        try:
            wheel = build_wheel(work)
            check_files(wheel)
            print(f"wheel check: {wheel.name} ({wheel.stat().st_size // 1024} KB) holds {', '.join(PACKAGE_DATA)} "
                  f"({time.monotonic() - t0:.0f}s)", flush=True)
            if args.files_only:
                return 0
            tengen = install(wheel, work / "venv")
            print(f"wheel check: installed into a fresh virtual environment ({time.monotonic() - t0:.0f}s)", flush=True)
            print(f"wheel check: tengen gtp from the install: {play(tengen, work / 'venv', work)} "
                  f"({time.monotonic() - t0:.0f}s)", flush=True)
        except CheckFailed as e:
            print(f"wheel check: FAILED: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
