"""Would more search have saved Tengen's lost games? The collapse of each loss, searched again deeper.

For each game of a ``tengen match`` folder that Tengen lost, its own log gives the win rate of every
move it chose. The collapse is the move after which the win rate fell most at once (the opponent's
reply showed what the search had missed), among moves Tengen still rated at least ``--from`` to win.
From the position before that move, the same network searches again at each of ``--visits`` (one
thread, fresh trees): the move it chooses and the win rate it gives. Where a deeper search rates the
position far lower, or leaves the move played, more visits (a faster backend, bf16, more time) would
have seen the danger; where it still rates the position as won and plays the same, the network itself
misjudges it, and only a better network helps. ``--temperatures`` repeats each search at other policy
temperatures (``--policy-temperature``): whether a flatter prior lets the search find the refutation.
Also printed: the rank and prior the network gives the opponent's refuting reply after the move played.
One JSON line per game, then a summary.

    python bench/blind_spots.py runs/match19-v5-1s --visits 800 6400
    python bench/blind_spots.py runs/match19-v5-1s --visits 800 --temperatures 1 1.5
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


def label(visits: int, temperature: float) -> str:
    """The key of one search setting in the JSON lines: ``v800``, or ``v800-t1.5`` off temperature 1."""
    return f"v{visits}" if temperature == 1.0 else f"v{visits}-t{temperature:g}"


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
    ap.add_argument("--temperatures", type=float, nargs="+", default=[1.0],
                    help="policy temperatures to search at (each with every --visits)")
    ap.add_argument("--model", default=None, help="the network (default: the bundled one)")
    args = ap.parse_args()
    net, _ = load_model(resolve_model(args.model), "cpu")
    engines = {label(v, t): GtpEngine(net, log=io.StringIO(), visits=v, resign_threshold=0, policy_temperature=t)
               for t in args.temperatures for v in args.visits}
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
        for key, eng in engines.items():
            set_up(eng, record.size, record.komi, record.moves[:at])
            move = ask(eng, f"reg_genmove {colour}")
            row[key] = {"move": move, "winrate": round(eng.player.winrate(), 3)}
        ask(eng, f"play {colour} {played}")  # the last engine, on to the position the reply answered
        row["reply_rank"], row["reply_prior"] = reply_rank(eng, record.size, reply)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if rows:
        lo, hi = label(args.visits[0], args.temperatures[0]), label(args.visits[-1], args.temperatures[0])
        fell = [r[lo]["winrate"] - r[hi]["winrate"] for r in rows]
        summary: dict = {"losses": len(rows), "median_reply_rank": statistics.median(r["reply_rank"] for r in rows)}
        for key in engines:
            summary[key] = {"played_move_chosen": sum(r[key]["move"] == r["played"] for r in rows),
                            "winrate_median": statistics.median(r[key]["winrate"] for r in rows),
                            "rated_below_0.5": sum(r[key]["winrate"] < 0.5 for r in rows)}
        if lo != hi:
            summary[f"fell_by_0.2_or_more_{lo}_to_{hi}"] = sum(f >= 0.2 for f in fell)
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
