"""The notice of the first Numba compilation in a process."""

import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from go_engine.compile_notice import compile_notice


def test_the_notice_comes_once_at_the_first_compilation():
    told = []

    @njit(cache=False)
    def twice(x):
        return 2 * x

    @njit(cache=False)
    def thrice(x):
        return 3 * x

    with compile_notice(lambda: told.append("first")):
        assert told == []
        assert twice(2) == 4 and twice(np.float64(1.5)) == 3.0 and thrice(1) == 3
    assert told == ["first"]
    assert thrice(1.5) == 4.5 and told == ["first"]  # outside the block: no notice


@pytest.mark.slow
def test_tengen_says_it_compiles_on_a_cold_cache_only(tmp_path):
    """With an empty Numba cache (NUMBA_CACHE_DIR) the first run says so; the second loads the cache."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": root}
    argv = [sys.executable, "-m", "tengen_cli", "playouts", "--size", "5", "--seconds", "0.1"]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == second.returncode == 0
    assert "compiling the Numba kernels, first run only" in first.stderr
    assert "compiling" not in second.stderr
