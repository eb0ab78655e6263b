"""How often the search would pass into a lost count, by visits (issue: strength, 1 s/move vs 200 visits).

The search scores two passes by Tromp-Taylor (every stone on the board alive). Late in a game, with
dead stones or weak groups standing, that can make passing look won where the count with dead stones
removed (how GNU Go and servers score) is lost. This takes positions from the last moves of held-out
games, lets the player to move pass, and asks the opponent's search for its move: a *bad pass* is the
search choosing to pass back (ending the game) where the count with dead stones removed (random
playouts, go_engine.deadstones) loses for it. genmove now refuses such passes (gtp/state.py); this
measures how often the raw search makes them at each number of visits.

    python bench/pass_decisions.py runs/data19/val --positions 120 --visits 200 600
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from go_engine.coords import index_names  # noqa: E402
from go_engine.deadstones import dead_stones  # noqa: E402
from go_engine.game import Game  # noqa: E402
from go_engine.stats import wilson  # noqa: E402
from policy.data.loader import shard_paths  # noqa: E402
from policy.data.shards import read_shard  # noqa: E402
from selfplay.player import Player  # noqa: E402
from selfplay.selfplay import make_evaluator  # noqa: E402


def positions(shards: list[str], count: int, seed: int) -> list[Game]:
    """Positions 0-60 moves before the end of counted held-out games, the player to move having passed."""
    rng = np.random.default_rng(seed)
    out: list[Game] = []
    for path in shard_paths(shards):
        s = read_shard(path)
        names = index_names(s.size)
        for g in rng.permutation(s.num_games):
            moves = s.game_moves(g)
            if not np.isfinite(s.margin[g]) or len(moves) < 100 or len(s.game_setup(g)):
                continue
            stop = len(moves) - int(rng.integers(0, 61))
            game = Game(s.size, float(s.komi[g]), s.rule_names[s.rules[g]])
            try:
                for v in moves[:stop]:
                    q = abs(int(v)) - 1
                    game.play("pass" if q == s.size * s.size else names[(q // s.size + 1) * (s.size + 2) + q % s.size + 1],
                              "B" if v > 0 else "W")
                game.play("pass")
            except ValueError:
                continue
            if game.is_over:
                continue
            out.append(game)
            if len(out) >= count:
                return out
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shards", nargs="+")
    ap.add_argument("--model", default=None, help="default: the bundled network")
    ap.add_argument("--positions", type=int, default=120)
    ap.add_argument("--visits", type=int, nargs="+", default=[200, 600])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    evaluator = make_evaluator(args.model)
    games = positions(args.shards, args.positions, args.seed)
    lost = []
    for g in games:
        sign = 1 if g.to_play == "B" else -1
        lost.append(sign * g.final_score(dead_stones(g)) <= 0)
    report = {"positions": len(games), "pass_loses_the_count": int(sum(lost))}
    for visits in args.visits:
        passes = bad = 0
        for g, losing in zip(games, lost, strict=True):
            p = Player(seed=0)
            p.think(g, evaluator, visits)
            if p.choose() == "pass":
                passes += 1
                bad += losing
        lo, hi = wilson(bad, len(games))
        report[f"visits_{visits}"] = {"passes": passes, "bad_passes": bad, "bad_rate": round(bad / len(games), 3),
                                      "wilson95": [round(lo, 3), round(hi, 3)]}
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
