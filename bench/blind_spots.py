"""Would more search have saved Tengen's lost games? The collapse of each loss, searched again deeper.

For each game of a ``tengen match`` folder that Tengen lost, its own log gives the win rate of every
move it chose. The collapse is the move after which the win rate fell most at once (the opponent's
reply showed what the search had missed), among moves Tengen still rated at least ``--from`` to win.
From the position before that move, the same network searches again at each of ``--visits`` (one
thread, fresh trees): the move it chooses and the win rate it gives. Where a deeper search rates the
position far lower, or leaves the move played, more visits (a faster backend, bf16, more time) would
have seen the danger; where it still rates the position as won and plays the same, the network itself
misjudges it, and only a better network helps. Also printed: the rank and prior the network gives the
opponent's refuting reply after the move played. One JSON line per game, then a summary.

    python bench/blind_spots.py runs/match19-v5-1s --visits 800 6400
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from go_engine.coords import move_index, parse_vertex  # noqa: E402
from go_engine.sgf import parse_sgf  # noqa: E402
from gtp.engine import GtpEngine  # noqa: E402
from policy.modelfile import load_model, resolve_model  # noqa: E402

LOGGED = re.compile(r"genmove [BW]: (\S+) winrate ([\d.]+)")


def collapse(winrates: list[float], floor: float) -> int | None:
    """The index of the move after which the win rate fell most from one move to the next, among
    moves rated at least ``floor``; None when no move fell."""
    drops = [(winrates[i] - winrates[i + 1], i) for i in range(len(winrates) - 1) if winrates[i] >= floor]
    best = max(drops, default=(0.0, None))
    return best[1] if best[0] > 0 else None


def ask(eng: GtpEngine, line: str) -> str:
    """The text of ``eng``'s answer to the GTP request ``line``; a refusal stops the script."""
    framed, ok, _ = eng.handle(line)
    text = (framed or "").strip()[1:].strip()
    if not ok:
        raise SystemExit(f"blind_spots.py: {line!r}: {text}")
    return text


def set_up(eng: GtpEngine, size: int, komi: float, moves: list[tuple[str, str]]) -> None:
    """``eng`` at the position after ``moves``."""
    for line in (f"boardsize {size}", "clear_board", f"komi {komi}", *(f"play {c} {v}" for c, v in moves)):
        ask(eng, line)


def reply_rank(eng: GtpEngine, size: int, reply: str) -> tuple[int, float]:
    """Rank among the board's points (1: the favourite) and prior of ``reply`` in the network's policy
    at ``eng``'s position."""
    answer = ask(eng, "kata-raw-nn 0").split()
    start = answer.index("policy") + 1
    listed = np.array([-1.0 if x == "NAN" else float(x) for x in answer[start:start + size * size]])
    board = np.flipud(listed.reshape(size, size)).ravel()  # kata-raw-nn lists the top row first
    policy = np.append(board, float(answer[answer.index("policyPass") + 1]))  # the network's move order
    prior = float(policy[move_index(parse_vertex(reply, size), size)])
    return int((board > prior).sum()) + 1, prior


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a tengen match folder (game-*.json, game-*.sgf, logs/)")
    ap.add_argument("--engine", default="tengen", help="the prefix of Tengen's player name in the match")
    ap.add_argument("--visits", type=int, nargs="+", default=[800, 6400])
    ap.add_argument("--from", dest="floor", type=float, default=0.5, help="only collapses from this win rate up")
    ap.add_argument("--model", default=None, help="the network (default: the bundled one)")
    args = ap.parse_args()
    net, _ = load_model(resolve_model(args.model), "cpu")
    engines = {v: GtpEngine(net, log=io.StringIO(), visits=v, resign_threshold=0) for v in args.visits}
    rows = []
    for meta_path in sorted(args.folder.glob("game-*.json")):
        meta = json.loads(meta_path.read_text())
        colour = "B" if meta["black"].startswith(args.engine) else "W"
        name = meta["black"] if colour == "B" else meta["white"]
        if meta["winner"] is None or str(meta["winner"]).startswith(args.engine):
            continue
        log = args.folder / "logs" / f"{meta_path.stem}-{name}.log"
        if not log.exists():
            continue
        logged = LOGGED.findall(log.read_text())
        k = collapse([float(w) for _, w in logged], args.floor)
        record = parse_sgf(meta_path.with_suffix(".sgf").read_bytes(), source=str(meta_path))[0]
        ours = [i for i, (c, _) in enumerate(record.moves) if c == colour]
        if k is None or k + 1 >= len(ours):
            continue
        at = ours[k]  # the move of the collapse, in the whole game
        played, reply = record.moves[at][1], record.moves[at + 1][1]
        row = {"game": meta_path.stem, "move": at + 1, "played": played, "reply": reply,
               "logged": [float(logged[k][1]), float(logged[k + 1][1])]}
        for visits, eng in engines.items():
            set_up(eng, record.size, record.komi, record.moves[:at])
            move = ask(eng, f"reg_genmove {colour}")
            row[f"v{visits}"] = {"move": move, "winrate": round(eng.player.winrate(), 3)}
        ask(eng, f"play {colour} {played}")  # the last engine, on to the position the reply answered
        row["reply_rank"], row["reply_prior"] = reply_rank(eng, record.size, reply)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if rows:
        lo, hi = args.visits[0], args.visits[-1]
        fell = [r[f"v{lo}"]["winrate"] - r[f"v{hi}"]["winrate"] for r in rows]
        print(json.dumps({"losses": len(rows), "median_reply_rank": statistics.median(r["reply_rank"] for r in rows),
                          **{f"played_move_chosen_at_{v}": sum(r[f"v{v}"]["move"] == r["played"] for r in rows)
                             for v in args.visits},
                          f"winrate_{lo}_median": statistics.median(r[f"v{lo}"]["winrate"] for r in rows),
                          f"winrate_{hi}_median": statistics.median(r[f"v{hi}"]["winrate"] for r in rows),
                          f"rated_below_0.5_at_{hi}": sum(r[f"v{hi}"]["winrate"] < 0.5 for r in rows),
                          "fell_by_0.2_or_more": sum(f >= 0.2 for f in fell)}))


if __name__ == "__main__":
    main()
