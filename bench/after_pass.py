"""What Tengen played after its opponent's passes in recorded matches, and what the settled rule changes.

For each match folder written by ``tengen match`` (``game-*.json`` and ``game-*.sgf``), this replays
every game and looks at each position where the opponent has just passed and Tengen is to move. It
reports how many of Tengen's moves there were not passes (playing on), how many games reach a
position that genmove now ends at once (``gtp.state.SETTLED``: random playouts agree on every
point's owner, and Tengen's count with dead stones removed does not win), how many of Tengen's moves
came from that position on, and every game that ended better for Tengen than its count there (the
games the rule would have thrown away). It also lists the positions where the count with dead stones
judged with Tengen to move and the count judged with the opponent to move (the position after a pass
of Tengen's, which genmove's pass decisions use) disagree on who wins, with the game's result.

    python bench/after_pass.py runs/match9-mix runs/match9-v3-vs-mix
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from go_engine.sgf import parse_sgf  # noqa: E402
from gtp.engine import GtpEngine  # noqa: E402
from gtp.state import count_for  # noqa: E402


def folder_report(folder: Path, engine_prefix: str) -> dict:
    """The counts above for one match folder; ``engine_prefix`` names Tengen's player."""
    play_on = triggered = after_trigger = 0
    thrown: list[str] = []
    disagree: list[str] = []
    judge = GtpEngine(log=io.StringIO())  # genmove's own estimates, by random playouts
    for meta_path in sorted(folder.glob("game-*.json")):
        meta = json.loads(meta_path.read_text())
        colour = "B" if meta["black"].startswith(engine_prefix) else "W"
        outcome = 0 if meta["winner"] is None else 1 if str(meta["winner"]).startswith(engine_prefix) else -1
        record = parse_sgf(meta_path.with_suffix(".sgf").read_bytes(), source=str(meta_path))[0]
        game = record.replay(moves=0)
        trigger = None
        for i, (c, move) in enumerate(record.moves):
            if c == colour and i and record.moves[i - 1][0] != colour and record.moves[i - 1][1] == "pass":
                if trigger is None:
                    count = judge.settled_count(game, colour)
                    if count is not None and count <= 0:
                        trigger = i
                        if outcome > (count > 0) - (count < 0):
                            thrown.append(f"{meta_path.name}: count {count:+g} at move {i + 1}, {meta['result']}")
                if move != "pass":
                    play_on += 1
                ours = count_for(game, colour, judge.dead_stones(game))
                after = game.copy()
                after.play("pass", colour)
                theirs = count_for(game, colour, judge.dead_stones(after))
                if (ours > 0) != (theirs > 0):
                    disagree.append(f"{meta_path.name} move {i + 1} {move}: {ours:+g} with Tengen to move, "
                                    f"{theirs:+g} with the opponent to move; {meta['result']}")
            if trigger is not None and c == colour:
                after_trigger += 1
            game.play(move, c)
        triggered += trigger is not None
    return {"folder": str(folder), "play_on_moves": play_on, "games_settled": triggered,
            "moves_from_settled": after_trigger, "ended_better_than_count": thrown, "views_disagree": disagree}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--engine", default="tengen", help="the prefix of Tengen's player name in the match")
    args = ap.parse_args()
    for folder in args.folders:
        print(json.dumps(folder_report(folder, args.engine), indent=1))


if __name__ == "__main__":
    main()
