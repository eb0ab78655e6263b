"""Play a recorded game on from a position between two GTP engines, then play it out, to see whose count held.

Both engines load the record up to before move ``--from`` (GTP ``loadsgf FILE N``) and play on with
``genmove`` until two passes (or a resignation, or ``--max-moves``); each engine's ``final_score`` is
printed. Then both play ``kgs-genmove_cleanup`` (each captures what it judges dead, passes otherwise),
the player after the last passer first, until two passes, and both counts are printed again: once the
dead stones are off the board the two counts agree, and the one that held tells whose dead-stone
judgement was right. Meant for 19x19 match games that ended by two passes with the engines' counts
naming different winners (``final_scores`` in ``tengen match``'s game JSON).

    python bench/play_out.py runs/match19-v6-open/game-0012.sgf --from 223 --tengen-color B \\
        --tengen "tengen gtp --model runs/final-v6.pt --visits 1000000 --move-seconds 1 --threads 1" \\
        --opponent "/usr/games/gnugo --mode gtp --level 10 --chinese-rules"
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from go_engine.gtp_client import GtpClient  # noqa: E402


def play(engines: dict[str, GtpClient], color: str, command: str, max_moves: int) -> tuple[list[str], str]:
    """Alternate ``command`` (``genmove`` or ``kgs-genmove_cleanup``) from ``color`` until two passes in a
    row, a resignation or ``max_moves``; the moves and the colour that would move next."""
    moves: list[str] = []
    passes = 0
    for _ in range(max_moves):
        other = "W" if color == "B" else "B"
        move = engines[color].send(f"{command} {color}", timeout=300).strip().lower()
        moves.append(f"{color} {move}")
        if move == "resign":
            return moves, other
        engines[other].send(f"play {color} {move}")
        passes = passes + 1 if move == "pass" else 0
        color = other
        if passes == 2:
            break
    return moves, color


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sgf")
    ap.add_argument("--from", dest="start", type=int, required=True, help="play on from before this move")
    ap.add_argument("--tengen-color", choices=("B", "W"), required=True)
    ap.add_argument("--tengen", required=True, help="the Tengen engine's command line")
    ap.add_argument("--opponent", required=True, help="the other engine's command line")
    ap.add_argument("--komi", type=float, default=7.5)
    ap.add_argument("--max-moves", type=int, default=300)
    args = ap.parse_args(argv)
    opp_color = "W" if args.tengen_color == "B" else "B"
    with GtpClient(shlex.split(args.tengen), stderr=sys.stderr) as tengen, GtpClient(shlex.split(args.opponent)) as opp:
        engines = {args.tengen_color: tengen, opp_color: opp}
        for e in (tengen, opp):
            e.send(f"komi {args.komi:g}")
            to_move = e.send(f"loadsgf {args.sgf} {args.start}", timeout=300).strip()
        color = to_move[0].upper()

        def counts() -> str:
            return f"tengen {tengen.send('final_score', timeout=300).strip()}, " \
                   f"opponent {opp.send('final_score', timeout=300).strip()}"

        moves, color = play(engines, color, "genmove", args.max_moves)
        print("played on:", " ".join(moves))
        if moves and moves[-1].endswith("resign"):
            print(f"result: {moves[-1].split()[0]} resigned")
            return 0
        print("counts after two passes:", counts())
        moves, _ = play(engines, color, "kgs-genmove_cleanup", args.max_moves)
        print("played out:", " ".join(moves))
        print("counts once played out:", counts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
