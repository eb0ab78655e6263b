"""Shard files: round trip, atomic writes, refusal of corrupt, foreign and other-version files; the loader."""

import json
import zipfile

import numpy as np
import pytest

from policy.data.loader import PositionLoader
from policy.data.shards import GameRecord, ShardError, read_shard, write_shard


def _records(n=6, size=9, seed=0):
    rng = np.random.default_rng(seed)
    from go_engine import Game
    from go_engine.coords import parse_vertex
    from tests.players import random_move
    out = []
    for i in range(n):
        g = Game(size)
        while not g.is_over and len(g.moves) < 60:
            g.play(random_move(g, rng))
        mv = []
        for c, v in g.moves:
            q = parse_vertex(v, size) if v != "pass" else None
            p = size * size if q is None else (q // (size + 2) - 1) * size + q % (size + 2) - 1
            mv.append((1 if c == "B" else 2, p))
        out.append(GameRecord(size, 7.0, "chinese", mv, winner=(1, -1, -2)[i % 3],
                              margin=(3.5, float("nan"), float("nan"))[i % 3], key=i))
    return out


def test_round_trip(tmp_path):
    recs = _records()
    write_shard(tmp_path / "a.npz", recs)
    s = read_shard(tmp_path / "a.npz")
    assert s.num_games == len(recs) and s.size == 9
    for i, r in enumerate(recs):
        mv = s.game_moves(i)
        assert [(1 if v > 0 else 2, abs(int(v)) - 1) for v in mv] == r.moves
    assert list(s.winner) == [r.winner for r in recs]
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind


def test_refuses_truncated_foreign_and_future_files(tmp_path):
    write_shard(tmp_path / "a.npz", _records())
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ShardError, match="cut.npz"):
        read_shard(tmp_path / "cut.npz")
    (tmp_path / "junk.npz").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ShardError, match="junk.npz"):
        read_shard(tmp_path / "junk.npz")
    np.savez(tmp_path / "foreign.npz", x=np.arange(3))
    with pytest.raises(ShardError, match="not a tengen-shard"):
        read_shard(tmp_path / "foreign.npz")
    # same file with a newer version number in its header
    with np.load(tmp_path / "a.npz") as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(bytes(arrays["header"]).decode())
    header["version"] = 99
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(tmp_path / "v99.npz", **arrays)
    with pytest.raises(ShardError, match="version 99"):
        read_shard(tmp_path / "v99.npz")
    arrays["header"] = np.frombuffer(json.dumps(dict(header, version=1)).encode(), np.uint8)
    arrays["moves"] = arrays["moves"].copy()
    arrays["moves"][0] = 30000
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ShardError, match="outside the board"):
        read_shard(tmp_path / "bad.npz")
    assert zipfile.is_zipfile(tmp_path / "a.npz")


def test_loader_targets_and_reproducibility(tmp_path):
    recs = _records(n=9)
    write_shard(tmp_path / "a.npz", recs[:5])
    write_shard(tmp_path / "b.npz", recs[5:])
    total = sum(len(r.moves) for r in recs)
    batches = list(PositionLoader([tmp_path], batch_size=32, seed=3, epochs=1, buffer_size=100))
    assert sum(len(b) for b in batches) == total  # one epoch: every position exactly once
    again = list(PositionLoader([tmp_path], batch_size=32, seed=3, epochs=1, buffer_size=100))
    assert all(np.array_equal(a.planes, b.planes) and np.array_equal(a.policy, b.policy)
               for a, b in zip(batches, again, strict=False))
    other = next(iter(PositionLoader([tmp_path], batch_size=32, seed=4, epochs=1, buffer_size=100)))
    assert not np.array_equal(other.policy, batches[0].policy)
    for b in batches:
        black = b.globals[:, 1] == 1
        # values follow the winner from the mover's view, masked where unknown
        known = b.value_mask == 1
        assert set(np.unique(b.value[known])) <= {-1.0, 1.0}
        assert np.all(b.value[~known] == 0)
        assert np.all((b.planes[:, 23] == 1))
        assert np.all(b.policy <= 81)
        assert np.all(b.globals[black, 0] == pytest.approx(-7.0 / 15))


def test_batches_mix_shards_written_one_source_after_another(tmp_path):
    # each shard holds one "server's" komi, as `tengen data build` writes sources in turn; drawn one shard
    # at a time, a batch would hold komi constant and batch normalisation would hide it from training
    for i, komi in enumerate((0.0, 5.5, 6.5, 7.5)):
        recs = _records(n=16, seed=i)
        for r in recs:
            r.komi = komi
        write_shard(tmp_path / f"{i}.npz", recs)

    def komi_values_per_batch(open_shards):
        batches = list(PositionLoader([tmp_path], batch_size=32, seed=1, epochs=1, buffer_size=64,
                                      sample_rate=0.2, open_shards=open_shards))
        assert len(batches) > 15
        return np.mean([len(np.unique(np.abs(b.globals[:, 0]))) for b in batches])

    assert komi_values_per_batch(1) < 2.0  # one shard at a time, as before: batches see one or two komi
    assert komi_values_per_batch(16) > 3.4  # of the four


def test_value_is_from_the_movers_view(tmp_path):
    recs = _records(n=4)
    for r in recs:
        r.winner, r.margin = 1, 4.5  # Black won by 4.5
    write_shard(tmp_path / "w.npz", recs)
    for b in PositionLoader([tmp_path], batch_size=64, seed=0, epochs=1, buffer_size=64):
        black = b.globals[:, 1] == 1
        assert np.all(b.value[black] == 1) and np.all(b.value[~black] == -1)
        assert np.all(b.score[black] == 4.5) and np.all(b.score[~black] == -4.5)
        assert np.all(b.value_mask == 1) and np.all(b.score_mask == 1)


def test_ownership_target_is_the_stored_settled_owner(tmp_path):
    from go_engine import Game
    from go_engine.coords import parse_vertex
    from go_engine.deadstones import settle
    from tests.players import random_move
    rng = np.random.default_rng(7)
    g = Game(7)
    while not g.is_over:
        g.play(random_move(g, rng))
    mv = [(1 if c == "B" else 2, 49 if v == "pass" else (lambda q: (q // 9 - 1) * 7 + q % 9 - 1)(parse_vertex(v, 7)))
          for c, v in g.moves]
    unfinished = GameRecord(7, 7.0, "chinese", mv[:10], key=2)
    final = settle(g).ownership
    write_shard(tmp_path / "o.npz", [GameRecord(7, 7.0, "chinese", mv, key=1, owner=final), unfinished])
    assert np.array_equal(read_shard(tmp_path / "o.npz").game_owner(0), final)
    assert read_shard(tmp_path / "o.npz").game_owner(1) is None
    seen = 0
    for b in PositionLoader([tmp_path], batch_size=16, seed=0, epochs=1, symmetries=False, buffer_size=32):
        for j in range(len(b)):
            if b.ownership_mask[j]:
                sign = 1.0 if b.globals[j, 1] == 1 else -1.0
                assert np.array_equal(b.ownership[j] * sign, final)
                seen += 1
            else:
                assert not b.ownership[j].any()
    assert seen == len(mv)
    for b in PositionLoader([tmp_path], batch_size=16, seed=0, epochs=1, symmetries=True, buffer_size=32):
        for j in np.flatnonzero(b.ownership_mask):
            assert np.abs(b.ownership[j]).sum() == np.abs(final).sum()


def _with_targets(rec, rng, every=2):
    """A self-play-like record: every ``every``-th move carries a visit distribution that puts 0.6 on
    the move played and the rest on two other points (or pass)."""
    a = rec.size * rec.size
    targets = []
    for i, (_, p) in enumerate(rec.moves):
        if i % every:
            targets.append(None)
            continue
        others = rng.choice([q for q in range(a + 1) if q != p], 2, replace=False)
        targets.append((np.array([p, *others], np.int16), np.array([0.6, 0.3, 0.1], np.float32)))
    rec.targets = targets
    return rec


def test_visit_distributions_round_trip_and_version_1_still_reads(tmp_path):
    rng = np.random.default_rng(3)
    recs = _records(4)
    recs[1] = _with_targets(recs[1], rng)
    recs[3] = _with_targets(recs[3], rng, every=3)
    write_shard(tmp_path / "a.npz", recs)
    s = read_shard(tmp_path / "a.npz")
    assert s.game_targets(0) is None and s.game_targets(2) is None
    for i in (1, 3):
        off, pts, probs = s.game_targets(i)
        assert len(off) == len(recs[i].moves) + 1
        for m, t in enumerate(recs[i].targets):
            got = pts[off[m]:off[m + 1]]
            assert (t is None and len(got) == 0) or list(got) == list(t[0])
            if t is not None:
                assert np.allclose(probs[off[m]:off[m + 1]], t[1], atol=1e-3)
    # a version-1 shard (no target arrays) reads as games whose moves are the targets
    with np.load(tmp_path / "a.npz") as z:
        arrays = {k: z[k] for k in z.files if not k.startswith(("has_targets", "target_"))}
    header = json.loads(bytes(arrays["header"]).decode())
    arrays["header"] = np.frombuffer(json.dumps(dict(header, version=1)).encode(), np.uint8)
    np.savez(tmp_path / "v1.npz", **arrays)
    v1 = read_shard(tmp_path / "v1.npz")
    assert v1.num_games == 4 and all(v1.game_targets(i) is None for i in range(4))
    # a version-2 shard whose target arrays disagree is refused
    with np.load(tmp_path / "a.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["target_offset"] = arrays["target_offset"][:-1]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ShardError, match="target offsets"):
        read_shard(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="policy targets"):
        write_shard(tmp_path / "x.npz", [GameRecord(9, 7.0, "chinese", [(1, 3)], targets=[])])


def test_loader_uses_visit_distributions_under_symmetries(tmp_path):
    rng = np.random.default_rng(5)
    recs = [_with_targets(r, rng) for r in _records(3)]
    human = _records(2, seed=9)
    write_shard(tmp_path / "a.npz", recs + human)
    n_targets = sum(t is not None for r in recs for t in r.targets)
    n_human = sum(len(r.moves) for r in human)
    seen = 0
    for b in PositionLoader([tmp_path / "a.npz"], batch_size=16, seed=1, epochs=1):
        assert np.allclose(b.policy_target.sum(axis=1), 1.0, atol=1e-3)
        top = b.policy_target.argmax(axis=1)
        # the move played carries the largest share and moves with the board under every symmetry
        assert np.array_equal(top, b.policy)
        soft = b.policy_target.max(axis=1) < 0.99
        assert np.allclose(np.sort(b.policy_target[soft], axis=1)[:, -3:], [0.1, 0.3, 0.6], atol=2e-3)
        seen += len(b)
    assert seen == n_targets + n_human  # moves of fast searches are not positions
