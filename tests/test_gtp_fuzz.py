"""GTP fuzzing (tests/gtp_fuzz.py): framing, liveness and unchanged state after every ``?``."""

import random
import subprocess
import sys

import pytest

from tests.gtp_fuzz import FuzzCounts, fuzz_lines, ignored, request_id, run_fuzz


def _clean(counts: FuzzCounts, failures: list) -> None:
    assert (counts.crashes, counts.hangs, counts.framing_violations, counts.changed_state, counts.internal_errors,
            counts.tracebacks) == (0, 0, 0, 0, 0, 0), failures[:10]


def test_the_generator_covers_the_edges_and_never_names_a_file_command():
    rng = random.Random(0)
    source = fuzz_lines(rng)
    lines = [next(source) for _ in range(3000)]
    assert not any(b"sgf" in l.lower() or b"quit" in l.lower() for l in lines)
    assert any(len(l) > 65536 for l in lines) and any(ignored(l) for l in lines)
    assert any(not l.isascii() for l in lines) and sum(l.startswith(b"play") for l in lines) > 300
    assert request_id(b"12 name") == "12" and request_id(b"\xc2\xb2 name") == "" and request_id(b"\t7\x01 x") == "7"


def test_fuzz_in_process():
    """1,500 lines against the engine in this process, its whole state compared after every ``?``."""
    failures: list = []
    counts = run_fuzz(1500, seed=11, failures=failures)
    print(counts)
    assert counts.lines == 1500 and counts.answers_ok > 300 and counts.answers_error > 300
    _clean(counts, failures)


def test_fuzz_in_process_while_pondering():
    """Pondering between requests: nothing it meets ends the engine or changes the game."""
    failures: list = []
    counts = run_fuzz(600, seed=12, ponder=True, failures=failures)
    assert counts.lines == 600
    _clean(counts, failures)


def _has_locale(name: str) -> bool:
    probe = f"import locale; locale.setlocale(locale.LC_ALL, {name!r})"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["C.UTF-8", "en_US.UTF-8"])
def test_fuzz_tengen_gtp_process_under_a_locale(name):
    """10,000 lines against ``tengen gtp`` as a process under LC_ALL=name (its record compared after every
    ``?``). The figures go to docs/benchmarks.md."""
    if not _has_locale(name):
        pytest.skip(f"locale {name} is not installed here (apt-get install -y locales; locale-gen {name})")
    failures: list = []
    counts = run_fuzz(10_000, seed=2026, process=True, env={"LC_ALL": name, "LANG": name}, failures=failures)
    print(name, counts)
    assert counts.lines == 10_000
    _clean(counts, failures)
