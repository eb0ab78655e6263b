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
    root = dict(zip(tails["rootInfo"][::2], tails["rootInfo"][1::2], strict=False))
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
        order0 = next(seg for seg in re.split(r" (?=info )", last) if " order 0 " in seg).split()[2]
        assert played == order0, (played, last)
        moves.append(played)
    win.close()
    th.join(20)
    assert len(eng.game.moves) == 3


def ask(eng: GtpEngine, request: str) -> str:
    """The text of a successful answer."""
    resp, ok, _ = eng.handle(request)
    assert ok, (request, resp)
    return resp[2:].rstrip("\n")


def test_version_is_one_lizzie_accepts():
    """Lizzie reads the first word of the answer as Leela Zero's 0.MINOR and refuses MINOR < 15."""
    eng = GtpEngine(visits=8, size=9, log=io.StringIO())
    resp, ok, _ = eng.handle("1 version")
    params = resp.strip().split(" ")  # as Lizzie's Leelaz.parseLine splits the answer
    assert ok and params[0] == "=1" and int(params[1].split(".")[1]) >= 15 and "Tengen" in resp


def test_rules_take_katago_names_and_json():
    import json

    eng = GtpEngine(visits=8, size=9, log=io.StringIO())
    ask(eng, "play b E5")
    assert json.loads(ask(eng, "kata-get-rules")) == {
        "friendlyPassOk": True, "hasButton": False, "ko": "SIMPLE", "scoring": "AREA", "suicide": False,
        "tax": "NONE", "whiteHandicapBonus": "N"}
    ask(eng, 'kata-set-rules {"ko": "SITUATIONAL", "scoring": "TERRITORY", "suicide": false, '
             '"whiteHandicapBonus": "0", "tax": "SEKI"}')  # spaces split it into several arguments
    r = eng.game.rules
    assert (r.ko, r.scoring, r.suicide, r.handicap_bonus) == ("situational", "territory", False, "0")
    ask(eng, "kata-set-rule ko POSITIONAL")
    ask(eng, "kata-set-rule suicide true")
    assert json.loads(ask(eng, "kata-get-rules"))["ko"] == "POSITIONAL" and eng.game.rules.suicide
    ask(eng, "kgs-rules chinese")  # KGS plays Chinese rules with positional superko
    assert eng.game.rules.name == "chinese-kgs" and eng.game.rules.ko == "positional"
    ask(eng, "kata-set-rules new-zealand")
    assert eng.game.rules.name == "nz" and eng.game.moves == [("B", "E5")]
    ask(eng, "kata-set-rules tromp-taylor")
    assert json.loads(ask(eng, "kata-get-rules"))["suicide"] is True
    ask(eng, "clear_board")
    assert eng.game.rules.name == "tromp-taylor"  # a custom or named rule set stays for the next game
    for bad in ("kata-set-rules {\"ko\": \"WEIRD\"}", "kata-set-rules nonsense", "kata-set-rule colour red",
                "kata-set-rules {not json"):
        resp, ok, _ = eng.handle(bad)
        assert not ok and "\n" not in resp.strip(), resp


def test_kata_raw_nn_in_katagos_layout(net):
    from selfplay.evaluators import NetworkEvaluator

    eng = GtpEngine(net, visits=8, size=9, log=io.StringIO())
    for v in ("b E5", "w C3", "b G7"):
        ask(eng, f"play {v}")
    text = ask(eng, "kata-raw-nn 0")
    lines = text.split("\n")
    assert lines[0] == "symmetry 0"
    fields = dict(l.split(" ", 1) for l in lines if " " in l and not re.match(r"[-\d. N]", l[0]))
    p_row = lines.index("policy")
    policy = [row.split() for row in lines[p_row + 1:p_row + 10]]
    own = np.array([row.split() for row in lines[lines.index("whiteOwnership") + 1:]], dtype=float)
    assert float(fields["whiteWin"]) + float(fields["whiteLoss"]) == pytest.approx(1, abs=2e-6)
    assert float(fields["noResult"]) == 0 and fields["whiteLead"] == fields["whiteScoreSelfplay"]
    # against the network itself: White to move, so the figures are the network's own
    s = eng._evaluated(NetworkEvaluator(net))
    root = s.root_info()
    assert float(fields["whiteWin"]) == pytest.approx(root["winrate"], abs=2e-6)
    assert float(fields["whiteLead"]) == pytest.approx(root["scoreLead"], abs=2e-3)
    np.testing.assert_allclose(own, np.flipud(s.root_ownership().mean), atol=2e-7)
    assert len(policy) == 9 and all(len(row) == 9 for row in policy)
    assert policy[2][6] == "NAN" and policy[4][4] == "NAN" and policy[6][2] == "NAN"  # G7, E5, C3: stones
    total = sum(float(x) for row in policy for x in row if x != "NAN") + float(fields["policyPass"])
    assert total == pytest.approx(1, abs=1e-4)
    every = ask(eng, "kata-raw-nn all")
    assert re.findall(r"symmetry (\d)", every) == [str(i) for i in range(8)]
    assert every.split("symmetry 1\n")[0].rstrip("\n") == text  # symmetry 0 first, as asked alone
    for bad in ("kata-raw-nn 8", "kata-raw-nn x"):
        assert not eng.handle(bad)[1]
    plain = GtpEngine(visits=8, size=9, log=io.StringIO())  # random playouts: symmetry 0 only
    assert ask(plain, "kata-raw-nn all").count("symmetry") == 1 and not plain.handle("kata-raw-nn 3")[1]


def test_search_parameters_and_cache():
    eng = GtpEngine(visits=8, size=9, log=io.StringIO())
    names = ask(eng, "kata-list-params").split()
    assert {"maxVisits", "maxTime", "cpuctExploration", "fpuReductionMax", "rootFpuReductionMax", "lcbStdevs",
            "minVisitPropForLCB"} <= set(names)
    assert float(ask(eng, "kata-get-param cpuctExploration")) == eng.search_cfg.c_puct
    assert float(ask(eng, "kata-get-param rootFpuReductionMax")) == eng.search_cfg.fpu_reduction  # same unless set
    ask(eng, "kata-set-param cpuctExploration 2.5")
    ask(eng, "kata-set-param rootFpuReductionMax 0")
    ask(eng, "kata-set-param maxVisits 24")
    assert eng.search_cfg.c_puct == 2.5 and eng.search_cfg.fpu_root_reduction == 0 and eng.visits == 24
    ask(eng, "kata-set-param dynamicScoreUtilityFactor 0.25")
    assert eng.search_cfg.score_utility == 0.25
    ask(eng, "kata-set-param nnPolicyTemperature 1.5")
    assert eng.search_cfg.policy_temperature == 1.5 and ask(eng, "kata-get-param nnPolicyTemperature") == "1.5"
    ask(eng, "genmove b")
    assert eng.search.root_visits >= 24 and eng.search.cfg.c_puct == 2.5
    ask(eng, "kata-set-param maxTime 0.5")
    assert eng.options.move_seconds == 0.5 and ask(eng, "kata-get-param maxTime") == "0.5"
    ask(eng, "kata-set-param maxTime 0")
    assert eng.options.move_seconds is None
    assert ask(eng, "tengen-param").split("\n")[0] == "maxVisits 24"  # GoGui's parameter dialog
    ask(eng, "tengen-param lcbStdevs 3")
    assert eng.search_cfg.lcb_z == 3
    for bad, err in (("kata-set-param maxVisits 0", "maxVisits must be a whole number from 1"),
                     ("kata-set-param maxVisits 2.5", "whole number"), ("kata-get-param nope", "unknown parameter"),
                     ("kata-set-param minVisitPropForLCB 2", "from 0 to 1"), ("kata-set-param lcbStdevs x", "expected a number")):
        resp, ok, _ = eng.handle(bad)
        assert not ok and err in resp, resp
    assert eng.search is not None
    ask(eng, "clear_cache")
    assert eng.search is None
    assert ask(eng, "stop") == ""


def test_clear_cache_empties_the_networks_cache(net):
    from selfplay.evaluators import NetworkEvaluator

    eng = GtpEngine(visits=8, size=9, log=io.StringIO())
    eng.evaluator = NetworkEvaluator(net, cache_size=100)
    ask(eng, "genmove b")
    assert len(eng.evaluator._cache) > 0
    ask(eng, "clear_cache")
    assert len(eng.evaluator._cache) == 0 and eng.search is None


def test_gogui_analyze_commands(net):
    eng = GtpEngine(net, visits=8, size=9, log=io.StringIO())
    ask(eng, "play b E5")
    listed = ask(eng, "gogui-analyze_commands").split("\n")
    assert "gogui-analyze_commands" in ask(eng, "list_commands").split("\n")  # the spelling GoGui looks for
    kinds = {}
    for line in listed:
        kind, label, command = line.split("/")
        assert label and ask(eng, f"known_command {command}") == "true"
        kinds[kind] = command
    assert {"gfx", "dboard", "param"} <= set(kinds)
    gfx = ask(eng, kinds["gfx"]).split("\n")
    colored, labels = set(), {}
    for line in gfx:
        word, *rest = line.split()
        assert word in ("COLOR", "LABEL", "TEXT")
        if word == "COLOR":
            assert re.fullmatch(r"#[0-9a-f]{6}", rest[0]) and all(re.fullmatch(r"[A-HJ]\d", v) for v in rest[1:])
            colored |= set(rest[1:])
        elif word == "LABEL":
            labels = dict(zip(rest[::2], rest[1::2], strict=False))
    policy = eng._evaluated(eng.evaluator).root_policy()
    assert "E5" not in colored and len(colored) == int((policy[:-1] >= 0.001).sum())
    best = int(np.argmax(policy[:-1]))
    assert labels[f"{'ABCDEFGHJ'[best % 9]}{best // 9 + 1}"] == str(round(100 * policy[best]))
    board = np.array([row.split() for row in ask(eng, kinds["dboard"]).split("\n")], dtype=float)
    assert board.shape == (9, 9) and np.abs(board).max() <= 1
    np.testing.assert_allclose(board, np.flipud(eng.final_ownership()), atol=1e-3)


class _AllBlack:
    """An evaluator sure that Black owns every point at the end (a stand-in network whose verdict no
    random playout would give)."""

    needs_history = False

    def __init__(self):
        self.calls = 0

    def __call__(self, leaves):
        from selfplay.search import Evaluation

        self.calls += 1
        n, size = len(leaves), leaves.size
        sign = np.array([1.0 if leaves.to_move(i) == 1 else -1.0 for i in range(n)], dtype=np.float32)
        zeros = np.zeros(n, dtype=np.float32)
        own = np.ones((n, size, size), dtype=np.float32) * sign[:, None, None]
        return Evaluation(np.full((n, size * size + 1), 1.0, dtype=np.float32), zeros, zeros, own)


def test_dead_stones_from_the_networks_ownership_through_a_search():
    """With ``dead_stones = "network"`` the count takes the chains the search's ownership gives the opponent
    (here an evaluator sure that Black owns the board, which no random playout would say); by default,
    and without a network, random playouts judge."""
    from go_engine import Game

    eng = GtpEngine(visits=8, dead_stones="network", log=io.StringIO())
    eng.evaluator = _AllBlack()
    eng.load(Game.from_diagram("""
        . . . . . . .
        . . . . . . .
        . . X . O . .
        . . . O . . .
        . . X . . . .
        . . . . . . .
        . . . . . . .""", komi=0.5))
    for req in ("play b pass", "play w pass"):  # the game is over: the search resumes a copy
        ask(eng, req)
    assert sorted(ask(eng, "final_status_list dead").split()) == ["D4", "E5"] and eng.evaluator.calls > 0
    assert sorted(ask(eng, "final_status_list alive").split()) == ["C3", "C5"]
    assert ask(eng, "final_score") == "B+48.5"  # White's two stones removed: 49 points for Black
    assert eng.game.is_over  # judging did not resume the game itself
    own = eng.final_ownership()
    assert (own > 0.5).all()  # the evaluator's answer through the search, turned to Black's view
    plain = GtpEngine(visits=8, log=io.StringIO())  # the default: random playouts
    plain.evaluator = _AllBlack()
    plain.load(eng.game.copy())
    assert ask(plain, "final_status_list dead") == "" and plain.evaluator.calls == 0
    with pytest.raises(ValueError, match="dead_stones must be one of playouts, network"):
        GtpEngine(dead_stones="oracle", log=io.StringIO())
