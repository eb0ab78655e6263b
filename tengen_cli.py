"""The ``tengen`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def cmd_playouts(args: argparse.Namespace) -> int:
    """Random-playout benchmark: playouts/s from the empty board for each size."""
    from go_engine import Game
    from go_engine.playout import random_playouts

    for size in args.size:
        game = Game(size=size, komi=args.komi)
        t0 = time.perf_counter()
        random_playouts(game, 1, seed=0)  # compile or load the kernels
        warm = time.perf_counter() - t0
        done, moves, t0 = 0, 0, time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            r = random_playouts(game, args.batch, seed=args.seed + done)
            done += args.batch
            moves += r.moves
        dt = time.perf_counter() - t0
        print(json.dumps({"size": size, "playouts": done, "playouts_per_s": round(done / dt, 1),
                          "moves_per_s": round(moves / dt), "first_call_s": round(warm, 3)}), flush=True)
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    """A game in the terminal against a network-free player."""
    from gtp.terminal import play_terminal

    return play_terminal(size=args.size, komi=args.komi, rules=args.rules, color=args.color,
                         opponent=args.opponent, playouts=args.playouts, seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tengen", description="Tengen, a Go program that learns.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("playouts", help="benchmark random playouts (the rules engine's speed)")
    p.add_argument("--size", type=int, nargs="+", default=[9, 19], help="board sizes (default: 9 19)")
    p.add_argument("--seconds", type=float, default=3.0, help="time per size")
    p.add_argument("--batch", type=int, default=500, help="playouts per kernel call")
    p.add_argument("--komi", type=float, default=7.5)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_playouts)

    p = sub.add_parser("play", help="play a game in the terminal")
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--komi", type=float, default=7.0)
    p.add_argument("--rules", default="chinese")
    p.add_argument("--color", default="B", help="your colour, B or W")
    p.add_argument("--opponent", choices=["mc", "random"], default="mc",
                   help="mc: flat Monte Carlo over random playouts; random: uniform random moves")
    p.add_argument("--playouts", type=int, default=32, help="playouts per candidate move (mc)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_play)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ValueError as e:
        print(f"tengen {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
