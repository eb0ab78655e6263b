"""Drive an analysis engine with KaTrain's own engine client, headless.

Run with a Python that has KaTrain (PyPI ``katrain``) installed:

    python tests/katrain/drive.py GAME.sgf ENGINE COMMAND LINE...

It loads the game into KaTrain's ``Game`` with a ``KataGoEngine`` whose command is
the engine given (KaTrain's "custom" backend), which sends one analysis query per
node exactly as KaTrain does when a game is opened; then asks for alternatives
(avoidMoves) and a region of interest at the last node, starts a pondering query
and stops it. It prints one JSON object: what KaTrain made of every node
(visits, win rate, score, points lost, candidates, ownership, policy) and every
error or warning KaTrain logged. Kivy is imported but opens no window.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-"))

from katrain.core.constants import OUTPUT_ERROR, OUTPUT_KATAGO_STDERR  # noqa: E402
from katrain.core.engine import KataGoEngine  # noqa: E402
from katrain.core.game import Game, KaTrainSGF  # noqa: E402

CONFIG = {"backend": "custom", "max_visits": 24, "fast_visits": 8, "max_time": 60.0, "wide_root_noise": 0.04,
          "_enable_ownership": True}


class App:
    """What KaTrain's engine and game ask of the application: a log, state updates and settings."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.debug: list[str] = []

    def log(self, message, level=0) -> None:
        if level == OUTPUT_ERROR:
            self.errors.append(str(message))
        elif level != OUTPUT_KATAGO_STDERR:
            self.debug.append(str(message))

    def __call__(self, *args) -> None:  # popups (engine recovery)
        self.errors.append(f"popup: {args}")

    def update_state(self, *args, **kwargs) -> None:
        pass

    def config(self, key, default=None):
        return {"game/rules": "japanese", "game/komi": 6.5, "game/size": 19}.get(key, default)


def wait(engine: KataGoEngine, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if engine.is_idle():
            return True
        time.sleep(0.05)
    return False


def main() -> int:
    sgf, command = sys.argv[1], sys.argv[2:]
    app = App()
    # KaTrain runs a custom command through the shell: exec, so that terminating it ends the engine
    engine = KataGoEngine(app, {**CONFIG, "altcommand": "exec " + " ".join(shlex.quote(c) for c in command)})
    root = KaTrainSGF.parse_file(sgf)
    t0 = time.monotonic()
    game = Game(app, engine, move_tree=root)  # analyses every node, as KaTrain does when a game is opened
    nodes = root.nodes_in_tree
    time.sleep(0.5)
    idle = wait(engine, 600)
    seconds = time.monotonic() - t0
    last = nodes[-1]
    first_candidates = sorted(m["move"] for m in last.candidate_moves)
    last.analyze(engine, find_alternatives=True, priority=100)  # KaTrain's "find alternatives" (avoidMoves)
    wait(engine, 120)
    alternatives = sorted(m["move"] for m in last.candidate_moves)
    region = game.root.board_size
    mid = nodes[len(nodes) // 2]
    mid.analyze(engine, region_of_interest=[0, 4, 0, 4], priority=100)  # a corner only
    wait(engine, 120)
    region_moves = sorted(m["move"] for m in mid.candidate_moves if m.get("order", 999) < 999)
    last.analyze(engine, ponder=True)  # infinite search, reports every 0.25 s, then stopped
    time.sleep(1.5)
    engine.stop_pondering()
    wait(engine, 30)
    report = {
        "idle": idle, "seconds": round(seconds, 1), "board": region,
        "nodes": [{"move": n.move.gtp() if n.move else None, "player": n.move.player if n.move else None,
                   "complete": n.analysis_complete, "visits": n.root_visits, "winrate": n.winrate, "score": n.score,
                   "points_lost": n.points_lost, "candidates": len(n.candidate_moves),
                   "top": n.candidate_moves[0]["move"] if n.candidate_moves else None,
                   "ownership": len(n.ownership or []), "policy": len(n.policy or []),
                   "policy_rank": n.move_policy_stats()[0]} for n in nodes],
        "first_candidates": first_candidates, "alternatives": alternatives, "region_moves": region_moves,
        "ponder_visits": last.root_visits,
        "errors": app.errors, "warnings": [m for m in app.debug if "warning" in m],
    }
    engine.shutdown(finish=False)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
