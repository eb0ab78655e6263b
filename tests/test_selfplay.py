"""Self-play: games written as SGF, shards with visit targets and statistics; resignation; resume; workers."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from go_engine import parse_sgf
from policy.data.loader import PositionLoader
from policy.data.shards import read_shard
from selfplay.evaluators import UniformEvaluator
from selfplay.search import Evaluation
from selfplay.selfplay import SelfPlayConfig, load_stats, play_games, run_selfplay, summarize


class BlackIsLost(UniformEvaluator):
    """Uniform priors; every position looks won for White (value 0.98 for White, -0.98 for Black)."""

    def __call__(self, leaves):
        ev = super().__call__(leaves)
        values = np.array([-0.98 if leaves.to_move(i) == 1 else 0.98 for i in range(len(leaves))], np.float32)
        return Evaluation(ev.priors, values, ev.scores)


def test_games_are_written_as_sgf_shards_and_stats(tmp_path):
    cfg = SelfPlayConfig(size=5, komi=0.5, full_visits=24, fast_visits=6, full_fraction=0.5, parallel=3)
    stats = play_games(UniformEvaluator(), cfg, 4, tmp_path, "g", seed=2)
    assert [s.name for s in sorted(stats, key=lambda s: s.name)] == [f"g-{i:06d}" for i in range(4)]
    full_total = 0
    for s in stats:
        shard = read_shard(tmp_path / f"{s.name}.npz")
        off, pts, probs = shard.game_targets(0)
        counts = np.diff(off)
        assert len(counts) == s.moves == len(shard.game_moves(0))
        assert (counts > 0).sum() == s.full_moves > 0
        for m in np.flatnonzero(counts):
            assert abs(float(probs[off[m]:off[m + 1]].sum()) - 1.0) < 1e-2
        full_total += s.full_moves
        game = parse_sgf((tmp_path / f"{s.name}.sgf").read_bytes())[0]
        replayed = game.replay()
        assert len(replayed.moves) == s.moves and game.get("RE") == s.result
        comments = [n.get("C", [""])[0] for n in game.nodes[1:]]
        assert sum(c.startswith("full search") for c in comments) == s.full_moves
        assert all("visits" in c and "win rate" in c for c in comments)
        if s.score is not None:  # played to the end: the area score decides
            assert s.result.startswith("B+" if s.score > 0 else "W+")
            assert shard.margin[0] == pytest.approx(s.score)
    # the loader trains on full-search moves only, against their visit distributions
    shards = [tmp_path / f"{s.name}.npz" for s in stats]
    seen = sum(len(b) for b in PositionLoader(shards, batch_size=8, epochs=1))
    assert seen == full_total
    assert summarize(load_stats(tmp_path))["games"] == 4


def test_resignation_and_its_false_positive_check(tmp_path):
    cfg = SelfPlayConfig(size=5, komi=0.5, full_visits=8, fast_visits=4, parallel=4, no_resign_fraction=0.0)
    stats = play_games(BlackIsLost(), cfg, 4, tmp_path / "on", "r", seed=1)
    # Black resigns at its first move once a quarter of the board has been played (move 6 on 5x5)
    assert all(s.result == "W+R" and s.moves == 6 for s in stats)
    cfg = SelfPlayConfig(size=5, komi=0.5, full_visits=8, fast_visits=4, parallel=4, no_resign_fraction=1.0)
    stats = play_games(BlackIsLost(), cfg, 4, tmp_path / "off", "r", seed=1)
    assert all(not s.result.endswith("+R") and s.would_resign == "B" for s in stats)
    summary = summarize(stats)
    wrong = sum(s.winner == s.would_resign for s in stats)
    assert summary["resign_checks"] == 4 and summary["resign_false_positives"] == wrong
    assert summary["resign_false_positive_rate"] == wrong / 4


def test_run_resumes_and_spreads_over_worker_processes(tmp_path):
    cfg = SelfPlayConfig(size=5, komi=0.5, full_visits=8, fast_visits=4, parallel=2)
    first = run_selfplay("none", cfg, 2, tmp_path)
    assert first["games"] == 2
    # a game killed in progress leaves no statistics file and is not counted
    (tmp_path / "killed-000000.sgf").write_text("(;FF[4]SZ[5]")
    summary = run_selfplay("none", cfg, 5, tmp_path, workers=2)
    assert summary["games"] == 5 and len(list(tmp_path.glob("*-*.json"))) == 5
    assert len({json.loads(f.read_text())["name"] for f in tmp_path.glob("*-*.json")}) == 5
    assert run_selfplay("none", cfg, 5, tmp_path)["games"] == 5  # nothing left to play


def test_games_vary_komi_and_record_settled_ownership_and_score(tmp_path):
    from go_engine.deadstones import settle

    cfg = SelfPlayConfig(size=5, komi=3.5, komi_stdev=4.0, full_visits=16, fast_visits=4, full_fraction=0.5,
                         parallel=4, no_resign_fraction=1.0)  # every game played to the end
    stats = play_games(UniformEvaluator(), cfg, 6, tmp_path, "k", seed=5)
    komis = set()
    for s in stats:
        shard = read_shard(tmp_path / f"{s.name}.npz")
        game = parse_sgf((tmp_path / f"{s.name}.sgf").read_bytes())[0]
        assert float(shard.komi[0]) == game.komi and game.komi * 2 == round(game.komi * 2)
        komis.add(game.komi)
        owner = shard.game_owner(0)
        assert owner is not None and owner.shape == (5, 5)
        final = game.replay()
        settled = settle(final, seed=int(shard.key[0]) & 0xFFFF)
        assert np.array_equal(owner, settled.ownership)
        assert shard.margin[0] == pytest.approx(final.final_score(settled.dead)) == pytest.approx(s.score)
    assert len(komis) >= 3
    fixed = SelfPlayConfig(size=5, komi=3.5, komi_stdev=0.0)
    assert {fixed.game_komi(np.random.default_rng(i)) for i in range(5)} == {3.5}


def test_the_command_resumes_with_more_games_beside_its_summary(tmp_path, capsys):
    """tengen selfplay writes summary.json into the folder; a rerun with more games reads the games only."""
    from tengen_cli import main

    argv = ["selfplay", "--out", str(tmp_path), "--model", "none", "--size", "5", "--komi", "0.5",
            "--full-visits", "8", "--fast-visits", "4", "--parallel", "2", "--quiet"]
    assert main(argv + ["--games", "2"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["games"] == 2
    assert main(argv + ["--games", "3"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["games"] == 3 == len(load_stats(tmp_path))
    capsys.readouterr()


def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    from go_engine.atomic import FolderInUse, folder_lock

    cfg = SelfPlayConfig(size=5, komi=0.5, full_visits=8, fast_visits=4, parallel=2)
    with folder_lock(tmp_path, "self-play run"):  # another run, as its lock shows
        with pytest.raises(FolderInUse, match="in use by another self-play run"):
            run_selfplay("none", cfg, 1, tmp_path)
    assert not load_stats(tmp_path)
    assert run_selfplay("none", cfg, 1, tmp_path)["games"] == 1  # the lock went with its holder


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process table in /proc")
def test_workers_end_when_their_parent_is_killed(tmp_path):
    """kill -9 of tengen selfplay: its worker processes end too, instead of playing on as orphans."""
    code = ("import sys; from selfplay.selfplay import SelfPlayConfig, run_selfplay; "
            "run_selfplay('none', SelfPlayConfig(size=9, full_visits=400, fast_visits=400, parallel=2), 1000, "
            f"{str(tmp_path)!r}, workers=2)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=root, env={**os.environ, "PYTHONPATH": root})
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = [k for k in _children(parent.pid) if "spawn_main" in open(f"/proc/{k}/cmdline").read()]
        assert len(workers) == 2, "the workers did not start"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers)
    finally:
        for pid in [parent.pid] + workers:  # those still there when the test fails
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def test_a_game_that_cycled_is_recorded_as_no_result():
    from go_engine import Game
    from go_engine.game import NO_RESULT
    from selfplay.selfplay import settled_outcome
    from tests.test_rules import TRIPLE_KO, TRIPLE_KO_CYCLE

    g = Game.from_diagram(TRIPLE_KO)
    for move in TRIPLE_KO_CYCLE * 2:
        g.play(move)
    outcome, owner = settled_outcome(g, seed=0)
    assert (outcome.winner, outcome.reason, outcome.score, owner) == (None, NO_RESULT, None, None)
