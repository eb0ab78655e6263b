"""The ``tengen`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path



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
    """A game in the terminal against Tengen's engine."""
    from gtp.engine import build_engine
    from gtp.terminal import play_terminal

    engine = build_engine(args.model, args.device, threads=args.threads, visits=args.visits, size=args.size, komi=args.komi,
                          rules=args.rules, seed=args.seed, resign_threshold=args.resign_threshold)
    return play_terminal(engine, color=args.color)

def cmd_data_build(args: argparse.Namespace) -> int:
    """SGF records in, training shards out: exit 1 when no game is kept, 2 for bad arguments or inputs."""
    from policy.databuild import BuildOptions, build, why_empty

    try:
        opts = BuildOptions(size=None if args.size == 0 else args.size, min_rank=args.min_rank,
                            no_handicap=args.no_handicap, min_moves=args.min_moves,
                            result_known=args.result_known, val_fraction=args.val_fraction)
        summary = build(args.inputs, args.out, opts, workers=args.workers, progress=not args.quiet)
    except ValueError as e:
        print(f"tengen data build: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"tengen data build: error: {e.filename or args.out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1))
    if summary["games_used"] == 0:
        print(f"tengen data build: no game kept: {why_empty(summary, opts)}", file=sys.stderr)
        return 1
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Supervised training from shards."""
    from policy.model import NetConfig
    from policy.modelfile import load_model
    from policy.train import TrainConfig, Trainer, TrainingError

    if args.init:  # the architecture is the starting model's
        net = load_model(args.init)[1].config
        if (args.blocks or net.blocks, args.channels or net.channels) != (net.blocks, net.channels):
            raise ValueError(f"--init {args.init} has {net.blocks} blocks x {net.channels} channels: "
                             "leave --blocks/--channels out or give the same")
    else:
        net = NetConfig(**{k: v for k, v in (("blocks", args.blocks), ("channels", args.channels)) if v is not None})
    cfg = TrainConfig(train=args.train, val=args.val or [], out=args.out, steps=args.steps,
                      batch_size=args.batch_size, sample_rate=args.sample_rate, optimizer=args.optimizer, lr=args.lr,
                      weight_decay=args.weight_decay, warmup_steps=args.warmup, seed=args.seed,
                      eval_every=args.eval_every, eval_positions=args.eval_positions,
                      checkpoint_minutes=args.checkpoint_minutes, device=args.device, compile=args.compile,
                      value_weight=args.value_weight, score_weight=args.score_weight, init=args.init, net=net,
                      minutes=args.minutes, loader_workers=args.loader_workers, komi_relabel=args.komi_relabel,
                      feature_version=args.feature_version)
    try:
        path = Trainer(cfg, resume=args.resume, force=args.force).run()
    except TrainingError as e:
        print(f"tengen train: {e}", file=sys.stderr)
        return 1
    print(f"model written to {path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Validation metrics of a model on shards."""
    from policy.train import eval_model

    print(json.dumps(eval_model(args.model, args.data, args.device, args.limit), indent=1))
    return 0


def cmd_gtp(args: argparse.Namespace) -> int:
    """A GTP engine on stdin/stdout, for GUIs and servers."""
    from gtp.engine import run_gtp

    return run_gtp(model=args.model, device=args.device, threads=args.threads, visits=args.visits,
                   resign_threshold=args.resign_threshold, playouts=args.playouts, size=args.size, komi=args.komi,
                   rules=args.rules, seed=args.seed, analysis_interval=args.analysis_interval, ponder=args.ponder,
                   move_seconds=args.move_seconds, random_moves=args.random_moves, dead_stones=args.dead_stones)


def cmd_analysis(args: argparse.Namespace) -> int:
    """KataGo's JSON analysis engine on stdin/stdout, for KaTrain and review tools."""
    from gtp.analysis_engine import run_analysis

    return run_analysis(model=args.model, device=args.device, threads=args.threads, playouts=args.playouts,
                        cache=args.cache, max_visits=args.visits, positions=args.positions, leaves=args.leaves,
                        report_as=args.report_as, seed=args.seed)


def cmd_review(args: argparse.Namespace) -> int:
    """Every move of a game analysed: an annotated SGF and a graph."""
    from gtp.review import run_review

    return run_review(args.sgf, model=args.model, device=args.device, threads=args.threads, visits=args.visits,
                      out=args.out, png=args.png, game=args.game, mistakes=args.mistakes,
                      positions=args.positions, progress=not args.quiet)


def cmd_match(args: argparse.Namespace) -> int:
    """Games between two GTP engines, refereed, with a summary and intervals."""
    from go_engine.gtp_client import Limit
    from selfplay.match import MatchConfig, run_match, summary

    cfg = MatchConfig(engines=(args.engine_a, args.engine_b), names=tuple(args.names), games=args.games,
                      size=args.size, komi=args.komi, rules=args.rules,
                      limit=Limit(seconds=args.move_time, grace=args.grace, hard=args.hard_limit),
                      max_moves=args.max_moves, scorer=args.scorer, parallel=args.parallel, out=args.out)
    results = run_match(cfg)
    text = summary(cfg, results)
    print(text)
    (Path(args.out) / "summary.txt").write_text(text + "\n")
    return 0


def cmd_selfplay(args: argparse.Namespace) -> int:
    """Self-play games written as SGF and training shards."""
    from selfplay.selfplay import SelfPlayConfig, run_selfplay

    cfg = SelfPlayConfig(size=args.size, komi=args.komi, komi_stdev=args.komi_stdev, rules=args.rules,
                         full_visits=args.full_visits, fast_visits=args.fast_visits, full_fraction=args.full_fraction,
                         parallel=args.parallel, resign_threshold=args.resign_threshold,
                         no_resign_fraction=args.no_resign_fraction)
    summary = run_selfplay(args.model, cfg, args.games, args.out, workers=args.workers, device=args.device,
                           seed=args.seed)
    text = json.dumps(summary, indent=1)
    print(text)
    from go_engine.atomic import atomic_write_bytes

    atomic_write_bytes(Path(args.out) / "summary.json", text.encode())
    return 0


def cmd_loop_run(args: argparse.Namespace) -> int:
    """Self-play -> training -> evaluation, generation after generation, resumable."""
    from selfplay.loop import LoopConfig, report, run_loop
    from selfplay.selfplay import SelfPlayConfig

    sp = SelfPlayConfig(size=args.size, komi=args.komi, rules=args.rules, full_visits=args.full_visits,
                        fast_visits=args.fast_visits, full_fraction=args.full_fraction, parallel=args.parallel)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.ray_address:
        from selfplay.distributed import connect_ray

        connect_ray(args.ray_address)
    cfg = LoopConfig(generations=args.generations,
                     minutes=args.minutes,
                     games=args.games, window=args.window, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                     blocks=args.blocks, channels=args.channels, init=args.init, selfplay=sp, workers=args.workers,
                     ray_actors=args.ray_actors, train_procs=args.train_procs,
                     eval_games=args.eval_games, eval_visits=args.eval_visits, gate=args.gate,
                     gnugo_every=args.gnugo_every, gnugo_levels=tuple(args.gnugo_levels),
                     gnugo_games=args.gnugo_games, seed=args.seed)
    run_loop(args.run, cfg)
    print(report(args.run))
    return 0


def cmd_loop_eval(args: argparse.Namespace) -> int:
    """The last network of a run against its first and against GNU Go, with 95% intervals."""
    from selfplay.loop import final_eval

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    res = final_eval(args.run, games=args.games, visits=args.visits, opponent=args.opponent,
                     gnugo_levels=tuple(args.gnugo_levels), gnugo_games=args.gnugo_games, parallel=args.parallel,
                     against=args.against)
    print(json.dumps(res, indent=1))
    return 0


def cmd_loop_report(args: argparse.Namespace) -> int:
    """The rating table and plot of a loop's run folder."""
    from selfplay.loop import report

    print(report(args.run, args.png))
    return 0


def _shown(default: object) -> bool:
    """Whether help shows this default (not for an option that is off or unset by default)."""
    return default is not None and default is not False and default != argparse.SUPPRESS


class _DefaultsHelp(argparse.HelpFormatter):
    """Help that ends each option with its default, when it has one and does not say it already."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if _shown(action.default) and action.option_strings and "default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """A parser whose help shows the defaults; ``add_subparsers`` makes the subcommands' of this class too."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _DefaultsHelp)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs) -> argparse.Action:
        if kwargs.get("help") is None and _shown(kwargs.get("default")):
            kwargs["help"] = "default: %(default)s"  # an option without a description still shows its default
        return super().add_argument(*args, **kwargs)


def _defaults(fn) -> dict:
    """The default values of ``fn``'s parameters (a function, or a class and its constructor)."""
    return {k: v.default for k, v in inspect.signature(fn).parameters.items() if v.default is not v.empty}


def build_parser() -> argparse.ArgumentParser:
    """The command line. Defaults come from the classes and functions that own them, not from here."""
    from go_engine import Game
    from go_engine.features import FEATURE_PLANES, FEATURE_VERSION
    from go_engine.gtp_client import Limit
    from gtp.state import DEAD_STONE_SOURCES, EngineOptions
    from selfplay.loop import LoopConfig, final_eval
    from selfplay.match import MatchConfig
    from selfplay.selfplay import SelfPlayConfig

    parser = _Parser(prog="tengen", description="Tengen, a Go program that learns.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("playouts", help="benchmark random playouts (the rules engine's speed)")
    p.add_argument("--size", type=int, nargs="+", default=[9, 19], help="board sizes")
    p.add_argument("--seconds", type=float, default=3.0, help="time per size")
    p.add_argument("--batch", type=int, default=500, help="playouts per kernel call")
    p.add_argument("--komi", type=float, default=_defaults(Game)["komi"])
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_playouts)

    eo = EngineOptions()
    p = sub.add_parser("gtp", help="serve the Go Text Protocol on stdin/stdout (for Sabaki, Lizzie, GoGui...)")
    p.add_argument("--model", default=None,
                   help="model file (default: $TENGEN_MODEL, else the bundled network); none: random playouts")
    p.add_argument("--visits", type=int, default=eo.visits,
                   help="search visits per move when no time is set; 1: no search, the network's most likely move")
    p.add_argument("--playouts", type=int, default=eo.playouts, help="random playouts per leaf without a model")
    p.add_argument("--resign-threshold", type=float, default=eo.resign_threshold,
                   help="win rate to resign at; 0 never resigns")
    p.add_argument("--size", type=int, default=eo.size)
    p.add_argument("--komi", type=float, default=eo.komi)
    p.add_argument("--rules", default=eo.rules)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the network (default: torch's)")
    p.add_argument("--analysis-interval", type=float, default=eo.analysis_interval,
                   help="seconds between analysis lines when the request names no interval")
    p.add_argument("--move-seconds", type=float, default=eo.move_seconds,
                   help="seconds per move when the GUI sets no clock (the visit cap still applies)")
    p.add_argument("--ponder", action="store_true", help="search on the opponent's time (keeps the tree)")
    p.add_argument("--random-moves", type=int, default=eo.random_moves,
                   help="draw the first N moves of a game in proportion to the search's visits (as Leela Zero's "
                        "--randomcnt), so that matches between deterministic engines do not repeat games")
    p.add_argument("--seed", type=int, default=eo.seed,
                   help="seed of the searches and of those draws (default: searches 0, draws fresh each run)")
    p.add_argument("--dead-stones", choices=DEAD_STONE_SOURCES, default=eo.dead_stones,
                   help="how the count tells dead stones: random playouts, or the network's ownership through a "
                        "short search (for a network trained on settled ownership)")
    p.add_argument("--config", default=None, help="TOML file of these options (top level or a [gtp] table)")
    p.set_defaults(func=cmd_gtp)

    p = sub.add_parser("analysis", help="KataGo's JSON analysis engine on stdin/stdout (for KaTrain and tools)")
    p.add_argument("--model", default=None, help="as for tengen gtp; none: random playouts")
    p.add_argument("--visits", type=int, default=500, help="visits per position when a query sets no maxVisits")
    p.add_argument("--positions", type=int, default=32, help="positions searched at once (their leaves share "
                   "each network call)")
    p.add_argument("--leaves", type=int, default=4, help="leaves each position adds to a network call")
    p.add_argument("--cache", type=int, default=1 << 15, help="positions whose network answers are kept "
                   "(neighbouring positions of a game share lines); 0: none")
    p.add_argument("--report-as", default="SIDETOMOVE", choices=["BLACK", "WHITE", "SIDETOMOVE"],
                   help="whose view winrates, scores and ownership take (a query's reportAnalysisWinratesAs wins)")
    p.add_argument("--playouts", type=int, default=4, help="random playouts per leaf without a model")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the network (default: torch's)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_analysis)

    p = sub.add_parser("review", help="analyse every move of a game: SGF with win rates, scores and mistakes, "
                       "and a graph")
    p.add_argument("sgf", help="the game (SGF)")
    p.add_argument("--visits", type=int, default=100, help="visits per position")
    p.add_argument("--out", default=None, help="reviewed SGF (default: GAME-review.sgf beside the game)")
    p.add_argument("--png", default=None, help="graph of win rate and score (default: the SGF's name, .png)")
    p.add_argument("--game", type=int, default=1, help="which game of the file, from 1")
    p.add_argument("--mistakes", type=int, default=5, help="largest mistakes marked per player")
    p.add_argument("--positions", type=int, default=32, help="positions searched at once")
    p.add_argument("--model", default=None, help="as for tengen gtp; none: random playouts")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the network (default: torch's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("match", help="play two GTP engines against each other")
    p.add_argument("engine_a", help="command line of the first engine, e.g. 'tengen gtp --visits 100'")
    p.add_argument("engine_b", help="command line of the second, e.g. '/usr/games/gnugo --mode gtp --level 10'")
    mc, limit = _defaults(MatchConfig), Limit()
    p.add_argument("--names", nargs=2, default=list(mc["names"]), metavar=("NAME_A", "NAME_B"))
    p.add_argument("--games", type=int, default=mc["games"], help="games; A takes Black in even-numbered ones")
    p.add_argument("--size", type=int, default=mc["size"])
    p.add_argument("--komi", type=float, default=mc["komi"])
    p.add_argument("--rules", default=mc["rules"], help="the referee's rules (legality)")
    p.add_argument("--move-time", type=float, default=limit.seconds,
                   help="seconds per move, told to the engines and enforced (default: no limit)")
    p.add_argument("--grace", type=float, default=limit.grace, help="seconds allowed over --move-time")
    p.add_argument("--hard-limit", type=float, default=limit.hard, help="without --move-time: a move this slow loses")
    p.add_argument("--max-moves", type=int, default=mc["max_moves"], help="then score as it stands (default 3*size^2)")
    p.add_argument("--scorer", default=mc["scorer"],
                   help="tromp-taylor, or a GTP engine command whose final_score decides")
    p.add_argument("--parallel", type=int, default=mc["parallel"], help="games at once")
    p.add_argument("--out", required=True, help="folder for SGF and results (a rerun resumes)")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("selfplay", help="self-play games for training (SGF + shards)")
    p.add_argument("--out", required=True, help="folder of finished games (a rerun resumes)")
    p.add_argument("--games", type=int, required=True, help="finished games the folder should hold")
    p.add_argument("--model", default=None, help="as for tengen gtp; none: uniform priors, value 0")
    sp = SelfPlayConfig()
    p.add_argument("--size", type=int, default=sp.size)
    p.add_argument("--komi", type=float, default=sp.komi, help="the mean komi (default %(default)s)")
    p.add_argument("--komi-stdev", type=float, default=sp.komi_stdev,
                   help="spread of each game's komi around --komi, in points (default: size / 3; 0: fixed)")
    p.add_argument("--rules", default=sp.rules)
    p.add_argument("--full-visits", type=int, default=sp.full_visits, help="visits of a full search (a policy target)")
    p.add_argument("--fast-visits", type=int, default=sp.fast_visits, help="visits of a fast search")
    p.add_argument("--full-fraction", type=float, default=sp.full_fraction, help="share of moves with a full search")
    p.add_argument("--parallel", type=int, default=sp.parallel, help="games in progress at once per worker")
    p.add_argument("--workers", type=int, default=1, help="processes")
    p.add_argument("--resign-threshold", type=float, default=sp.resign_threshold, help="win rate to resign at")
    p.add_argument("--no-resign-fraction", type=float, default=sp.no_resign_fraction,
                   help="share of games played out to measure wrong resignations")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_selfplay)

    loop = sub.add_parser("loop", help="the self-play learning loop").add_subparsers(
        dest="loop_command", required=True, metavar="ACTION")
    lc = LoopConfig()
    p = loop.add_parser("run", help="run or resume a loop in a run folder")
    p.add_argument("run", help="run folder (a rerun resumes)")
    p.add_argument("--generations", type=int, default=lc.generations)
    p.add_argument("--minutes", type=float, default=lc.minutes,
                   help="start no new generation after this many minutes of the loop's time")
    p.add_argument("--threads", type=int, default=None, help="torch threads in this process (default: all cores)")
    p.add_argument("--games", type=int, default=lc.games, help="self-play games per generation")
    p.add_argument("--window", type=int, default=lc.window, help="train on the games of this many latest generations")
    p.add_argument("--steps", type=int, default=lc.steps, help="training steps per generation")
    p.add_argument("--batch-size", type=int, default=lc.batch_size)
    p.add_argument("--lr", type=float, default=lc.lr)
    p.add_argument("--blocks", type=int, default=lc.blocks, help="residual blocks of the first network")
    p.add_argument("--channels", type=int, default=lc.channels, help="channels of the first network")
    p.add_argument("--init", default=lc.init, help="start from this model (e.g. the bundled 19x19 network)")
    p.add_argument("--size", type=int, default=lc.selfplay.size)
    p.add_argument("--komi", type=float, default=lc.selfplay.komi)
    p.add_argument("--rules", default=lc.selfplay.rules)
    p.add_argument("--full-visits", type=int, default=lc.selfplay.full_visits)
    p.add_argument("--fast-visits", type=int, default=lc.selfplay.fast_visits)
    p.add_argument("--full-fraction", type=float, default=lc.selfplay.full_fraction,
                   help="share of moves with a full search")
    p.add_argument("--parallel", type=int, default=lc.selfplay.parallel, help="self-play games at once per worker")
    p.add_argument("--workers", type=int, default=lc.workers, help="self-play processes on this machine")
    p.add_argument("--ray-actors", type=int, default=lc.ray_actors,
                   help="self-play on this many Ray actors instead (pip install .[distributed])")
    p.add_argument("--ray-address", default=None,
                   help="the Ray cluster to join (e.g. auto, or HOST:6379); default: a local one")
    p.add_argument("--train-procs", type=int, default=lc.train_procs,
                   help="train under torchrun with this many processes (GPUs, or CPU processes with gloo)")
    p.add_argument("--eval-games", type=int, default=lc.eval_games)
    p.add_argument("--eval-visits", type=int, default=lc.eval_visits)
    p.add_argument("--gate", type=float, default=lc.gate, help="score a new network needs against the best")
    p.add_argument("--gnugo-every", type=int, default=lc.gnugo_every, help="generations between GNU Go matches (0: never)")
    p.add_argument("--gnugo-levels", type=int, nargs="+", default=list(lc.gnugo_levels))
    p.add_argument("--gnugo-games", type=int, default=lc.gnugo_games)
    p.add_argument("--seed", type=int, default=lc.seed)
    p.set_defaults(func=cmd_loop_run)
    fe = _defaults(final_eval)
    p = loop.add_parser("eval", help="the last network against the first and against GNU Go")
    p.add_argument("run")
    p.add_argument("--games", type=int, default=fe["games"], help="games against the opponent network (in-process)")
    p.add_argument("--visits", type=int, default=fe["visits"])
    p.add_argument("--opponent", type=int, default=fe["opponent"], help="generation to play against")
    p.add_argument("--against", default=fe["against"], help="a model file to play against instead (e.g. another run's)")
    p.add_argument("--gnugo-levels", type=int, nargs="*", default=list(fe["gnugo_levels"]))
    p.add_argument("--gnugo-games", type=int, default=fe["gnugo_games"])
    p.add_argument("--parallel", type=int, default=fe["parallel"], help="GNU Go games at once")
    p.add_argument("--threads", type=int, default=None, help="torch threads in this process")
    p.set_defaults(func=cmd_loop_eval)
    p = loop.add_parser("report", help="rating table and PNG of a run")
    p.add_argument("run")
    p.add_argument("--png", default=None, help="default: RUN/rating.png")
    p.set_defaults(func=cmd_loop_report)

    p = sub.add_parser("play", help="play a game in the terminal")
    p.add_argument("--size", type=int, default=eo.size)
    p.add_argument("--komi", type=float, default=eo.komi)
    p.add_argument("--rules", default=eo.rules)
    p.add_argument("--color", default="B", help="your colour, B or W")
    p.add_argument("--model", default=None, help="as for tengen gtp")
    p.add_argument("--visits", type=int, default=eo.visits, help="Tengen's search visits per move")
    p.add_argument("--resign-threshold", type=float, default=eo.resign_threshold,
                   help="win rate to resign at; 0 never resigns")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the network (default: torch's)")
    p.add_argument("--seed", type=int, default=eo.seed, help="seed of the searches (default: 0)")
    p.add_argument("--config", default=None, help="TOML file of these options (top level or a [play] table)")
    p.set_defaults(func=cmd_play)

    data = sub.add_parser("data", help="training data").add_subparsers(dest="data_command", required=True,
                                                                       metavar="ACTION")
    p = data.add_parser("build", help="turn SGF files, folders and archives into training shards")
    p.add_argument("inputs", nargs="+", help="SGF files, folders (recursive), .zip/.tar.gz archives")
    p.add_argument("--out", required=True, help="output folder (a rerun with the same arguments resumes)")
    p.add_argument("--size", type=int, default=19, help="board size to keep; 0 keeps every size")
    p.add_argument("--min-rank", default=None, help="keep games whose players are both at least this rank, e.g. 5d")
    p.add_argument("--no-handicap", action="store_true", help="drop handicap games")
    p.add_argument("--min-moves", type=int, default=0, help="drop games with fewer moves")
    p.add_argument("--result-known", action="store_true", help="drop games without a known winner")
    p.add_argument("--val-fraction", type=float, default=0.02, help="share of games held out for validation")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_data_build)

    p = sub.add_parser("train", help="train the network on shards")
    p.add_argument("train", nargs="+", help="training shards or folders")
    p.add_argument("--val", nargs="*", help="validation shards or folders")
    p.add_argument("--out", required=True, help="run folder: checkpoint, metrics.jsonl, model.pt")
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--sample-rate", type=float, default=1.0,
                   help="share of each game's positions to train on (fewer, less correlated positions)")
    p.add_argument("--optimizer", choices=["sgd", "adamw"], default="sgd")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--value-weight", type=float, default=1.0)
    p.add_argument("--score-weight", type=float, default=0.02)
    p.add_argument("--blocks", type=int, default=None, help="residual blocks (default: NetConfig's, or --init's)")
    p.add_argument("--channels", type=int, default=None, help="channels (default: NetConfig's, or --init's)")
    p.add_argument("--eval-every", type=int, default=1000)
    p.add_argument("--eval-positions", type=int, default=20000)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--compile", action="store_true", help="torch.compile on CUDA")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--force", action="store_true", help="replace an earlier run in --out (default: refuse)")
    p.add_argument("--init", default=None,
                   help="start from this model's weights (same blocks and channels; an earlier feature version's "
                        "model gets zero weights for the new input planes)")
    p.add_argument("--minutes", type=float, default=None,
                   help="time budget: stop after it, with the learning-rate schedule ending then (default: none)")
    p.add_argument("--loader-workers", type=int, default=0,
                   help="processes that replay games into batches (default 0: the training process itself)")
    p.add_argument("--komi-relabel", type=float, default=0.5,
                   help="share of counted games trained under a new komi, their results relabelled (default 0.5)")
    p.add_argument("--feature-version", type=int, default=FEATURE_VERSION, choices=sorted(FEATURE_PLANES),
                   help="input features (docs/features.md; default %(default)s)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="move-prediction and value metrics of a model")
    p.add_argument("model")
    p.add_argument("data", nargs="+", help="shards or folders")
    p.add_argument("--device", default="auto")
    p.add_argument("--limit", type=int, default=10 ** 9, help="at most this many positions")
    p.set_defaults(func=cmd_eval)
    return parser


def load_config(path: str, command: str) -> dict:
    """Options from a TOML file: top-level keys, then those of the ``[COMMAND]`` table over them."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise ValueError("--config needs Python 3.11 or later (tomllib)") from None
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ValueError(f"--config {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"--config {path}: not valid TOML: {e}") from None
    values = {k: v for k, v in data.items() if not isinstance(v, dict)}
    values.update(data.get(command, {}))
    return {k.replace("-", "_"): v for k, v in values.items()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; with ``--config FILE`` its values become defaults that the line overrides."""
    parser = build_parser()
    args = parser.parse_args(argv)
    path = getattr(args, "config", None)
    if not path:
        return args
    values = load_config(path, args.command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[args.command]
    known = {a.dest for a in sub._actions} - {"help", "config", "func"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"--config {path}: unknown option(s) for tengen {args.command}: {', '.join(unknown)}")
    sub.set_defaults(**values)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    # OpenMP threads that sleep instead of spinning while they wait: torch's default busy-waiting
    # made a search 30x slower (11.8 s instead of 0.4 s for 200 visits) when another program,
    # such as the opponent engine, was using the cores. Set before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        args = parse_args(argv)
    except ValueError as e:
        print(f"tengen: error: {e}", file=sys.stderr)
        return 2
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
