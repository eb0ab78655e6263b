"""The training loader: games that do not replay legally, komi relabelling, worker processes."""

import numpy as np
import pytest

from policy.data.loader import PositionLoader, batches, komi_spread
from policy.data.shards import GameRecord, ShardError, write_shard
from tests.test_shards import _records


def _pt(v: str, size: int = 9) -> int:
    return (int(v[1:]) - 1) * size + "ABCDEFGHJ".index(v[0])


def _load_all(path, **kw):
    return list(PositionLoader([path], batch_size=8, seed=0, epochs=1, buffer_size=8, **kw))


# Black's C2 (move 9) takes the white stone B2 in a ko
KO = [(1, _pt("B3")), (2, _pt("C3")), (1, _pt("A2")), (2, _pt("B2")), (1, _pt("B1")), (2, _pt("D2")),
      (1, _pt("J9")), (2, _pt("C1")), (1, _pt("C2"))]


@pytest.mark.parametrize("moves, setup, what", [
    ([(1, _pt("E5")), (2, _pt("E5"))], [], "game 1 does not replay: move 2 is illegal"),  # occupied
    (KO + [(2, _pt("B2"))], [], "game 1 does not replay: move 10 is illegal"),  # the ko retaken at once
    ([(1, _pt("A1"))], [(2, _pt("A2")), (2, _pt("B1"))], "game 1 does not replay: move 1 is illegal"),  # suicide
    ([(1, _pt("E5"))], [(1, _pt("A1")), (2, _pt("A2")), (2, _pt("B1"))], "game 1 does not replay: its setup stones leave a chain"),
])
def test_a_game_that_does_not_replay_is_refused_with_file_and_game(tmp_path, moves, setup, what):
    good = _records(1)[0]
    write_shard(tmp_path / "crafted.npz", [good, GameRecord(9, 7.0, "chinese", moves, setup=setup, key=99)])
    with pytest.raises(ShardError, match=f"crafted.npz: {what}"):
        _load_all(tmp_path / "crafted.npz")


def test_ko_retake_after_a_move_elsewhere_is_legal(tmp_path):
    moves = KO + [(2, _pt("E9")), (1, _pt("F9")), (2, _pt("B2"))]  # White retakes after a ko threat
    write_shard(tmp_path / "ko.npz", [GameRecord(9, 7.0, "chinese", moves, key=5)])
    got = _load_all(tmp_path / "ko.npz")
    assert sum(len(b) for b in got) == len(moves)


def test_komi_relabel_moves_komi_value_and_score_together(tmp_path):
    write_shard(tmp_path / "k.npz", _records(9))  # games 0, 3, 6 counted (B+3.5); the rest not
    base = _load_all(tmp_path / "k.npz", symmetries=False)
    relabelled = _load_all(tmp_path / "k.npz", symmetries=False, komi_relabel=1.0)
    assert sum(map(len, base)) == sum(map(len, relabelled))
    komis = set()
    for b in relabelled:
        for j in range(len(b)):
            black = b.globals[j, 1] == 1.0
            sign = 1.0 if black else -1.0
            komi = b.globals[j, 0] * 15.0 * (-1.0 if black else 1.0)
            if b.score_mask[j]:  # counted: Black won by 3.5 at komi 7, so Black's area lead is 10.5
                margin = 10.5 - komi
                assert b.score[j] == pytest.approx(sign * margin)
                assert b.value[j] == np.sign(sign * margin) and b.value_mask[j] == 1
                assert abs(komi - 7.0) <= komi_spread(9) + 0.25 and komi * 2 == round(komi * 2)
                komis.add(round(float(komi), 1))
            else:  # a result without a count keeps its komi
                assert komi == pytest.approx(7.0)
    assert len(komis) >= 3


def test_worker_processes_share_the_games_and_repeat_with_the_seed(tmp_path):
    recs = _records(12)
    write_shard(tmp_path / "a.npz", recs[:6])
    write_shard(tmp_path / "b.npz", recs[6:])
    total = sum(len(r.moves) for r in recs)

    def run():
        moves = []
        for t in batches([tmp_path], workers=2, batch_size=16, seed=3, epochs=1, buffer_size=64, symmetries=False):
            assert set(t) >= {"planes", "policy", "value", "ownership"}
            moves += list(zip(t["policy"].tolist(), t["globals"][:, 1].tolist(), strict=False))
        return moves

    first = run()
    assert len(first) == total  # every position once, over both workers
    assert first == run()  # the same order again
    inproc = [p for b in batches([tmp_path], workers=0, batch_size=16, seed=3, epochs=1, buffer_size=64,
                                                   symmetries=False)
              for p in zip(b.policy.tolist(), b.globals[:, 1].tolist(), strict=False)]
    assert sorted(inproc) == sorted(first)
