"""The GTP engine's analysis as GUIs read it: kata-analyze's per-move scores and search-weighted ownership,
rootInfo, pvVisits, order 0 against genmove, and KataGo's and GoGui's extension commands."""

import io
import os
import re
import threading

import numpy as np
import pytest

from gtp.engine import GtpEngine
from tests.test_gtp import _LineSink

torch = pytest.importorskip("torch")


def tiny_net():
    """A small untrained network: every head answers, with values that differ from position to position."""
    from policy.model import GoNet, NetConfig

    torch.manual_seed(0)
    return GoNet(NetConfig(blocks=2, channels=16, gpool_every=2)).eval()


@pytest.fixture(scope="module")
def net():
    return tiny_net()


KEYS = {"move", "visits", "utility", "winrate", "scoreMean", "scoreStdev", "scoreLead", "scoreSelfplay", "prior",
        "lcb", "utilityLcb", "order", "pv", "pvVisits", "pvEdgeVisits", "movesOwnership"}


def kata_fields(seg: str) -> dict:
    """The fields of one ``info`` segment: a word each, lists for pv, pvVisits, pvEdgeVisits, movesOwnership."""
    out: dict = {}
    key = None
    for word in seg.split()[1:]:
        if word in KEYS:
            key = word
            out[key] = []
        else:
            out[key].append(word)
    return {k: v if k in ("pv", "pvVisits", "pvEdgeVisits", "movesOwnership") else v[0] for k, v in out.items()}


def split_line(line: str) -> tuple[list[str], dict[str, list[str]]]:
    """An analysis line: its ``info`` segments, and the words after ``rootInfo``, ``ownership`` and
    ``ownershipStdev``."""
    tails = {}
    for key in ("ownershipStdev", "ownership", "rootInfo"):
        if f" {key} " in line:
            line, tail = line.split(f" {key} ", 1)
            tails[key] = tail.split()
    return re.split(r" (?=info )", line), tails


def answers(eng: GtpEngine, *requests: str) -> list[str]:
    """The answers to ``requests`` served as from stdin (an analysis runs one chunk, then sees the
    next request or the end of input), each without its closing blank line."""
    out = io.StringIO()
    eng.run(io.StringIO("".join(r + "\n" for r in requests)), out)
    return [r for r in out.getvalue().split("\n\n") if r]


def streamed(eng: GtpEngine, request: str) -> list[str]:
    """The lines of one streamed analysis."""
    body = answers(eng, request)[0].split("\n")
    assert body[0] == "="
    return body[1:]


def test_kata_analyze_scores_come_from_each_moves_subtree(net):
    eng = GtpEngine(net, visits=64, size=9, log=io.StringIO())
    s = eng.player.sync(eng.game)
    s.run(96, eng.evaluator, batch_size=8)
    lines = streamed(eng, "kata-analyze b 1 rootInfo true pvVisits true pvEdgeVisits true")
    infos, tails = split_line(lines[-1])
    want = {a["move"]: a for a in eng.search.analysis()}
    assert eng.search is s and eng.search.root_visits >= 96  # the player's tree, searched on
    leads = []
    for seg in infos:
        f = kata_fields(seg)
        a = want[f["move"]]
        assert int(f["visits"]) == a["visits"] and int(f["order"]) == a["order"]
        for key in ("scoreLead", "scoreMean", "scoreSelfplay", "scoreStdev", "winrate", "utility", "lcb", "prior"):
            assert float(f[key]) == pytest.approx(a[key], abs=1e-6), key
        assert f["pv"] == a["pv"] and [int(v) for v in f["pvVisits"]] == a["pvVisits"] == \
            [int(v) for v in f["pvEdgeVisits"]]
        assert int(f["pvVisits"][0]) == a["visits"] and a["pvVisits"] == sorted(a["pvVisits"], reverse=True)
        if a["visits"] >= 2:
            leads.append(a["scoreLead"])
    assert len(set(leads)) >= 2  # each move its own score, not one number for the position
    root = dict(zip(tails["rootInfo"][::2], tails["rootInfo"][1::2]))
    info = eng.search.root_info()
    assert int(root["visits"]) == eng.search.root_visits
    for key in ("winrate", "scoreLead", "scoreMean", "scoreSelfplay", "scoreStdev", "utility"):
        assert float(root[key]) == pytest.approx(info[key], abs=1e-6), key


def test_kata_analyze_ownership_is_the_searchs(net):
    eng = GtpEngine(net, visits=64, size=9, log=io.StringIO())
    eng.handle("play b E5")
    lines = streamed(eng, "kata-analyze w 1 ownership true ownershipStdev true movesOwnership true")
    _, tails = split_line(lines[-1])
    own = eng.search.root_ownership()
    assert own.visits == eng.search.root_visits  # every visit of the tree counted
    mean = np.array([float(x) for x in tails["ownership"]]).reshape(9, 9)
    stdev = np.array([float(x) for x in tails["ownershipStdev"]]).reshape(9, 9)
    np.testing.assert_allclose(mean, np.flipud(own.mean), atol=1e-6)  # row A9 first
    np.testing.assert_allclose(stdev, np.flipud(own.stdev), atol=1e-6)
    assert (stdev >= 0).all() and stdev.max() > 0
    # the network's values through the search: not the 1/32 grid of a few random playouts
    assert np.mean(np.abs(mean * 32 - np.round(mean * 32)) > 1e-3) > 0.5
    infos, _ = split_line(lines[-1])
    per_move = kata_fields(infos[0])["movesOwnership"]
    assert len(per_move) == 81 and all(-1 <= float(x) <= 1 for x in per_move)


def test_kata_analyze_without_a_network_takes_the_playouts_ownership():
    eng = GtpEngine(visits=16, size=7, log=io.StringIO())
    lines = streamed(eng, "kata-analyze b 1 ownership true")
    _, tails = split_line(lines[-1])
    own = eng.search.root_ownership()
    assert own is not None and len(tails["ownership"]) == 49
    np.testing.assert_allclose(np.array(tails["ownership"], dtype=float).reshape(7, 7), np.flipud(own.mean), atol=1e-6)


def test_analysis_options_are_checked():
    eng = GtpEngine(visits=8, size=7, log=io.StringIO())
    for req, err in (("lz-analyze 1 ownership true", "ownership is an option of kata-analyze"),
                     ("kata-analyze 1 rootInfo maybe", "rootinfo: expected true or false, got 'maybe'"),
                     ("kata-analyze 1 ownership", "unknown analyze argument 'ownership'")):
        resp, ok, _ = eng.handle(req)
        assert not ok and err in resp, resp


@pytest.mark.parametrize("command", ["kata-analyze", "lz-analyze"])
def test_order_0_is_the_move_genmove_plays(command):
    """A GUI highlights order 0 as the engine's move: after an analysis of at least the engine's visits,
    genmove plays it from the same tree (the LCB choice, not merely the most visited move)."""
    r_fd, w_fd = os.pipe()
    rin, win = os.fdopen(r_fd, "r"), os.fdopen(w_fd, "w")
    out = _LineSink()
    eng = GtpEngine(visits=96, size=9, seed=3, log=io.StringIO())
    th = threading.Thread(target=eng.run, args=(rin, out), daemon=True)
    th.start()
    moves = []
    for color, cid in (("b", 1), ("w", 3), ("b", 5)):
        win.write(f"{cid} {command} {color} 5\n")
        win.flush()

        def enough(text: str, cid=cid) -> bool:
            tail = text.split(f"={cid}\n", 1)[-1] if f"={cid}\n" in text else ""
            lines = [l for l in tail.split("\n") if l.startswith("info")]
            return bool(lines) and sum(int(v) for v in re.findall(r" visits (\d+)", lines[-1])) >= 120

        assert out.wait_for(enough, 60)
        win.write(f"{cid + 1} genmove {color}\n")
        win.flush()
        assert out.wait_for(lambda t, cid=cid: f"={cid + 1} " in t, 60)
        text = out.text()
        last = [l for l in text.split(f"={cid}\n", 1)[1].split("\n\n", 1)[0].split("\n") if l][-1]
        played = re.search(rf"={cid + 1} (\S+)", text).group(1)
        order0 = [seg for seg in re.split(r" (?=info )", last) if " order 0 " in seg][0].split()[2]
        assert played == order0, (played, last)
        moves.append(played)
    win.close()
    th.join(20)
    assert len(eng.game.moves) == 3
