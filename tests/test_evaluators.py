"""The search's evaluators (selfplay/evaluators.py): each figure from the view of the player to move."""

import dataclasses

import numpy as np
import pytest

from go_engine.game import Game
from selfplay.evaluators import NetworkEvaluator, PlayoutEvaluator, UniformEvaluator, leaf_features, leaf_keys
from selfplay.search import LeafBatch, Search

# settled: Black's three columns and White's two, each group with three eyes
WALLS = """
X . X O .
X X X O O
. X X O .
X X X O O
X . X O .
"""


def _leaves(games: list[Game]) -> LeafBatch:
    """The games' positions as a batch of leaves (the searches' first leaf: the root)."""
    batches = []
    for g in games:
        s = Search(g, seed=0)
        s._gather(1, True)
        batches.append(s._batch())
    return LeafBatch.concat(batches)


def test_cache_keys_are_equal_exactly_when_the_network_inputs_are():
    """The cache keys a leaf on the raw position and history (no planes computed): over the leaves of
    searches from random 7x7 games (captures, kos, transpositions) under two komi, leaves share a key
    exactly when their planes and scalar inputs are equal."""
    rng = np.random.default_rng(7)
    met: list[LeafBatch] = []

    class Record:
        needs_history = True

        def __call__(self, leaves):
            met.append(dataclasses.replace(leaves, **{f: getattr(leaves, f).copy()
                                                      for f in ("S", "meta", "ring", "head", "count")}))
            return UniformEvaluator()(leaves)

    for komi in (7.5, 0.5):
        for length in range(0, 60, 6):
            g = Game(7, komi)
            for _ in range(length):
                moves = [m for m in g.legal_moves() if m != "pass" and not g.fills_own_eye(m)]
                g.play(moves[rng.integers(len(moves))] if moves else "pass")
                if g.is_over:
                    break
            if not g.is_over:  # this position and the next, as a review searches them: their trees share leaves
                Search(g, seed=length).run(60, Record(), 8)
                g.play(g.legal_moves()[0])
                if not g.is_over:
                    Search(g, seed=length).run(60, Record(), 8)
    leaves = LeafBatch.concat(met)
    keys = leaf_keys(leaves)
    planes, globs = leaf_features(leaves)
    inputs = [planes[i].tobytes() + globs[i].tobytes() for i in range(len(leaves))]
    by_key: dict[bytes, bytes] = {}
    for k, x in zip(keys, inputs, strict=True):
        assert by_key.setdefault(k, x) == x, "two leaves with one key have different inputs"
    assert len(set(keys)) == len(set(inputs))
    assert len(set(keys)) < len(keys)  # positions were met again: there were equal keys to check


def test_network_evaluator_gives_every_head():
    torch = pytest.importorskip("torch")
    from policy.model import GoNet, NetConfig

    torch.manual_seed(0)
    model = GoNet(NetConfig(blocks=2, channels=16, gpool_every=2)).eval()
    games = [Game(9, komi=7.5), Game(9, komi=7.5)]
    games[1].play("E5")
    leaves = _leaves(games)
    ev = NetworkEvaluator(model)(leaves)
    planes, globs = leaf_features(leaves)
    with torch.no_grad():
        out = model(torch.from_numpy(planes).float(), torch.from_numpy(globs))
    np.testing.assert_allclose(ev.priors, torch.softmax(out["policy"], 1).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ev.values, torch.tanh(out["value"] / 2).numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ev.scores, out["score"].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ev.ownership, out["ownership"].numpy(), rtol=1e-4, atol=1e-5)
    assert ev.ownership.shape == (2, 9, 9) and ev.scores.shape == (2,)
    rows = ev.rows(1, 2)
    assert rows.priors.shape == (1, 82) and rows.ownership.shape == (1, 9, 9) and rows.values[0] == ev.values[1]


@pytest.mark.parametrize("to_play", ["B", "W"])
def test_playout_evaluator_scores_and_ownership_for_the_player_to_move(to_play):
    g = Game.from_diagram(WALLS, to_play=to_play, komi=0.5)
    ev = PlayoutEvaluator(playouts=16, seed=1)(_leaves([g]))
    sign = 1 if to_play == "B" else -1
    # nothing to play but eyes: every playout ends as it stands, Black 15 points to 10, komi 0.5
    assert sign * ev.scores[0] == 4.5 and sign * ev.values[0] > 0.5
    assert ev.ownership.shape == (1, 5, 5)
    assert (ev.ownership[0][:, :3] == sign).all() and (ev.ownership[0][:, 3:] == -sign).all()
    assert ev.priors.shape == (1, 26)


def test_uniform_evaluator_has_no_ownership():
    ev = UniformEvaluator()(_leaves([Game(7)]))
    assert ev.ownership is None and ev.values[0] == 0 and ev.scores[0] == 0
    assert np.allclose(ev.priors, 1 / 50)


def test_network_cache_answers_repeated_positions_without_the_network():
    torch = pytest.importorskip("torch")
    from policy.model import GoNet, NetConfig

    torch.manual_seed(1)
    model = GoNet(NetConfig(blocks=2, channels=16, gpool_every=2)).eval()
    plain, cached = NetworkEvaluator(model), NetworkEvaluator(model, cache_size=3)
    a, b = Game(9), Game(9)
    b.play("E5")
    calls = []
    net = cached._network
    cached._network = lambda p, g: calls.append(len(p)) or net(p, g)
    leaves = _leaves([a, b, a])  # a position twice in one batch: evaluated once
    want, got = plain(leaves), cached(leaves)
    for field in ("priors", "values", "scores", "ownership"):
        np.testing.assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-5, atol=1e-6)
    assert calls == [2] and (cached.hits, cached.misses) == (1, 2)
    cached(_leaves([b]))
    assert calls == [2] and cached.hits == 2  # met again: no network call
    c, d = b.copy(), b.copy()
    c.play("C3")
    d.play("G7")
    cached(_leaves([c, d]))  # four positions seen, room for three: the least recently used goes
    cached(_leaves([a]))
    assert calls == [2, 2, 1]
    cached.clear_cache()
    cached(_leaves([b]))
    assert calls == [2, 2, 1, 1]


@pytest.mark.parametrize("sym", range(8))
def test_network_under_a_symmetry_answers_in_the_boards_own_orientation(sym):
    """Reading a position under symmetry ``sym`` is reading the turned position, answers turned back."""
    torch = pytest.importorskip("torch")
    from go_engine.coords import COLUMNS
    from go_engine.features import apply_symmetry, inverse_symmetry, sym_rc
    from policy.model import GoNet, NetConfig

    torch.manual_seed(2)
    ev = NetworkEvaluator(GoNet(NetConfig(blocks=2, channels=16, gpool_every=2)).eval(), cache_size=8)
    moves = [("B", 2, 3), ("W", 6, 5), ("B", 4, 7), ("W", 1, 1)]  # (colour, row, col), history planes too
    plain, turned = Game(9, komi=7.5), Game(9, komi=7.5)
    for color, r, c in moves:
        plain.play(f"{COLUMNS[c]}{r + 1}", color)
        tr, tc = sym_rc(r, c, 9, sym)
        turned.play(f"{COLUMNS[tc]}{tr + 1}", color)
    got = ev.with_symmetry(sym)(_leaves([plain]))
    ref = ev(_leaves([turned]))
    back = inverse_symmetry(sym)
    np.testing.assert_allclose(got.ownership[0], apply_symmetry(ref.ownership[0], back), atol=1e-5)
    np.testing.assert_allclose(got.priors[0, :-1].reshape(9, 9), apply_symmetry(ref.priors[0, :-1].reshape(9, 9), back),
                               atol=1e-6)
    assert got.priors[0, -1] == pytest.approx(ref.priors[0, -1], abs=1e-6)
    assert got.values[0] == pytest.approx(ref.values[0], abs=1e-5) and got.scores[0] == pytest.approx(ref.scores[0], abs=1e-4)
    grid = np.arange(81).reshape(9, 9)
    assert (apply_symmetry(apply_symmetry(grid, sym), back) == grid).all()
    assert ev.with_symmetry(sym).cache_size == 0 and ev.symmetry == 0


@pytest.mark.parametrize("cache_size", [0, 64])
def test_random_symmetry_reads_each_batch_under_one_of_the_eight(cache_size):
    """With ``random_symmetry`` every call answers as ``with_symmetry(s)`` does for some ``s`` (in the
    board's own orientation), and the calls use several symmetries."""
    torch = pytest.importorskip("torch")
    from policy.model import GoNet, NetConfig

    torch.manual_seed(3)
    net = GoNet(NetConfig(blocks=2, channels=16, gpool_every=2)).eval()
    ev = NetworkEvaluator(net, cache_size=cache_size, random_symmetry=True, seed=5)
    fixed = NetworkEvaluator(net)
    games = []
    for k in range(2, 8):  # no position symmetric under any of the eight
        g = Game(7, komi=7.5)
        for m in ["D4", "C3", "E5", "C5", "B2", "F6", "A1"][:k]:
            g.play(m)
        games.append(g)
    used = set()
    for g in games:
        leaves = _leaves([g])
        got = ev(leaves)
        refs = [fixed.with_symmetry(s)(leaves) for s in range(8)]
        match = [s for s, r in enumerate(refs) if np.allclose(got.priors, r.priors, atol=1e-6)
                 and np.allclose(got.values, r.values, atol=1e-6) and np.allclose(got.ownership, r.ownership, atol=1e-6)]
        assert len(match) == 1, match
        used.update(match)
    assert len(used) >= 3
