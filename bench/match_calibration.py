"""How well a network judges the positions of Tengen's own match games: value and score heads against results.

Games: the ``game-NNNN.json`` + ``.sgf`` pairs that ``tengen match --out DIR`` writes, with a winner (void
games and draws are left out). Every ``--every``-th position from ``--from-move`` on (not right after a pass)
is evaluated once by each model (a one-visit search: what ``kata-raw-nn`` reports), for the player to move.
Tengen's side is the engine whose name starts with ``--tengen-prefix``.

Per model and phase (move number ranges) it reports: ``value_acc``, the share of positions whose win rate
(> 0.5) names the game's winner; ``value_logloss`` of that win rate; ``optimism``, the mean win rate of
Tengen's side minus its result (1 won, 0 lost): positive when the network expects more of the positions
Tengen's own search chose than they gave, also split by the side to move (``optimism_tengen_to_move``:
after the opponent's move; ``optimism_opponent_to_move``: after Tengen's); ``score_error``, the median of the score head's lead for Tengen's
side minus the final margin of games counted by points (``score_n`` of them); ``s``, seconds per position.
One JSON line per model and phase, then a table.

Usage: PYTHONPATH=. python bench/match_calibration.py DIR... --models A.pt [B.pt ...] [--every 10]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from go_engine.sgf import read_sgf_file
from selfplay.evaluators import load_evaluator
from selfplay.search import Search

PHASES = ((40, 100), (100, 150), (150, 200), (200, 250), (250, 10_000))


@dataclass
class Phase:
    """The judgements of one model on the positions of one phase."""

    winrates: list[float] = field(default_factory=list)
    won: list[bool] = field(default_factory=list)
    optimism: list[float] = field(default_factory=list)
    tengen_to_move: list[bool] = field(default_factory=list)
    score_errors: list[float] = field(default_factory=list)

    def add(self, win: float, lead: float, won: bool, tengen_to_move: bool | None, margin: float | None) -> None:
        """One position's win rate and lead for the player to move, the result for that player and the
        final margin (None: not counted), and whether Tengen was to move (None: neither side is Tengen)."""
        self.winrates.append(win)
        self.won.append(won)
        if tengen_to_move is not None:
            flip = 1.0 if tengen_to_move else -1.0  # to Tengen's side
            self.optimism.append(flip * (win - float(won)))
            self.tengen_to_move.append(tengen_to_move)
            if margin is not None:
                self.score_errors.append(flip * (lead - margin))

    def row(self) -> dict:
        w = np.clip(np.array(self.winrates), 1e-4, 1 - 1e-4)
        y = np.array(self.won, dtype=float)
        n = len(w)
        opt = np.array(self.optimism)
        mover = np.array(self.tengen_to_move, dtype=bool)
        return {"positions": n,
                "value_acc": round(float(((w > 0.5) == (y > 0.5)).mean()), 3) if n else None,
                "value_logloss": round(float(-(y * np.log(w) + (1 - y) * np.log(1 - w)).mean()), 3) if n else None,
                "optimism": round(float(opt.mean()), 3) if len(opt) else None,
                "optimism_tengen_to_move": round(float(opt[mover].mean()), 3) if mover.any() else None,
                "optimism_opponent_to_move": round(float(opt[~mover].mean()), 3) if (~mover).any() else None,
                "score_error": round(float(np.median(self.score_errors)), 1) if self.score_errors else None,
                "score_n": len(self.score_errors)}


def judge(dirs: Sequence[str], models: Sequence[str], every: int, from_move: int,
          prefix: str) -> tuple[list[dict[tuple[int, int], Phase]], list[float]]:
    """Each model's judgements per phase of the games in the match folders ``dirs``, and its seconds per
    position."""
    evaluators = [load_evaluator(m) for m in models]
    phases = [{p: Phase() for p in PHASES} for _ in models]
    seconds = [0.0 for _ in models]
    for d in dirs:
        for js in sorted(Path(d).glob("game-*.json")):
            info = json.loads(js.read_text())
            sgf = js.with_suffix(".sgf")
            if info.get("winner") is None or not sgf.exists():
                continue
            rec = read_sgf_file(sgf)[0]
            winner = "B" if info["winner"] == info["black"] else "W"
            margin_black = info.get("score") if info.get("reason") == "score" else None
            tengen = {c: str(info[k]).startswith(prefix) for c, k in (("B", "black"), ("W", "white"))}
            g = rec.replay(moves=0)
            for i, (color, vertex) in enumerate(rec.moves):
                if i >= from_move and i % every == 0 and not g.is_over and g.passes == 0:
                    phase = next(p for p in PHASES if p[0] <= i < p[1])
                    won = g.to_play == winner
                    side = tengen[g.to_play] if tengen["B"] != tengen["W"] else None
                    margin = None if margin_black is None else (1 if g.to_play == "B" else -1) * float(margin_black)
                    for k, ev in enumerate(evaluators):
                        t0 = time.perf_counter()
                        s = Search(g, seed=0)
                        s.run(1, ev, batch_size=1)
                        root = s.root_info()
                        seconds[k] += time.perf_counter() - t0
                        phases[k][phase].add(float(root["winrate"]), float(root["scoreLead"]), won, side, margin)
                g.play(vertex, color)
    counts = [sum(len(ph.winrates) for ph in m.values()) for m in phases]
    return phases, [sec / max(n, 1) for sec, n in zip(seconds, counts, strict=True)]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", help="tengen match output folders")
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--every", type=int, default=10, help="judge every N-th position")
    ap.add_argument("--from-move", type=int, default=40)
    ap.add_argument("--tengen-prefix", default="tengen")
    args = ap.parse_args(argv)
    phases, secs = judge(args.dirs, args.models, args.every, args.from_move, args.tengen_prefix)
    table = []
    for model, by_phase, sec in zip(args.models, phases, secs, strict=True):
        for (lo, hi), ph in by_phase.items():
            row = {"model": model, "moves": f"{lo}-{hi if hi < 10_000 else ''}", **ph.row(), "s": round(sec, 4)}
            print(json.dumps(row), flush=True)
            table.append(row)
    print("\n| model | moves | positions | value acc | value log loss | optimism (Tengen / opponent to move) "
          "| score error (median, n) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in table:
        err = "-" if r["score_error"] is None else f"{r['score_error']:+.1f} ({r['score_n']})"
        opt = "-" if r["optimism"] is None else (f"{r['optimism']:+.3f} ({r['optimism_tengen_to_move']:+.3f} / "
                                                 f"{r['optimism_opponent_to_move']:+.3f})")
        acc = "-" if r["value_acc"] is None else f"{r['value_acc']:.3f}"
        ll = "-" if r["value_logloss"] is None or math.isnan(r["value_logloss"]) else f"{r['value_logloss']:.3f}"
        print(f"| {Path(r['model']).name} | {r['moves']} | {r['positions']} | {acc} | {ll} | {opt} | {err} |")


if __name__ == "__main__":
    main()
