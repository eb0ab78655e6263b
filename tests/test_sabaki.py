"""tengen gtp driven by Sabaki's own GTP client library (@sabaki/gtp, Node.js).

``tests/sabaki/drive.js`` plays a full 9x9 game the way Sabaki does (state
tracker with pipelined commands, free handicap, time settings, undo through a
sync, analysis stopped by the next command); this test checks its transcript.
``.ci/run`` installs Node.js and the library; elsewhere the test is skipped
unless ``TENGEN_REQUIRE_NODE`` is set.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from go_engine import Game
from selfplay.search import SearchConfig

HERE = Path(__file__).parent / "sabaki"
ROOT = Path(__file__).parent.parent
VERTEX = r"(?:[A-HJ-T](?:[1-9]|1[0-9])|pass)"
LZ_INFO = re.compile(rf"info move ({VERTEX}) visits (\d+) winrate (\d+) prior (\d+) lcb (-?\d+) order (\d+) "
                     rf"pv ((?:{VERTEX} ?)+?)(?= info |$)")
KATA_NUMBER = r"-?\d+(?:\.\d+)?"
KATA_INFO = re.compile(rf"info move ({VERTEX}) ((?:[a-zA-Z]+ {KATA_NUMBER} )+)"
                       rf"pv ((?:{VERTEX} ?)+?)(?= info | ownership |$)")
KATA_FIELDS = ("visits", "utility", "winrate", "scoreMean", "scoreLead", "prior", "lcb", "order")


def kata_infos(line: str) -> list[dict]:
    """The candidates of one kata-analyze line as dicts of KataGo's field names (move, pv and numbers)."""
    out = []
    for move, fields, pv in KATA_INFO.findall(line):
        words = fields.split()
        info = {k: float(v) for k, v in zip(words[::2], words[1::2], strict=True)}
        out.append({"move": move, "pv": pv.split(), **info})
    return out


def assert_analysis_order(visits: list[float], lcbs: list[float]) -> None:
    """Candidates in genmove's order: those with enough visits for the LCB check first, by LCB, then the
    rest by visits (the ranking of selfplay.search, as in Leela Zero and KataGo)."""
    cfg = SearchConfig()
    well = [v >= max(cfg.lcb_min_visits, cfg.lcb_min_fraction * max(visits)) and v >= 2 for v in visits]
    k = well.index(False) if False in well else len(well)
    assert all(well[:k]) and not any(well[k:]), (visits, well)
    assert lcbs[:k] == sorted(lcbs[:k], reverse=True), lcbs
    assert visits[k:] == sorted(visits[k:], reverse=True), visits


@pytest.fixture(scope="module")
def transcript():
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@sabaki" / "gtp").exists():
        if os.environ.get("TENGEN_REQUIRE_NODE"):
            pytest.fail("Node.js or @sabaki/gtp missing: run `npm ci --prefix tests/sabaki`")
        pytest.skip("Node.js and @sabaki/gtp are not installed (npm ci --prefix tests/sabaki)")
    cmd = [node, str(HERE / "drive.js"), sys.executable, "-m", "tengen_cli", "gtp", "--size", "9",
           "--visits", "8", "--seed", "3"]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    log = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0 and "fatal" not in log, log.get("fatal")
    return log


def board_of(showboard: str, size: int) -> np.ndarray:
    rows = [ln.split() for ln in showboard.splitlines() if re.match(r"\s*\d+ ", ln)]
    out = np.zeros((size, size), np.int8)
    for row in rows:
        r = int(row[0]) - 1
        for c, ch in enumerate(row[1:1 + size]):
            out[r, c] = {"X": 1, "O": -1}.get(ch, 0)
    return out


def replay(tracked: list[str]) -> Game:
    g = Game(9, 0.5, "chinese")
    for cmd in tracked:
        name, *args = cmd.split()
        if name == "set_free_handicap":
            g.setup(black=args, to_play="W")  # free handicap: White moves next, komi bonus per stone
            g.handicap = len(args)
        else:
            g.play(args[1], args[0])
    return g


def test_protocol_answers(transcript):
    a = transcript["answers"]
    assert transcript["errors"] == []
    assert a["protocol_version"] == "2" and a["name"] == "Tengen"
    for cmd in ("genmove", "undo", "set_free_handicap", "time_settings", "time_left", "lz-analyze",
                "kata-analyze", "lz-genmove_analyze", "final_score", "final_status_list"):
        assert cmd in a["list_commands"]
    assert "Z99" in a["bad"]


def test_game_state_matches_sabakis_tracker(transcript):
    tracked = transcript["tracked"]
    assert tracked[0] == "set_free_handicap C3 G7"
    # the engine's own board equals a replay of what Sabaki believes was played
    g = replay(tracked)
    assert np.array_equal(board_of(transcript["answers"]["showboard"], 9), g.board)
    # the undo through a sync took back exactly the two moves
    before = replay(tracked[:7])
    assert np.array_equal(board_of(transcript["answers"]["after_undo"], 9), before.board)
    assert len(transcript["undone"]) == 2
    # the game ended: two passes, a resignation, or the 120-move cap of the driver
    last = transcript["moves"][-1].split()[1]
    assert last in ("PASS", "RESIGN") or len(tracked) >= 121
    # no genmove took longer than the 20 s left on the clock
    assert max(transcript["genmoveSeconds"]) < 20


def test_final_score_agrees_with_dead_stones(transcript):
    a = transcript["answers"]
    g = replay(transcript["tracked"])
    dead = a["dead"].split()
    for v in dead:
        assert g.board[int(v[1:]) - 1, "ABCDEFGHJ".index(v[0])] != 0
    score = g.final_score(dead)
    expected = "0" if score == 0 else f"{'B' if score > 0 else 'W'}+{abs(score):g}"
    assert a["final_score"] == expected


def test_lz_analyze_lines_parse(transcript):
    lz = transcript["analysis"]["lz"]
    assert not lz["error"] and lz["next"] == "2"  # stopped by the next command, which was answered
    assert 1 <= len(lz["lines"])
    for line in lz["lines"]:
        infos = LZ_INFO.findall(line)
        assert infos and len(infos) == line.count("info move")
        assert [int(i[5]) for i in infos] == list(range(len(infos)))
        visits = [int(i[1]) for i in infos]
        assert min(visits) >= 1
        assert_analysis_order(visits, [int(i[4]) for i in infos])
        for move, _, wr, prior, lcb, _, pv in infos:
            assert 0 <= int(wr) <= 10000 and 0 <= int(prior) <= 10000 and -20000 <= int(lcb) <= 10000
            assert pv.split()[0] == move


def test_kata_analyze_lines_parse(transcript):
    kata = transcript["analysis"]["kata"]
    assert not kata["error"] and kata["next"] == "2" and kata["lines"]
    for line in kata["lines"]:
        infos = kata_infos(line)
        assert infos and len(infos) == line.count("info move")
        assert [i["order"] for i in infos] == list(range(len(infos)))
        assert_analysis_order([i["visits"] for i in infos], [i["lcb"] for i in infos])
        for inf in infos:
            assert all(k in inf for k in KATA_FIELDS), inf
            assert 0.0 <= inf["winrate"] <= 1.0 and 0.0 <= inf["prior"] <= 1.0
            assert inf["scoreMean"] == inf["scoreLead"] and inf["pv"][0] == inf["move"]
        own = line.split(" ownership ")[1].split()
        assert len(own) == 81 and all(-1.0 <= float(x) <= 1.0 for x in own)


def test_genmove_analyze_ends_with_play(transcript):
    gm = transcript["analysis"]["genmove"]
    assert any(LZ_INFO.search(line) for line in gm["lines"])
    assert re.search(rf"^play ({VERTEX}|resign)$", gm["content"], re.M | re.I)
