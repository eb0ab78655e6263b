"""tengen review: every move of a game through the analysis engine, an annotated SGF and a graph."""

from __future__ import annotations

import numpy as np
import pytest

from go_engine import kernels as K
from go_engine.game import Game
from go_engine.sgf import parse_sgf, write_sgf
from gtp.review import MIN_LOSS, VERY_BAD, Turn, judge, review
from selfplay.evaluators import UniformEvaluator
from selfplay.search import Evaluation


class AreaEvaluator(UniformEvaluator):
    """Uniform priors; score = area score - komi for the player to move, value = tanh(score / 4)."""

    def __call__(self, leaves):
        ev = super().__call__(leaves)
        s = np.array([K.k_area_score(leaves.S[i], leaves.meta[i]) - leaves.komi for i in range(len(leaves))])
        s = np.where([leaves.to_move(i) == K.WHITE for i in range(len(leaves))], -s, s).astype(np.float32)
        return Evaluation(ev.priors, np.tanh(s / 4), s)


def a_game(tmp_path, moves: list[str], **info) -> str:
    g = Game(7, komi=0.5)
    for m in moves:
        g.play(m)
    path = tmp_path / "game.sgf"
    path.write_text(write_sgf(g, black="Kim", white="Lee", result="B+R", comments={1: "first!"} if moves else {},
                              **info))
    return str(path)


def test_judge_ranks_each_players_largest_losses():
    wr = [0.5, 0.5, 0.6, 0.2, 0.25, 0.25, 0.9]
    sc = [0.0, -0.5, 3.0, -9.0, -7.0, -7.5, 12.0]
    turns = [Turn(w, s, "A1", ["A1"], 10) for w, s in zip(wr, sc, strict=False)]
    moves = [("B", "A1"), ("W", "B1"), ("B", "C1"), ("W", "D1"), ("B", "E1"), ("W", "F1")]
    out = judge(turns, moves, mistakes=1)
    # Black's lead falls after Black's moves and rises after White's: both players lose points
    assert [round(m.score_loss, 1) for m in out] == [0.5, 3.5, 12.0, 2.0, 0.5, 19.5]
    assert [round(m.winrate_loss, 2) for m in out] == [0.0, 0.1, 0.4, 0.05, 0.0, 0.65]
    # each player's largest loss of at least MIN_LOSS points
    assert [m.mistake for m in out] == [0, 0, 1, 0, 0, 1] and 0.5 < MIN_LOSS
    assert [m.mistake for m in judge(turns, moves, mistakes=3)] == [0, 2, 1, 3, 0, 1]
    assert [m.mistake for m in judge(turns, moves, mistakes=0)] == [0] * 6


def test_review_writes_an_annotated_sgf_and_a_graph(tmp_path):
    # Black gives White a capture of three stones at move 7 (B G7 instead of saving them)
    moves = ["D4", "C3", "C4", "B4", "B5", "C5", "G7", "B3", "D5", "C6"]
    path = a_game(tmp_path, moves)
    r = review(path, visits=24, evaluator=AreaEvaluator(), mistakes=2, positions=4, progress=False)
    assert len(r.turns) == len(moves) + 1 and all(t.visits == 24 for t in r.turns)
    assert r.sgf == tmp_path / "game-review.sgf" and r.png == tmp_path / "game-review.png"
    assert r.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    game = parse_sgf(r.sgf.read_bytes())[0]
    assert [v for _, v in game.moves] == moves and game.black == "Kim" and game.result.raw == "B+R"
    comments = game.comments
    assert comments[1].startswith("first!") and all("win rate B" in comments[k] for k in range(1, len(moves) + 1))
    assert "Tengen review, 24 visits per position" in comments[0]
    marked = {m.number: m for m in r.moves if m.mistake}
    assert marked and all(m.score_loss >= MIN_LOSS for m in marked.values())
    assert sum(m.color == "B" for m in marked.values()) <= 2 and sum(m.color == "W" for m in marked.values()) <= 2
    for k, node in enumerate(game.nodes[1:], start=1):
        if k in marked:
            assert node["BM"] == ["2" if marked[k].score_loss >= VERY_BAD else "1"]
            assert "Mistake" in comments[k] and f"move {k}" in comments[0]
        else:
            assert "BM" not in node
    # the evaluation is Black's view: after each move, what the mover lost
    for m in r.moves:
        sign = 1 if m.color == "B" else -1
        assert m.score_loss == pytest.approx(sign * (r.turns[m.number - 1].score - r.turns[m.number].score))


def test_review_refuses_what_it_cannot_replay(tmp_path):
    with pytest.raises(ValueError, match="no moves"):
        review(a_game(tmp_path, []), evaluator=UniformEvaluator(), progress=False)
    g = Game(7)
    g.play("D4")
    g.setup(black=["A1"], to_play="W")
    path = tmp_path / "setup.sgf"
    path.write_text(write_sgf(g))
    with pytest.raises(ValueError, match="set up after move 1"):
        review(path, evaluator=UniformEvaluator(), progress=False)
    with pytest.raises(ValueError, match="no game 2"):
        review(a_game(tmp_path, ["D4"]), evaluator=UniformEvaluator(), game=2, progress=False)


def test_review_command(tmp_path, capsys):
    from tengen_cli import main

    path = a_game(tmp_path, ["D4", "C3", "E5"])
    out = tmp_path / "r.sgf"
    assert main(["review", path, "--model", "none", "--visits", "8", "--out", str(out), "--png", "",
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "4 positions" in text and f"review: {out}" in text and "graph" not in text
    assert out.exists() and not out.with_suffix(".png").exists()
    assert main(["review", str(tmp_path / "missing.sgf"), "--model", "none"]) == 2
