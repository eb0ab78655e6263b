"""Tests of the PUCT search (selfplay/search.py)."""

from __future__ import annotations

import numpy as np
import pytest

from go_engine import kernels as K
from go_engine.coords import index_names
from go_engine.features import game_features
from go_engine.game import Game
from selfplay.search import (EXPANDED, TERMINAL, LeafBatch, Search, SearchConfig, UniformEvaluator, leaf_features,
                             run_many)


class ScoreEvaluator:
    """Uniform priors; value = tanh(area score - komi for the player to move / 4): the 'true' outcome
    of simple tactical positions."""

    needs_history = False

    def __call__(self, leaves: LeafBatch):
        a = leaves.size ** 2 + 1
        vals = np.zeros(len(leaves), dtype=np.float32)
        for i in range(len(leaves)):
            s = K.k_area_score(leaves.S[i], leaves.meta[i]) - leaves.komi
            if leaves.to_move(i) == K.WHITE:
                s = -s
            vals[i] = np.tanh(s / 4.0)
        return np.full((len(leaves), a), 1.0 / a, dtype=np.float32), vals


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
    # the most visited move was refuted late: a well-visited move with a higher LCB wins
    setv(a, 100, -0.5)
    setv(c, 60, 0.3)
    assert s.choose(0.0) == t.move[c]
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
    # tval is for White, the player to move after the passes: Black's result with a flipped sign
    assert t.tval[pass_child] == -expect
    assert t.W[pass_child] / t.N[pass_child] == expect
    info = {a["move"]: a for a in s.analysis()}
    assert info["pass"]["winrate"] == (expect + 1) / 2
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
    from selfplay.search import NetworkEvaluator

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
