"""Tests of the PUCT search (selfplay/search.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from go_engine import kernels as K
from go_engine.coords import PASS, index_names, move_index
from go_engine.features import game_features
from go_engine.game import Game
from go_engine.sgf import read_sgf_file
from selfplay.evaluators import PlayoutEvaluator, UniformEvaluator, leaf_features
from selfplay.search import (
    Evaluation,
    LeafBatch,
    Search,
    SearchConfig,
    run_many,
    search_round,
)
from selfplay.tree import EXPANDED, ILLEGAL, TERMINAL, UNEXPANDED

FIXTURES = Path(__file__).parent / "fixtures" / "sgf"


class ScoreEvaluator:
    """Uniform priors; score = area score - komi for the player to move, value = tanh(score / 4): the
    'true' outcome of simple tactical positions."""

    needs_history = False

    def __call__(self, leaves: LeafBatch) -> Evaluation:
        a = leaves.size ** 2 + 1
        scores = np.zeros(len(leaves), dtype=np.float32)
        for i in range(len(leaves)):
            s = K.k_area_score(leaves.S[i], leaves.meta[i]) - leaves.komi
            scores[i] = -s if leaves.to_move(i) == K.WHITE else s
        return Evaluation(np.full((len(leaves), a), 1.0 / a, dtype=np.float32), np.tanh(scores / 4.0), scores)


def _root_children(s: Search):
    t = s.tree
    return list(t.children(t.root))


def test_visit_counts_sum():
    s = Search(Game(9, komi=7.0), seed=1)
    done = s.run(300, UniformEvaluator(), batch_size=16)
    t = s.tree
    assert done == 300
    assert s.root_visits == 300
    ch = _root_children(s)
    assert len(ch) == 82
    assert t.N[t.root] == 1 + t.N[ch].sum()
    assert np.all(t.VL[: t.count] == 0)
    assert abs(t.prior[ch].sum() - 1) < 1e-5
    # every expanded node: own evaluation + children's visits (no terminal nodes this shallow)
    for nd in range(t.count):
        if t.state[nd] == EXPANDED:
            assert t.N[nd] == 1 + t.N[list(t.children(nd))].sum()


def test_more_runs_accumulate():
    s = Search(Game(7), seed=0)
    s.run(50, UniformEvaluator(), 8)
    s.run(70, UniformEvaluator(), 32)
    assert s.root_visits == 120


def test_tree_reuse_keeps_subtree():
    s = Search(Game(9, komi=7.0), seed=2)
    ev = ScoreEvaluator()
    s.run(400, ev, batch_size=8)
    t = s.tree
    ch = _root_children(s)
    best = max(ch, key=lambda j: t.N[j])
    nvis = int(t.N[best])
    move = int(t.move[best])
    gchildren = sorted((int(t.move[j]), int(t.N[j])) for j in t.children(best))
    assert nvis > 1
    assert s.advance(move)
    t = s.tree
    assert t.root == 0
    assert s.root_visits == nvis
    assert sorted((int(t.move[j]), int(t.N[j])) for j in t.children(0)) == gchildren
    assert s.game.moves[-1][0] == "B"
    s.run(100, ev, 8)
    assert s.root_visits == nvis + 100
    # a move the tree never visited: a fresh tree
    s2 = Search(Game(9), seed=0)
    s2.run(3, UniformEvaluator(), 1)
    unvisited = [int(s2.tree.move[j]) for j in _root_children(s2) if s2.tree.N[j] == 0][0]
    assert not s2.advance(unvisited)
    assert s2.root_visits == 0 and s2.tree.count == 1


CAPTURE = """
. X O . .
X O O X .
. X O X .
. . X . .
. . . . .
"""


SAVE = """
. X O X O
X O O X O
. X O . .
. . X . .
. . . . .
"""


@pytest.mark.parametrize("diagram,to_play,best,winrate", [
    (CAPTURE, "B", "D5", 0.9),
    # White's four stones and Black's two (D5, D4) both have D3 as their last liberty:
    # White to move saves the group by capturing there
    (SAVE, "W", "D3", 0.6),
])
def test_finds_the_tactical_move(diagram, to_play, best, winrate):
    g = Game.from_diagram(diagram, to_play=to_play, komi=0.5)
    s = Search(g, seed=0)
    s.run(200, ScoreEvaluator(), batch_size=8)
    assert s.choose_vertex() == best
    assert s.analysis()[0]["move"] == best
    assert s.analysis()[0]["winrate"] > winrate


def test_lcb_prefers_robust_move():
    s = Search(Game(9), config=SearchConfig(lcb_min_visits=5, lcb_min_fraction=0.1), seed=0)
    s.run(2, UniformEvaluator(), 1)
    t = s.tree
    ch = _root_children(s)
    t.N[ch] = 0
    t.W[ch] = 0
    t.W2[ch] = 0

    def setv(j, n, mean, sd=0.2):
        t.N[j] = n
        t.W[j] = n * mean
        t.W2[j] = n * (mean ** 2 + sd ** 2)

    a, b, c = ch[10], ch[20], ch[30]
    # most visited and solid vs. a lucky move with 3 visits: keep the most visited
    setv(a, 100, 0.4)
    setv(b, 3, 1.0, 0.0)
    assert s.choose(0.0) == t.move[a]
    # the most visited move was refuted late: a well-visited move with a higher LCB wins, and
    # analysis ranks it first too (order 0: the move genmove plays)
    setv(a, 100, -0.5)
    setv(c, 60, 0.3)
    assert s.choose(0.0) == t.move[c]
    info = s.analysis()
    assert [x["order"] for x in info] == [0, 1, 2]
    assert info[0]["move"] == s.choose_vertex() and [x["visits"] for x in info] == [60, 100, 3]
    # LCB close: stay with visits
    setv(c, 60, -0.5)
    assert s.choose(0.0) == t.move[a]
    # temperature > 0 samples only visited moves
    rng = np.random.default_rng(0)
    picks = {s.choose(1.0, rng) for _ in range(50)}
    assert picks <= {int(t.move[a]), int(t.move[b]), int(t.move[c])}
    assert len(picks) >= 2


def test_dirichlet_noise():
    g = Game(9)
    s = Search(g, SearchConfig(noise_alpha=0.3, noise_fraction=0.25), seed=5)
    s.run(20, UniformEvaluator(), 4)
    t = s.tree
    pr = t.prior[_root_children(s)].astype(np.float64)
    assert abs(pr.sum() - 1) < 1e-5
    assert pr.std() > 1e-4
    assert pr.min() >= 0.75 / 82 - 1e-6
    # without noise the root priors stay uniform
    s0 = Search(g, seed=5)
    s0.run(20, UniformEvaluator(), 4)
    assert np.allclose(s0.tree.prior[_root_children(s0)], 1 / 82)
    # noise is applied again to the new root after tree reuse
    mv = s.choose(0.0)
    s.advance(mv)
    pr = s.tree.prior[_root_children(s)].astype(np.float64)
    if len(pr):
        assert abs(pr.sum() - 1) < 1e-5


def test_root_noise_switched_on_and_off_between_moves():
    """set_root_noise noises an expanded root at once, once; after None, new roots keep their priors."""
    s = Search(Game(9), seed=5)
    s.run(20, UniformEvaluator(), 4)
    assert np.allclose(s.tree.prior[_root_children(s)], 1 / 82)
    s.set_root_noise(0.3)
    noised = s.tree.prior[_root_children(s)].copy()
    assert noised.std() > 1e-4 and abs(noised.sum() - 1) < 1e-5
    s.set_root_noise(0.3)
    assert np.array_equal(s.tree.prior[_root_children(s)], noised)  # the same root is noised once
    s.set_root_noise(None)
    s.advance(s.choose_vertex())
    s.run(20, UniformEvaluator(), 4)
    assert np.allclose(s.tree.prior[_root_children(s)], 1 / 81)


@pytest.mark.parametrize("komi,expect", [(0.5, 1.0), (30.5, -1.0)])
def test_terminal_after_two_passes(komi, expect):
    # Black owns the board unless komi outweighs it (5x5: area 25 with a few black stones)
    g = Game.from_diagram("""
. . X . .
. . X . .
. . X . .
. . X . .
. . X . .
""", to_play="W", komi=komi)
    g.play("pass")  # White passes; Black's pass ends the game
    s = Search(g, seed=0)
    s.run(100, UniformEvaluator(), 4)
    t = s.tree
    pass_child = [j for j in _root_children(s) if t.move[j] == -1][0]
    assert t.state[pass_child] == TERMINAL
    # tscore is for White, the player to move after the passes: Black's area (the whole board) - komi
    assert t.tscore[pass_child] == -(25 - komi)
    assert t.W[pass_child] / t.N[pass_child] == expect
    info = {a["move"]: a for a in s.analysis()}
    assert info["pass"]["winrate"] == (expect + 1) / 2
    assert info["pass"]["scoreLead"] == 25 - komi and info["pass"]["scoreStdev"] == 0.0
    if expect > 0:
        assert s.choose_vertex() == "pass"


def test_leaf_history_matches_game_features():
    g = Game(7)
    for m in ["D4", "C3", "E5", "C5", "pass", "D6"]:
        g.play(m)
    s = Search(g, seed=0)

    class Check:
        needs_history = True
        checked = 0

        def __call__(self, leaves):
            for i in range(len(leaves)):
                # replay the path on the game and compare with the game's own features
                path = [int(p) for p in s._paths[i, 1:s._plen[i]]]
                g2 = g.copy()
                for nd in path:
                    m = int(s.tree.move[nd])
                    g2.play("pass" if m < 0 else index_names(7)[m])
                planes, glob = leaf_features(LeafBatch(1, 7, leaves.S[i:i + 1], leaves.meta[i:i + 1],
                                                       leaves.ring[i:i + 1], leaves.head[i:i + 1],
                                                       leaves.count[i:i + 1], leaves.komi, leaves.ko_rule,
                                                       leaves.suicide, leaves.territory))
                ref_planes, ref_glob = game_features(g2)
                assert np.array_equal(planes[0], ref_planes)
                assert np.allclose(glob[0], ref_glob)
                Check.checked += 1
            return UniformEvaluator()(leaves)

    s.run(40, Check(), 8)
    assert Check.checked == 40


def test_run_many_shares_evaluator_calls():
    calls = []
    base = UniformEvaluator()

    def ev(leaves):
        calls.append(len(leaves))
        return base(leaves)

    ev.needs_history = False
    searches = [Search(Game(9), seed=i) for i in range(4)]
    run_many(searches, 64, ev, batch_size=8)
    assert all(s.root_visits == 64 for s in searches)
    assert max(calls) > 8  # leaves of several trees in one call
    assert sum(calls) == 4 * 64


def test_network_evaluator_runs():
    torch = pytest.importorskip("torch")
    from policy.model import GoNet, NetConfig
    from selfplay.evaluators import NetworkEvaluator

    torch.manual_seed(0)
    ev = NetworkEvaluator(GoNet(NetConfig(blocks=2, channels=16, gpool_every=2)))
    g = Game(9)
    g.play("E5")
    s = Search(g, seed=0)
    s.run(48, ev, 8)
    assert s.root_visits == 48
    assert -1 <= s.root_value() <= 1
    assert abs(s.tree.prior[_root_children(s)].sum() - 1) < 1e-4
    assert s.choose_vertex() in g.legal_moves()


def test_root_children_are_the_legal_moves():
    # root children come from the game's full legality (ko, superko) and always include pass
    rng = np.random.default_rng(3)
    g = Game(5, komi=0.5, rules="chinese")
    for _ in range(40):
        moves = g.legal_moves()
        if g.is_over or len(moves) <= 1:
            break
        g.play(moves[rng.integers(len(moves) - 1)])
        s = Search(g, seed=0)
        s.run(2, UniformEvaluator(), 1)
        names = index_names(5)
        kids = ["pass" if s.tree.move[j] < 0 else names[s.tree.move[j]] for j in _root_children(s)]
        assert kids == g.legal_moves()


def test_failed_evaluator_leaves_tree_clean():
    s = Search(Game(9), seed=0)
    s.run(30, UniformEvaluator(), 8)

    def bad(leaves):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        s.run(10, bad, 8)
    t = s.tree
    assert np.all(t.VL[: t.count] == 0)
    assert s.run(10, UniformEvaluator(), 8) == 10
    assert s.root_visits == 40


class OwnershipEvaluator(ScoreEvaluator):
    """ScoreEvaluator's priors, values and scores; ownership: A1 is Black's in every position (+1 for
    Black to move, -1 for White to move) and B1 is claimed by whoever is to move (+1 always)."""

    def __call__(self, leaves: LeafBatch) -> Evaluation:
        ev = super().__call__(leaves)
        own = np.zeros((len(leaves), leaves.size, leaves.size), dtype=np.float32)
        for i in range(len(leaves)):
            own[i, 0, 0] = 1.0 if leaves.to_move(i) == K.BLACK else -1.0
            own[i, 0, 1] = 1.0
        ev.ownership = own
        return ev


def _depth(t, nd: int) -> int:
    parent = {int(c): p for p in range(t.count) if t.state[p] == EXPANDED for c in t.children(p)}
    d = 0
    while nd != t.root:
        nd, d = parent[nd], d + 1
    return d


def test_scores_are_backed_up_per_subtree():
    g = Game.from_diagram(CAPTURE, to_play="B", komi=0.5)
    s = Search(g, seed=0)
    s.run(120, ScoreEvaluator(), batch_size=4)
    t = s.tree
    names = index_names(5)
    for a in s.analysis():
        j = next(c for c in _root_children(s) if (names[t.move[c]] if t.move[c] >= 0 else "pass") == a["move"])
        assert a["scoreLead"] == a["scoreMean"] == pytest.approx(t.SC[j] / t.N[j], abs=1e-4)
        if a["visits"] == 1:  # one leaf: the evaluator's score of the position after the move, no spread
            g2 = g.copy()
            g2.play(a["move"])
            assert a["scoreLead"] == pytest.approx(g2.score() - 0.5) and a["scoreStdev"] == 0
        else:
            assert a["scoreStdev"] >= 0
    info = s.root_info()
    assert info["visits"] == 120 and info["currentPlayer"] == "B"
    assert info["scoreLead"] == pytest.approx(-t.SC[t.root] / 120, abs=1e-4)
    # capturing at D5 wins the most points, and the root's mean leans towards it
    best = s.analysis()[0]
    assert best["move"] == "D5" and best["scoreLead"] > max(a["scoreLead"] for a in s.analysis()[1:])


def test_search_weighted_ownership():
    g = Game(7)
    g.play("D4")
    s = Search(g, seed=0, track_ownership=True)
    s.run(60, OwnershipEvaluator(), batch_size=4)
    t = s.tree
    own = s.root_ownership()
    assert own.visits == s.root_visits == 60
    # A1: Black's in every leaf, so White's (the root player's) loss with no spread
    assert own.mean[0, 0] == -1 and own.stdev[0, 0] == 0
    # B1: each leaf's player to move claims it: the root's view alternates with the leaf's depth
    leaves = [nd for nd in range(t.count) if t.state[nd] == EXPANDED]
    signs = [1 if _depth(t, nd) % 2 == 0 else -1 for nd in leaves]
    assert own.mean[0, 1] == pytest.approx(sum(signs) / 60)
    assert own.stdev[0, 1] == pytest.approx(np.sqrt(1 - (sum(signs) / 60) ** 2), abs=1e-5)
    assert (own.mean[1:] == 0).all()
    # a move's own ownership, and what tree reuse keeps of it
    best = s.analysis(moves_ownership=True)[0]
    j = next(c for c in _root_children(s) if index_names(7)[t.move[c]] == best["move"])
    assert best["ownership"][0, 0] == -1
    n = int(t.N[j])
    assert s.advance(best["move"])
    kept = s.root_ownership()
    assert kept.visits == n == s.root_visits
    assert kept.mean[0, 0] == 1  # now Black to move: A1 is the root player's
    s.run(20, OwnershipEvaluator(), batch_size=4)
    assert s.root_ownership().visits == n + 20
    # not tracked, or no estimates from the evaluator: no ownership
    assert Search(g, seed=0).root_ownership() is None
    s2 = Search(g, seed=0, track_ownership=True)
    s2.run(10, UniformEvaluator(), 4)
    assert s2.root_ownership() is None


def test_terminal_visits_count_exact_ownership():
    # one empty point left in Black's area: White passed; Black's pass ends the game
    g = Game.from_diagram("""
X X X X X
X X X X X
X X . X X
X X X X X
X X X X X
""", to_play="W", komi=0.5)
    g.play("pass")
    s = Search(g, seed=0, track_ownership=True)
    s.run(30, OwnershipEvaluator(), batch_size=1)
    t = s.tree
    pass_child = [j for j in _root_children(s) if t.move[j] == -1][0]
    assert t.state[pass_child] == TERMINAL and t.N[pass_child] > 1
    own = s.root_ownership()
    # C3 is Black's (the root player's) in every terminal position and no leaf evaluation says otherwise
    assert own.mean[2, 2] == pytest.approx(t.N[pass_child] / 30)


def test_pv_visits_and_root_policy():
    s = Search(Game(9), seed=0)
    s.run(200, ScoreEvaluator(), batch_size=8)
    for a in s.analysis():
        assert len(a["pv"]) == len(a["pvVisits"]) and a["pvVisits"][0] == a["visits"]
        assert all(x >= y for x, y in zip(a["pvVisits"], a["pvVisits"][1:], strict=False))
    assert len(s.analysis(pv_len=3)[0]["pv"]) <= 3
    pol = s.root_policy()
    assert pol.shape == (82,) and abs(pol.sum() - 1) < 1e-5 and (pol > 0).all()
    g = Game.from_diagram(CAPTURE, to_play="B", komi=0.5)
    s = Search(g, seed=0)
    assert s.root_policy() is None
    s.run(4, UniformEvaluator(), 1)
    pol = s.root_policy()
    assert (pol == -1).sum() == int((g.board != 0).sum()) and abs(pol[pol >= 0].sum() - 1) < 1e-5


def test_search_round_groups_calls_by_board_and_rules():
    calls = []
    base = UniformEvaluator()

    def ev(leaves):
        calls.append((leaves.size, leaves.komi, len(leaves)))
        return base(leaves)

    ev.needs_history = False
    searches = [Search(Game(9, komi=7.5), seed=0), Search(Game(9, komi=7.5), seed=1),
                Search(Game(9, komi=0.5), seed=2), Search(Game(7, komi=7.5), seed=3)]
    assert search_round(searches, [4, 4, 4, 0], ev) == [1, 1, 1, 0]  # a new tree: its root alone
    calls.clear()
    assert search_round(searches, [4, 4, 4, 0], ev) == [4, 4, 4, 0] and searches[3].root_visits == 0
    assert sorted(calls) == [(9, 0.5, 4), (9, 7.5, 8)]


def _position(g: Game, positional: bool) -> tuple:
    """The repetition key of ``g``'s position: the stones, and the player to move unless positional."""
    return (g.board.tobytes(),) if positional else (g.board.tobytes(), g.to_play)


def _repetition(line: list, key: tuple) -> bool | None:
    """None when ``key`` is not among ``line``'s positions (each a key and whether a pass led to it),
    else whether a pass was played since its latest occurrence."""
    passed = False
    for k, via_pass in reversed(line):
        if k == key:
            return passed
        passed = passed or via_pass
    return None


def _check_repetitions(s: Search, game: Game, seen: list, superko: bool, positional: bool) -> tuple[int, int, int]:
    """Walk ``s``'s tree replaying its moves on ``game`` (whose positions so far are ``seen``, each with
    whether a pass led to it) and check each visited move against the ko rule; returns (moves checked,
    repetitions found, those with a pass in the cycle)."""
    t = s.tree
    names = index_names(s.size)
    max_depth = s._paths.shape[1] - 2
    checked = repeats = with_pass = 0

    def walk(nd: int, line: list) -> None:
        nonlocal checked, repeats, with_pass
        for ch in t.children(nd):
            st = int(t.state[ch])
            if st == UNEXPANDED:
                continue
            m = int(t.move[ch])
            if m < 0:
                game.play("pass")
                if st == EXPANDED:
                    walk(ch, line + [(_position(game, positional), True)])
                game.undo()
                continue
            if superko:
                reason = game.why_illegal(names[m])
                assert (st == ILLEGAL) == (reason is not None and "superko" in reason), (st, reason)
                if st == ILLEGAL:
                    repeats += 1
                    continue
            game.play(names[m])
            key = _position(game, positional)
            if not superko and len(line) - len(seen) + 1 < max_depth:  # not cut off by the depth limit
                # simple ko: a repetition is a draw, or kept out of the search when a pass came since
                cycle = _repetition(line, key)
                assert (st == ILLEGAL) == (cycle is True), (st, cycle)
                assert (st == TERMINAL and game.passes < 2) == (cycle is False), (st, cycle)
                if cycle is not None:
                    repeats += 1
                    with_pass += cycle
                if cycle is False:
                    assert t.tscore[ch] == 0 and t.W[ch] == 0
            if st != ILLEGAL:
                checked += 1
                if st == EXPANDED:
                    walk(ch, line + [(key, False)])
            game.undo()

    walk(t.root, list(seen))
    return checked, repeats, with_pass


@pytest.mark.parametrize("size", [2, 3])
@pytest.mark.parametrize("rules", ["chinese", "tromp-taylor", "aga"])
def test_repetitions_below_the_root_follow_the_ko_rule(rules, size):
    """Deep uniform searches on tiny boards capture and recapture often; walking the tree with an
    independent record of positions (board arrays, not hashes): under superko a node is ILLEGAL
    exactly when its move repeats a position of the game or the path, and every other move in the
    tree is legal under the full rules; under simple ko exactly the repeating moves are draws, or
    ILLEGAL where a pass came since the position stood (the game's opening includes passes)."""
    rng = np.random.default_rng(7)
    positional = rules == "tromp-taylor"
    superko = rules != "chinese"
    checked = repeats = with_pass = 0
    for _ in range(10):
        g = Game(size, komi=0.5, rules=rules)
        seen = [(_position(g, positional), False)]
        for _ in range(int(rng.integers(0, 8))):
            legal = [m for m in g.legal_moves() if m != "pass"]
            if not legal:
                break
            move = "pass" if g.passes == 0 and rng.random() < 0.25 else legal[int(rng.integers(len(legal)))]
            g.play(move)
            seen.append((_position(g, positional), move == "pass"))
        s = Search(g, seed=int(rng.integers(1 << 30)))
        s.run(3000, UniformEvaluator(), 8)
        c, r, p = _check_repetitions(s, g.copy(), seen, superko, positional)
        checked += c
        repeats += r
        with_pass += p
        assert np.all(s.tree.VL[: s.tree.count] == 0)
    assert checked > 500 and repeats > 0, (checked, repeats)
    if not superko:
        assert with_pass > 0 and (size > 2 or with_pass < repeats), (with_pass, repeats)


class CentreScoreEvaluator:
    """Uniform priors and value 0 everywhere; the score says Black leads by 5 points while Black holds
    the centre of a 5x5 board, else 0: moves of equal win rate, one of them worth more points."""

    needs_history = False

    def __call__(self, leaves: LeafBatch) -> Evaluation:
        a = leaves.size ** 2 + 1
        centre = 3 * (leaves.size + 2) + 3
        scores = np.array([(5.0 if leaves.S[i][K.COLOR, centre] == K.BLACK else 0.0)
                           * (1.0 if leaves.to_move(i) == K.BLACK else -1.0) for i in range(len(leaves))],
                          dtype=np.float32)
        return Evaluation(np.full((len(leaves), a), 1.0 / a, dtype=np.float32), np.zeros(len(leaves), np.float32),
                          scores)


@pytest.mark.parametrize("factor", [0.0, 0.3])
def test_score_utility_prefers_points_among_equal_win_rates(factor):
    s = Search(Game(5, komi=0.5), SearchConfig(score_utility=factor), seed=0)
    s.run(800, CentreScoreEvaluator(), 8)
    t = s.tree
    visits = {index_names(5)[int(t.move[j])] if t.move[j] >= 0 else "pass": int(t.N[j]) for j in _root_children(s)}
    others = max(v for m, v in visits.items() if m != "C3")
    if factor > 0:
        assert visits["C3"] > 4 * others
        assert s.choose_vertex() == "C3"
    else:  # the win rate alone cannot tell the moves apart
        assert visits["C3"] <= others + 2
    info = {a["move"]: a for a in s.analysis()}
    assert info["C3"]["winrate"] == 0.5  # the reported win rate stays the network's
    assert (info["C3"]["utility"] > 0.01) == (factor > 0)  # the utility carries the score's part


class SteepPolicyEvaluator:
    """Priors falling by half from each point to the next (row-major, pass last), value 0: a network
    that is sure of its first choices and all but blind to the rest."""

    needs_history = False

    def __call__(self, leaves: LeafBatch) -> Evaluation:
        a = leaves.size ** 2 + 1
        p = 0.5 ** np.arange(a, dtype=np.float64)
        priors = np.tile((p / p.sum()).astype(np.float32), (len(leaves), 1))
        zeros = np.zeros(len(leaves), np.float32)
        return Evaluation(priors, zeros, zeros)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 0.5])
def test_policy_temperature_flattens_every_nodes_priors(temperature):
    """Each expanded node's children carry the evaluator's priors over its legal moves raised to 1/T and
    renormalized, at the root and deeper alike."""
    s = Search(Game(5, komi=0.5), SearchConfig(policy_temperature=temperature), seed=0)
    s.run(200, SteepPolicyEvaluator(), 8)
    t = s.tree
    raw = 0.5 ** np.arange(26, dtype=np.float64)
    checked = 0
    for nd in range(t.count):
        if t.state[nd] != EXPANDED:
            continue
        ch = list(t.children(nd))
        rows = [move_index(int(t.move[c]), 5) for c in ch]
        want = raw[rows] ** (1.0 / temperature)
        np.testing.assert_allclose(t.prior[ch], want / want.sum(), rtol=1e-4, atol=1e-7)
        checked += 1
    assert checked > 20


def test_policy_temperature_above_one_visits_low_prior_moves():
    """At T = 2 the search spreads its root visits over more of the moves the network ranks low."""
    visited = {}
    for temperature in (1.0, 2.0):
        s = Search(Game(5, komi=0.5), SearchConfig(policy_temperature=temperature), seed=0)
        s.run(400, SteepPolicyEvaluator(), 8)
        t = s.tree
        visited[temperature] = int((t.N[_root_children(s)] > 0).sum())
    assert visited[2.0] > visited[1.0]


@pytest.mark.parametrize("temperature", [0.0, -1.0])
def test_policy_temperature_must_be_positive(temperature):
    with pytest.raises(ValueError, match="policy_temperature"):
        SearchConfig(policy_temperature=temperature)


def test_a_losing_side_does_not_cycle_through_the_opponents_passes():
    """A 9x9 match game ended at the move cap: Tengen (White, 2 points behind) repeated an 8-move cycle
    of throw-ins while GNU Go passed, because the search scored the repetition as a draw under simple
    ko. After move 105 White's J8 is legal but repeats the position after move 98, with Black's passes
    in between: the search keeps it out, and a playout search that sees White losing plays on elsewhere
    or passes instead of cycling (with the repetition a draw it chose J8)."""
    g = read_sgf_file(FIXTURES / "cycle-with-passes.sgf")[0].replay()
    assert g.to_play == "W" and g.is_legal("J8") and g.rules.ko == "simple"
    s = Search(g, seed=3)
    s.run(1500, PlayoutEvaluator(seed=3), 8)
    t = s.tree
    j8 = [ch for ch in _root_children(s) if t.move[ch] >= 0 and index_names(9)[t.move[ch]] == "J8"]
    assert len(j8) == 1 and t.state[j8[0]] == ILLEGAL
    assert s.choose_vertex() != "J8"


def test_a_pass_kept_out_is_played_when_every_other_move_repeats():
    """On 2x2 boards after these moves, Black's one legal move besides the pass repeats a position with a
    pass since, so the search keeps it out; with the pass kept out too (as genmove does when passing
    loses the count) the pass is still the move, not an error."""
    for moves in (["B1", "A1", "A2", "pass", "A1", "B2", "A1", "pass", "A2", "pass"],
                  ["A1", "pass", "A2", "B2", "B1", "B2", "A2", "pass", "A1", "B1", "A2", "pass"]):
        g = Game(2, komi=0.5)
        for m in moves:
            g.play(m)
        assert g.to_play == "B" and len(g.legal_moves()) == 2
        s = Search(g, seed=0)
        s.exclude_root_moves([PASS])
        s.run(50, UniformEvaluator(), 8)
        assert s.choose_vertex() == "pass" and [a["move"] for a in s.analysis()] == ["pass"]
