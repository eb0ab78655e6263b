"""tengen analysis: KataGo's JSON analysis protocol (gtp/analysis_engine.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from go_engine.game import Game
from gtp.analysis_engine import AnalysisEngine
from selfplay.evaluators import PlayoutEvaluator, UniformEvaluator
from selfplay.search import Evaluation
from tests.test_search import SteepPolicyEvaluator

ROOT = Path(__file__).parent.parent
# The example query of KataGo's analysis engine documentation
DOC_QUERY = {"id": "foo", "initialStones": [["B", "Q4"], ["B", "C4"]], "moves": [["W", "P5"], ["B", "P6"]],
             "rules": "tromp-taylor", "komi": 7.5, "boardXSize": 19, "boardYSize": 19, "analyzeTurns": [0, 1, 2]}
MOVE_INFO = {"move", "visits", "winrate", "scoreMean", "scoreLead", "scoreSelfplay", "scoreStdev", "prior", "lcb",
             "utility", "utilityLcb", "order", "pv"}
ROOT_INFO = {"visits", "winrate", "scoreLead", "scoreMean", "scoreSelfplay", "scoreStdev", "utility", "lcb",
             "currentPlayer"}


def engine(evaluator=None, **kw) -> tuple[AnalysisEngine, list[dict]]:
    out: list[dict] = []
    kw.setdefault("max_visits", 16)
    eng = AnalysisEngine(evaluator or UniformEvaluator(), emit=out.append, log=io.StringIO(), **kw)
    return eng, out


def ask(eng: AnalysisEngine, *queries) -> None:
    for q in queries:
        eng.submit(q if isinstance(q, str) else json.dumps(q))
    while eng.step():
        pass


def query(**kw) -> dict:
    q = {"id": "q", "moves": [["B", "E5"], ["W", "C3"]], "rules": "chinese", "komi": 7.5, "boardXSize": 9,
         "boardYSize": 9}
    q.update(kw)
    return q


def test_documentation_example_gives_one_final_response_per_turn():
    eng, out = engine(max_visits=24)
    ask(eng, DOC_QUERY)
    assert sorted(r["turnNumber"] for r in out) == [0, 1, 2]
    for r in out:
        assert r["id"] == "foo" and r["isDuringSearch"] is False
        assert set(r["rootInfo"]) == ROOT_INFO and r["rootInfo"]["visits"] == 24
        infos = r["moveInfos"]
        assert infos and all(set(m) == MOVE_INFO for m in infos)
        assert [m["order"] for m in infos] == list(range(len(infos)))
        assert sum(m["visits"] for m in infos) == 23  # the root's own evaluation is the 24th visit
        assert all(m["pv"][0] == m["move"] and 0 <= m["winrate"] <= 1 for m in infos)
    # two handicap stones and no move yet: White to play; then Black, then White
    assert {r["turnNumber"]: r["rootInfo"]["currentPlayer"] for r in out} == {0: "W", 1: "B", 2: "W"}


class Recording(UniformEvaluator):
    """Uniform answers; notes how many leaves each call had."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def __call__(self, leaves):
        self.calls.append(len(leaves))
        return super().__call__(leaves)


def test_positions_of_many_queries_share_network_calls():
    ev = Recording()
    eng, out = engine(ev, positions=8, leaves=2, max_visits=20)
    ask(eng, query(id="a", analyzeTurns=[0, 1, 2]), query(id="b", analyzeTurns=[0, 1]), query(id="c", komi=0.5))
    assert len(out) == 6 and all(r["rootInfo"]["visits"] == 20 for r in out)
    assert max(ev.calls) > 2 * 2  # leaves of several positions (of several queries) in one call
    assert sum(ev.calls) == 6 * 20  # uniform evaluator: no terminal visits this early


def test_bad_lines_get_errors_and_the_engine_reads_on():
    eng, out = engine()
    ask(eng, "not json", "[1, 2]", {"moves": []}, query(boardXSize=30), query(boardXSize=9, boardYSize=13),
        query(komi=7.3), query(rules="nonsense"), query(moves=[["B", "Z99"]]), query(moves=[["X", "E5"]]),
        query(analyzeTurns=[5]), query(moves=[["B", "E5"], ["W", "E5"]]), query(maxVisits=0),
        query(includeOwnership="yes"), query(avoidMoves=[{"player": "B"}]), query(id="ok"))
    errors = [r for r in out if "error" in r]
    assert [r.get("field") for r in errors] == [None, None, None, "boardXSize", "boardYSize", "komi", "rules",
                                                "moves", "moves", "analyzeTurns", "moves", "maxVisits",
                                                "includeOwnership", "avoidMoves"]
    assert errors[10]["error"] == "Illegal move 1: E5"  # as KataGo words it (KaTrain looks for it)
    assert [r["id"] for r in out if "moveInfos" in r] == ["ok"]


def test_unknown_fields_and_settings_warn_and_the_query_goes_on():
    eng, out = engine()
    ask(eng, query(colour="blue", overrideSettings={"wideRootNoise": 0.04, "maxVisits": 8}))
    warnings = [r for r in out if "warning" in r]
    assert [(w["id"], w["field"]) for w in warnings] == [("q", "overrideSettings"), ("q", "colour")]
    assert out[-1]["rootInfo"]["visits"] == 8
    ask(eng, query(id="su", overrideSettings={"dynamicScoreUtilityFactor": 0.3, "dynamicScoreCenterScale": 0.5,
                                               "maxVisits": 8}))
    assert not [r for r in out if r.get("id") == "su" and "warning" in r] and out[-1]["rootInfo"]["visits"] == 8
    ask(eng, query(id="bad", overrideSettings={"dynamicScoreUtilityFactor": -1}))
    assert out[-1] == {**out[-1], "id": "bad", "field": "overrideSettings.dynamicScoreUtilityFactor"}
    ask(eng, query(id="cold", overrideSettings={"nnPolicyTemperature": 0}))
    assert out[-1] == {**out[-1], "id": "cold", "field": "overrideSettings.nnPolicyTemperature"}


def test_policy_temperature_setting_reaches_the_reported_policy():
    """``nnPolicyTemperature`` tempers the priors the search uses, and so the policy it reports."""
    policies = {}
    for t in (1.0, 2.0):
        eng, out = engine(SteepPolicyEvaluator())
        ask(eng, query(id=str(t), includePolicy=True, overrideSettings={"nnPolicyTemperature": t}))
        assert not [r for r in out if "warning" in r or "error" in r]
        policies[t] = np.array(out[-1]["policy"])
    assert np.array_equal(policies[1.0] >= 0, policies[2.0] >= 0)
    assert policies[2.0].max() < 0.6 * policies[1.0].max()
    top = policies[1.0] > 1e-3  # the report keeps 6 decimals, so the long tail is only rounding
    ratio = policies[2.0][top] / policies[2.0][top].max()
    np.testing.assert_allclose(ratio, np.sqrt(policies[1.0][top] / policies[1.0][top].max()), rtol=1e-3)


def test_actions():
    eng, out = engine()
    ask(eng, {"id": "v", "action": "query_version"}, {"id": "c", "action": "clear_cache"},
        {"id": "x", "action": "fly"})
    assert out[0]["id"] == "v" and out[0]["action"] == "query_version" and "version" in out[0]
    assert out[1] == {"id": "c", "action": "clear_cache"}
    assert out[2]["field"] == "action" and "error" in out[2]
    # terminate: turns not started yet end with noResults; the query's other turns go on
    out.clear()
    eng, out = engine(positions=1)
    eng.submit(json.dumps(query(id="long", analyzeTurns=[0, 1, 2], maxVisits=40)))
    eng.step()
    eng.submit(json.dumps({"id": "t", "action": "terminate", "terminateId": "long", "turnNumbers": [1, 2]}))
    while eng.step():
        pass
    assert out[0]["id"] == "t" and out[0]["terminateId"] == "long"
    done = {r["turnNumber"]: r for r in out[1:]}
    assert done[1]["noResults"] and done[2]["noResults"] and done[0]["rootInfo"]["visits"] == 40
    # terminate_all stops searches in flight: they report what they have
    eng, out = engine(positions=4)
    eng.submit(json.dumps(query(id="a", maxVisits=10 ** 6)))
    eng.submit(json.dumps(query(id="b", maxVisits=10 ** 6, analyzeTurns=[0])))
    for _ in range(3):
        eng.step()
    eng.submit(json.dumps({"id": "all", "action": "terminate_all"}))
    while eng.step():
        pass
    assert out[0] == {"id": "all", "action": "terminate_all"}
    assert {r["id"] for r in out[1:]} == {"a", "b"} and all(0 < r["rootInfo"]["visits"] < 100 for r in out[1:])


def test_report_as_black_turns_every_figure():
    evaluator = PlayoutEvaluator(playouts=2, seed=3)
    base = query(maxVisits=12, includeOwnership=True, includeOwnershipStdev=True, includePolicy=True)
    ref, out = engine(PlayoutEvaluator(playouts=2, seed=3))
    ask(ref, base)
    eng, out_b = engine(evaluator)
    ask(eng, {**base, "overrideSettings": {"reportAnalysisWinratesAs": "BLACK"}})
    side, black = out[0], out_b[0]
    assert side["rootInfo"]["currentPlayer"] == "B" and black["rootInfo"] == side["rootInfo"]  # Black to move
    ask(ref, {**base, "moves": base["moves"][:1]})
    ask(eng, {**base, "moves": base["moves"][:1], "overrideSettings": {"reportAnalysisWinratesAs": "BLACK"}})
    side, black = out[1], out_b[1]  # White to move: Black's view is the other side's
    assert side["rootInfo"]["winrate"] == pytest.approx(1 - black["rootInfo"]["winrate"])
    assert side["rootInfo"]["scoreLead"] == pytest.approx(-black["rootInfo"]["scoreLead"])
    assert side["moveInfos"][0]["move"] == black["moveInfos"][0]["move"]
    assert side["moveInfos"][0]["utility"] == pytest.approx(-black["moveInfos"][0]["utility"])
    assert np.allclose(side["ownership"], -np.array(black["ownership"]))
    assert side["ownershipStdev"] == black["ownershipStdev"] and side["policy"] == black["policy"]


class A9IsBlacks(UniformEvaluator):
    """Uniform priors; ownership: A9 is Black's in every position, the rest no one's."""

    def __call__(self, leaves):
        ev = super().__call__(leaves)
        own = np.zeros((len(leaves), leaves.size, leaves.size), dtype=np.float32)
        for i in range(len(leaves)):
            own[i, leaves.size - 1, 0] = 1.0 if leaves.to_move(i) == 1 else -1.0
        return Evaluation(ev.priors, ev.values, ev.scores, own)


def test_ownership_policy_and_pv_visits_in_katago_layout():
    # A9 (top left) comes first in KataGo's row-major order from the top
    eng, out = engine(A9IsBlacks())
    ask(eng, query(moves=[["B", "A9"]], maxVisits=12, includeOwnership=True, includePolicy=True,
                   includePVVisits=True, includeMovesOwnership=True, overrideSettings={"reportAnalysisWinratesAs": "BLACK"}))
    r = out[0]
    assert r["ownership"] == [1.0] + [0.0] * 80  # Black's point, Black's view
    assert len(r["policy"]) == 82 and r["policy"][0] == -1  # A9 is occupied: illegal
    assert abs(sum(p for p in r["policy"] if p >= 0) - 1) < 1e-4
    for m in r["moveInfos"]:
        assert len(m["pvVisits"]) == len(m["pv"]) and m["pvVisits"][0] == m["visits"]
        assert m["ownership"] == r["ownership"]
    assert "ownershipStdev" not in r


def test_avoid_and_allow_moves_bind_the_root_move():
    eng, out = engine(max_visits=60)
    avoid = ["D4", "E5", "F6"]
    ask(eng, query(moves=[], avoidMoves=[{"player": "B", "moves": avoid, "untilDepth": 1},
                                         {"player": "W", "moves": ["A1"], "untilDepth": 1}]))
    assert not {m["move"] for m in out[0]["moveInfos"]} & set(avoid)
    ask(eng, query(id="allow", moves=[], allowMoves=[{"player": "B", "moves": ["C3", "(2,2)"], "untilDepth": 3}]))
    warn, res = out[1], out[2]
    assert warn["field"] == "allowMoves" and "untilDepth" in warn["warning"]
    assert {m["move"] for m in res["moveInfos"]} == {"C3", "C7"}  # (2,2): column C, third row from the top


def test_priority_and_initial_player():
    eng, out = engine(positions=1)
    ask(eng, query(id="low", priority=-5), query(id="mid"), query(id="high", priority=5))
    assert [r["id"] for r in out] == ["high", "mid", "low"]
    eng.submit(json.dumps(query(id="early", priority=-5)))
    eng.step()  # in flight: a later query of higher priority waits for it
    ask(eng, query(id="late", priority=5))
    assert [r["id"] for r in out[3:]] == ["early", "late"]
    ask(eng, query(id="w", moves=[], initialStones=[["W", "E5"]], initialPlayer="W"))
    assert out[-1]["rootInfo"]["currentPlayer"] == "W"


def test_reports_during_search():
    eng, out = engine(max_visits=4000)
    ask(eng, query(reportDuringSearchEvery=0.001))
    assert out[-1]["isDuringSearch"] is False and out[-1]["rootInfo"]["visits"] == 4000
    during = [r for r in out if r["isDuringSearch"]]
    assert during and all(r["rootInfo"]["visits"] < 4000 for r in during)


def test_two_passes_in_the_moves_resume_play():
    eng, out = engine()
    ask(eng, query(moves=[["B", "E5"], ["W", "pass"], ["B", "pass"], ["W", "C3"]], analyzeTurns=[3, 4]))
    assert [r["turnNumber"] for r in out] == [3, 4] and all(r["moveInfos"] for r in out)


def test_stdin_stdout_finishes_queued_work_at_the_end_of_input():
    lines = "\n".join(json.dumps(q) for q in (query(analyzeTurns=[0, 1, 2]), {"id": "v", "action": "query_version"}))
    cmd = [sys.executable, "-m", "tengen_cli", "analysis", "--model", "none", "--visits", "8", "--playouts", "1"]
    p = subprocess.run(cmd, input=lines + "\nnot json\n", capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    out = [json.loads(line) for line in p.stdout.splitlines()]
    assert out[0]["id"] == "v" and "error" in out[1]
    assert sorted(r["turnNumber"] for r in out[2:]) == [0, 1, 2]
    assert "Traceback" not in p.stderr


def test_turn_positions_match_the_game():
    eng, out = engine(max_visits=2)
    moves = [["B", "E5"], ["W", "E4"], ["B", "D4"], ["W", "pass"]]
    ask(eng, query(moves=moves, analyzeTurns=[0, 1, 2, 3, 4]))
    g = Game(9)
    players = {0: "B"}
    for i, (c, v) in enumerate(moves):
        g.play(v, c)
        players[i + 1] = g.to_play
    assert {r["turnNumber"]: r["rootInfo"]["currentPlayer"] for r in out} == players


def test_katrain_queries_replayed():
    """The lines KaTrain 1.20 sends (katrain/core/engine.py: request_analysis, terminate_query), replayed
    without KaTrain: every field it reads comes back, in Black's view as it asks."""
    katrain = {"rules": "japanese", "priority": -100, "analyzeTurns": [3], "maxVisits": 16, "komi": 6.5,
               "boardXSize": 9, "boardYSize": 9, "includeOwnership": True, "includeMovesOwnership": True,
               "includePolicy": True, "initialStones": [], "initialPlayer": "B",
               "moves": [["B", "E5"], ["W", "C3"], ["B", "G7"]],
               "overrideSettings": {"reportAnalysisWinratesAs": "BLACK", "wideRootNoise": 0.04, "maxTime": 8.0},
               "id": "QUERY:1"}
    alternatives = {**katrain, "id": "QUERY:2", "priority": 100,
                    "avoidMoves": [{"moves": ["D7", "C7"], "player": "W", "untilDepth": 1}]}
    ponder = {**katrain, "id": "QUERY:3", "maxVisits": 10_000_000, "reportDuringSearchEvery": 0.01}
    eng, out = engine(PlayoutEvaluator(playouts=1, seed=2))
    ask(eng, katrain, alternatives)
    eng.submit(json.dumps(ponder))
    for steps in range(5000):  # search until the time-based report comes (and at least 30 rounds)
        eng.step()
        if steps >= 30 and any(r.get("isDuringSearch") and r.get("id") == "QUERY:3" for r in out):
            break
    eng.submit(json.dumps({"action": "terminate", "terminateId": "QUERY:3", "id": "QUERY:4"}))
    while eng.step():
        pass
    assert not [r for r in out if "error" in r]
    assert {r["field"] for r in out if "warning" in r} == {"overrideSettings"}  # wideRootNoise
    final = {r["id"]: r for r in out if "rootInfo" in r and not r["isDuringSearch"]}
    assert set(final) == {"QUERY:1", "QUERY:2", "QUERY:3"}
    for r in final.values():
        assert r["turnNumber"] == 3 and r["rootInfo"]["currentPlayer"] == "W"
        assert len(r["ownership"]) == 81 and len(r["policy"]) == 82
        for m in r["moveInfos"]:
            assert {"move", "order", "visits", "winrate", "scoreLead", "prior", "pv"} <= set(m)
            assert len(m["ownership"]) == 81
    assert not {"D7", "C7"} & {m["move"] for m in final["QUERY:2"]["moveInfos"]}
    assert final["QUERY:3"]["rootInfo"]["visits"] > 16 and any(r.get("isDuringSearch") for r in out)
    assert any(r.get("action") == "terminate" and r["id"] == "QUERY:4" for r in out)


def test_consecutive_turns_go_on_from_the_tree_before():
    """A review's turns run as chains: each turn's search starts from the subtree of the move played in
    the turn before (as ``tengen gtp`` keeps it), so fewer leaves reach the network than turns x visits,
    and every turn still gets at least its visits, on its own position."""
    moves = [["B", "E5"], ["W", "C3"], ["B", "G7"], ["W", "C7"], ["B", "G3"], ["W", "E3"], ["B", "E7"]]
    turns = list(range(len(moves) + 1))
    ev = Recording()
    eng, out = engine(ev, positions=2, leaves=4)
    ask(eng, query(moves=moves, analyzeTurns=turns, maxVisits=200))  # every root move gets visits
    assert sorted(r["turnNumber"] for r in out) == turns
    assert sum(ev.calls) < len(turns) * 200  # the kept subtrees' visits were not searched again
    g = Game(9)
    for r in sorted(out, key=lambda r: r["turnNumber"]):
        assert r["rootInfo"]["visits"] >= 200 and r["rootInfo"]["currentPlayer"] == g.to_play
        assert all(g.is_legal(m["move"]) for m in r["moveInfos"])
        if r["turnNumber"] < len(moves):
            g.play(moves[r["turnNumber"]][1], moves[r["turnNumber"]][0])


def test_a_chain_starts_afresh_where_the_tree_before_does_not_lead():
    """Two moves of one colour in a row (KataGo takes them) or restricted root moves: no tree is reused."""
    moves = [["B", "E5"], ["B", "C3"], ["W", "G7"]]
    eng, out = engine(positions=1, max_visits=30)
    ask(eng, query(moves=moves, analyzeTurns=[0, 1, 2, 3]))
    assert {r["turnNumber"]: r["rootInfo"]["currentPlayer"] for r in out} == {0: "B", 1: "W", 2: "W", 3: "B"}
    assert all(r["rootInfo"]["visits"] == 30 for r in out if r["turnNumber"] in (1, 2))
    eng, out = engine(positions=1, max_visits=30)  # Black fills its own eye: suicide for White, the tree's player
    ask(eng, query(initialStones=[["B", "D5"], ["B", "F5"], ["B", "E4"], ["B", "E6"]],
                   moves=[["B", "A1"], ["B", "E5"]], analyzeTurns=[0, 1, 2]))
    assert {r["turnNumber"]: r["rootInfo"]["currentPlayer"] for r in out} == {0: "B", 1: "W", 2: "W"}
    ev = Recording()
    eng, out = engine(ev, positions=1, max_visits=200)
    avoid = [{"player": "W", "moves": ["C3"], "untilDepth": 1}]
    ask(eng, query(moves=[["B", "E5"], ["W", "D4"]], analyzeTurns=[0, 1, 2], avoidMoves=avoid))
    assert sum(ev.calls) == 3 * 200 and all(r["rootInfo"]["visits"] == 200 for r in out)
