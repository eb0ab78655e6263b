"""tengen analysis driven by KaTrain's own engine client (PyPI ``katrain``), headless.

``tests/katrain/drive.py`` runs under a Python with KaTrain installed (KaTrain
pulls in Kivy, so it lives in its own virtual environment: ``.ci/run`` makes
``.venv-katrain``); ``TENGEN_KATRAIN_PYTHON`` names that interpreter. The
driver opens a game in KaTrain's ``Game`` with a ``KataGoEngine`` running
``tengen analysis`` (KaTrain analyses every node on load), then asks for
alternatives, a region of interest and a pondering search, and reports what
KaTrain made of it. Without the interpreter the test is skipped, unless
``TENGEN_REQUIRE_KATRAIN`` is set.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from go_engine.game import Game
from go_engine.sgf import write_sgf

HERE = Path(__file__).parent / "katrain"
ROOT = Path(__file__).parent.parent


def a_game(moves: int = 30, seed: int = 4) -> Game:
    """A 9x9 game of random legal moves (no eye filling), with a capture or two by chance."""
    rng = np.random.default_rng(seed)
    g = Game(9, komi=6.5, rules="japanese")
    for _ in range(moves):
        legal = [m for m in g.legal_moves() if m != "pass"]
        g.play(legal[rng.integers(len(legal))])
    return g


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    python = os.environ.get("TENGEN_KATRAIN_PYTHON")
    if not python:
        if os.environ.get("TENGEN_REQUIRE_KATRAIN"):
            pytest.fail("TENGEN_KATRAIN_PYTHON is not set: .ci/run installs KaTrain in .venv-katrain")
        pytest.skip("KaTrain is not installed (set TENGEN_KATRAIN_PYTHON to a Python that has it)")
    sgf = tmp_path_factory.mktemp("katrain") / "game.sgf"
    sgf.write_text(write_sgf(a_game()), encoding="utf-8")
    cmd = [python, str(HERE / "drive.py"), str(sgf), sys.executable, "-m", "tengen_cli", "analysis", "--threads", "1"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_katrain_analyses_every_node(report):
    assert report["idle"] and report["errors"] == []
    nodes = report["nodes"]
    assert len(nodes) == 31
    for n in nodes:  # the last node's visits are the pondering search's
        assert n["complete"] and (n["visits"] == 24 or n is nodes[-1]) and n["candidates"] > 0
        assert 0 <= n["winrate"] <= 1 and isinstance(n["score"], float)
        assert n["ownership"] == 81 and n["policy"] == 82
    # points lost and the policy rank of each move come from the parent's analysis, in Black's terms
    assert all(isinstance(n["points_lost"], float) and n["policy_rank"] >= 1 for n in nodes[1:])
    # the only warnings: KaTrain's wideRootNoise setting, which Tengen does not play
    assert all("wideRootNoise" in w for w in report["warnings"])


def test_katrain_alternatives_region_and_pondering(report):
    assert set(report["alternatives"]) > set(report["first_candidates"])  # avoidMoves found new moves
    assert report["region_moves"] and all(m[0] in "ABCDE" and int(m[1:]) <= 5 for m in report["region_moves"])
    assert report["ponder_visits"] > 24  # a search without limit, stopped by KaTrain's terminate
