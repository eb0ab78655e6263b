"""Numba's cache per version of the kernels (go_engine/kernel_cache.py)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from go_engine.kernel_cache import CALLED_SOURCES, HERE, kernel_digest

ROOT = Path(__file__).resolve().parents[1]
SHOW = "import os, go_engine; from numba.core import config; print(os.environ['NUMBA_CACHE_DIR'], config.CACHE_DIR)"


def test_the_digest_follows_every_called_source(tmp_path):
    for name in CALLED_SOURCES:
        shutil.copy(HERE / name, tmp_path / name)
    assert kernel_digest(tmp_path) == kernel_digest()
    seen = {kernel_digest()}
    for name in CALLED_SOURCES:
        with open(tmp_path / name, "a") as f:
            f.write("\n# changed\n")
        seen.add(kernel_digest(tmp_path))
    assert len(seen) == len(CALLED_SOURCES) + 1


def test_the_cache_folder_is_under_the_users_and_inherited_as_it_is(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    folder = str(tmp_path / f"tengen-{kernel_digest()}")
    assert out.stdout.split() == [folder, folder]
    env["NUMBA_CACHE_DIR"] = folder  # a child process of Tengen's keeps its parent's folder
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [folder, folder]


MOVES = ("from go_engine import Game; from go_engine.playout import random_playouts; "
         "from tests.test_deadstones import FINAL; print(random_playouts(Game.from_diagram(FINAL), 20, seed=1).moves)")


@pytest.mark.slow
def test_a_changed_kernel_reaches_the_cached_kernels_of_other_files_that_call_it(tmp_path):
    """random_playouts' kernel (playout.py) calls k_playout and k_is_eye (kernels.py): after a change to
    kernels.py alone, a cached k_playouts must not keep running the old ones."""
    tree = tmp_path / "tree"
    shutil.copytree(HERE, tree / "go_engine", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", tree / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(tree)}

    def moves() -> int:
        out = subprocess.run([sys.executable, "-c", MOVES], env=env, capture_output=True, text=True, check=True,
                             cwd=tree, timeout=900)
        return int(out.stdout)

    before = moves()
    assert moves() == before  # the same seed, the same playouts
    kernels = tree / "go_engine" / "kernels.py"
    text = kernels.read_text()
    eye = '''    """Whether empty ``p`` is a one-point eye of ``c`` (not a false eye)."""\n'''
    assert eye in text
    kernels.write_text(text.replace(eye, eye + "    return False\n"))
    assert moves() != before  # playouts that fill their own eyes capture more and play on
