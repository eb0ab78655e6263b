"""The ``tengen`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

from go_engine import __version__
from go_engine.compile_notice import compile_notice
from go_engine.coords import MAX_SIZE, MIN_SIZE
from go_engine.game import check_komi, parse_color
from go_engine.rules import PRESETS, get_rules


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

    with open(args.log or os.devnull, "a", encoding="utf-8") as log:  # never between the board's lines
        engine = build_engine(args.model, args.device, threads=args.threads, backend=args.backend,
                              precision=args.precision, visits=args.visits, size=args.size, komi=args.komi,
                              rules=args.rules, seed=args.seed, resign_threshold=args.resign_threshold, log=log)
        return play_terminal(engine, color=args.color)


def cmd_data_build(args: argparse.Namespace) -> int:
    """SGF records in, training shards out: exit 1 when no game is kept, 2 for bad arguments or inputs."""
    from policy.data.build import BuildOptions, build, why_empty

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

    if args.init:  # the starting model's architecture, perhaps deepened (the Trainer refuses what cannot start from it)
        net = load_model(args.init)[1].config
        net = replace(net, blocks=args.blocks or net.blocks, channels=args.channels or net.channels)
    else:
        net = NetConfig(**{k: v for k, v in (("blocks", args.blocks), ("channels", args.channels)) if v is not None})
    cfg = TrainConfig(train=args.train, val=args.val or [], out=args.out, steps=args.steps,
                      batch_size=args.batch_size, sample_rate=args.sample_rate, optimizer=args.optimizer, lr=args.lr,
                      weight_decay=args.weight_decay, warmup_steps=args.warmup, seed=args.seed,
                      eval_every=args.eval_every, eval_positions=args.eval_positions,
                      checkpoint_minutes=args.checkpoint_minutes, device=args.device, compile=args.compile,
                      value_weight=args.value_weight, score_weight=args.score_weight, init=args.init, net=net,
                      minutes=args.minutes, loader_workers=args.loader_workers, komi_relabel=args.komi_relabel,
                      feature_version=args.feature_version, precision=args.precision,
                      size_shares=dict(args.size_share), source_shares=dict(args.source_share),
                      freeze_norm=args.freeze_norm)
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
    from gtp.state import EngineOptions

    # every engine option the command line has, by its field name (a list by hand once dropped one)
    options = {f.name: getattr(args, f.name) for f in fields(EngineOptions) if hasattr(args, f.name)}
    return run_gtp(model=args.model, device=args.device, threads=args.threads, **options)


def cmd_analysis(args: argparse.Namespace) -> int:
    """KataGo's JSON analysis engine on stdin/stdout, for KaTrain and review tools."""
    from gtp.analysis_engine import run_analysis

    return run_analysis(model=args.model, device=args.device, threads=args.threads, backend=args.backend,
                        precision=args.precision, playouts=args.playouts, cache=args.cache, max_visits=args.visits,
                        positions=args.positions, leaves=args.leaves, report_as=args.report_as, seed=args.seed)


def cmd_review(args: argparse.Namespace) -> int:
    """Every move of a game analysed: an annotated SGF and a graph."""
    from gtp.review import run_review

    return run_review(args.sgf, model=args.model, device=args.device, threads=args.threads, backend=args.backend,
                      precision=args.precision, visits=args.visits, out=args.out, png=args.png, game=args.game,
                      mistakes=args.mistakes, positions=args.positions, progress=not args.quiet)


def cmd_match(args: argparse.Namespace) -> int:
    """Games between two GTP engines, refereed, with a summary and intervals."""
    from go_engine.gtp_client import Limit
    from selfplay.match import MatchConfig, read_openings, run_match, summary

    openings = read_openings(args.openings, args.size, args.opening_moves, (args.games + 1) // 2) if args.openings else ()
    cfg = MatchConfig(engines=(args.engine_a, args.engine_b), names=tuple(args.names), games=args.games,
                      size=args.size, komi=args.komi, rules=args.rules,
                      limit=Limit(seconds=args.move_time, grace=args.grace, hard=args.hard_limit),
                      max_moves=args.max_moves, scorer=args.scorer, parallel=args.parallel, out=args.out,
                      openings=openings)
    from tqdm import tqdm

    results = run_match(cfg, progress=tqdm.write, bar=not args.quiet)
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
                           seed=args.seed, bar=not args.quiet)
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
    from tqdm import tqdm

    run_loop(args.run, cfg, progress=tqdm.write, bar=not args.quiet)
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
        if _shown(action.default) and action.option_strings and action.nargs != 0 and "(default" not in text:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """A parser whose help shows the defaults and whose errors are one line (exit 2);
    ``add_subparsers`` makes the subcommands' of this class too."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _DefaultsHelp)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- argument types: each checks its value while the command line is read, before a model loads
def _typed(name: str, convert):
    """An argparse type: ``convert(text)``, whose ``ValueError`` becomes the option's one-line error."""
    def check(text: str):
        try:
            return convert(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    check.__name__ = name
    return check


def _whole(least: int, most: int | None = None):
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
        if value < least or (most is not None and value > most):
            raise ValueError(f"expected a whole number from {least}" + (f" to {most}" if most is not None else " up")
                             + f", got {value}")
        return value
    return _typed("whole number", convert)


def _real(least: float | None = None, most: float | None = None, above: float | None = None):
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {text!r}")
        if (least is not None and value < least) or (most is not None and value > most) or \
                (above is not None and value <= above):
            bounds = [f">= {least:g}" if least is not None else "", f"> {above:g}" if above is not None else "",
                      f"<= {most:g}" if most is not None else ""]
            raise ValueError(f"expected a number {' and '.join(b for b in bounds if b)}, got {text!r}")
        return value
    return _typed("number", convert)


def _existing(text: str) -> str:
    if not os.path.exists(text):
        raise ValueError(f"no such file or folder: {text}")
    return text


def _model(text: str) -> str:
    if text.lower() != "none" and not os.path.isfile(text):
        raise ValueError(f"no such model file: {text}" if not os.path.exists(text) else f"not a file: {text}")
    return text


def _run_folder(text: str) -> str:
    if not os.path.isfile(os.path.join(text, "loop.json")):
        raise ValueError(f"not a loop run folder (no loop.json): {text}")
    return text


def _device(text: str) -> str:
    from policy.train import pick_device

    pick_device(text)
    return text


def _size_share(text: str) -> tuple[int, float]:
    size, eq, share = text.partition("=")
    if not eq:
        raise ValueError(f"expected SIZE=SHARE such as 9=0.3, got {text!r}")
    return SIZE(size.strip()), _real(above=0.0, most=1.0)(share.strip())


def _source_share(text: str) -> tuple[str, float]:
    source, eq, share = text.rpartition("=")
    if not eq or not source:
        raise ValueError(f"expected INPUT=SHARE such as runs/matchdata19=0.25, got {text!r}")
    return source, _real(above=0.0, most=1.0)(share.strip())


SIZE = _whole(MIN_SIZE, MAX_SIZE)
SIZE_SHARE = _typed("size share", _size_share)
SOURCE_SHARE = _typed("source share", _source_share)
KOMI = _typed("komi", check_komi)
RULES = _typed("rules", lambda text: get_rules(text).name)
COLOUR = _typed("colour", parse_color)
EXISTING = _typed("path", _existing)
MODEL = _typed("model", _model)
RUN = _typed("run folder", _run_folder)
DEVICE = _typed("device", _device)
FRACTION = _real(0.0, 1.0)
POSITIVE = _real(above=0.0)


def _defaults(fn) -> dict:
    """The default values of ``fn``'s parameters (a function, or a class and its constructor)."""
    return {k: v.default for k, v in inspect.signature(fn).parameters.items() if v.default is not v.empty}


def _common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="on an error, print the Python traceback instead of one line")
    return p


def _rules_option(p: argparse.ArgumentParser, default: str, what: str = "the rules") -> None:
    p.add_argument("--rules", type=RULES, default=default, metavar="RULES",
                   help=f"{what}: one of {', '.join(PRESETS)} (KataGo's names; case-insensitive)")


def _komi_option(p: argparse.ArgumentParser, default: float, what: str = "komi, in points") -> None:
    p.add_argument("--komi", type=KOMI, default=default, help=f"{what}; {KOMI_NOTE}")


KOMI_NOTE = ("defaults differ by board: 7.5 for 19x19 (gtp, play, match, playouts), 7 for 9x9 (selfplay, loop); "
             "at most 1000 either way")


def _backend_option(p: argparse.ArgumentParser, default: str) -> None:
    """``--backend`` and ``--precision``: what runs the network and in which number type."""
    from gtp.state import EngineOptions
    from selfplay.evaluators import BACKENDS, PRECISIONS

    p.add_argument("--backend", choices=BACKENDS, default=default,
                   help="what runs the network on the CPU: torch (PyTorch), openvino (pip install tengen[openvino]; "
                        "PyTorch if it fails), auto: OpenVINO where it is installed and the network runs on the "
                        "CPU (1.8x PyTorch's speed on two threads, 1.1x-1.5x on one)")
    p.add_argument("--precision", choices=PRECISIONS, default=EngineOptions.precision,
                   help="the network's number type: bf16 gives 1.7x-2.8x the visits a second on OpenVINO but is "
                        "weaker per visit (40%% of 100 games against float32 at 400 visits each); on a clock it beat "
                        "float32 in 57%% of 130 games at 1 s/move (not yet significant); auto: bf16 on OpenVINO where "
                        "the CPU has it, else float32 (docs/benchmarks.md)")


def build_parser() -> argparse.ArgumentParser:
    """The command line. Defaults come from the classes and functions that own them, not from here."""
    from go_engine import Game
    from go_engine.features import FEATURE_PLANES
    from go_engine.gtp_client import Limit
    from gtp.state import DEAD_STONE_SOURCES, EngineOptions
    from policy.data.build import BuildOptions
    from policy.model import NetConfig
    from policy.train import TrainConfig
    from selfplay.loop import LoopConfig, final_eval
    from selfplay.match import MatchConfig
    from selfplay.selfplay import SelfPlayConfig

    size_help = f"board size, {MIN_SIZE} to {MAX_SIZE}"
    parser = _common(_Parser(prog="tengen", description="Tengen, a Go program that learns."))
    parser.set_defaults(debug=False)
    parser.add_argument("--version", action="version", version=f"tengen {__version__}",
                        help="print Tengen's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(group, name: str, **kw) -> argparse.ArgumentParser:
        return _common(group.add_parser(name, **kw))

    p = command(sub, "playouts", help="benchmark random playouts (the rules engine's speed)")
    p.add_argument("--size", type=SIZE, nargs="+", default=[9, 19], help="board sizes to measure")
    p.add_argument("--seconds", type=POSITIVE, default=3.0, help="time per size")
    p.add_argument("--batch", type=_whole(1), default=500, help="playouts per kernel call")
    _komi_option(p, _defaults(Game)["komi"], "komi of the scored playouts, in points")
    p.add_argument("--seed", type=_whole(0), default=1, help="seed of the random playouts")
    p.set_defaults(func=cmd_playouts)

    eo = EngineOptions()
    p = command(sub, "gtp", help="serve the Go Text Protocol on stdin/stdout (for Sabaki, Lizzie, GoGui...)")
    p.add_argument("--model", type=MODEL, default=None,
                   help="model file (default: $TENGEN_MODEL, else the bundled network); none: random playouts")
    p.add_argument("--visits", type=_whole(1), default=eo.visits,
                   help="search visits per move when no time is set; 1: no search, the network's most likely move")
    p.add_argument("--playouts", type=_whole(1), default=eo.playouts, help="random playouts per leaf without a model")
    p.add_argument("--resign-threshold", type=FRACTION, default=eo.resign_threshold,
                   help="win rate to resign at; 0 never resigns")
    p.add_argument("--size", type=SIZE, default=eo.size, help=f"{size_help}, until the GUI sends boardsize")
    _komi_option(p, eo.komi, "komi, until the GUI sends komi")
    _rules_option(p, eo.rules, "the rules, until the GUI sets others")
    p.add_argument("--device", type=DEVICE, default="cpu", help="where the network runs: cpu, cuda, cuda:N, mps, auto")
    p.add_argument("--threads", type=_whole(1), default=None, help="CPU threads for the network (default: torch's)")
    _backend_option(p, eo.backend)
    p.add_argument("--analysis-interval", type=POSITIVE, default=eo.analysis_interval,
                   help="seconds between analysis lines when the request names no interval")
    p.add_argument("--move-seconds", type=POSITIVE, default=eo.move_seconds,
                   help="seconds per move when the GUI sets no clock (the visit cap still applies; default: none)")
    p.add_argument("--ponder", action="store_true", help="search on the opponent's time (keeps the tree)")
    p.add_argument("--random-moves", type=_whole(0), default=eo.random_moves,
                   help="draw the first N moves of a game in proportion to the search's visits (as Leela Zero's "
                        "--randomcnt), so that matches between deterministic engines do not repeat games")
    p.add_argument("--seed", type=_whole(0), default=eo.seed,
                   help="seed of the searches and of those draws (default: searches 0, draws fresh each run)")
    p.add_argument("--no-file-commands", dest="file_commands", action="store_false",
                   help="refuse loadsgf and printsgf FILE: for a bridge to a server, whose users must not reach "
                        "this machine's files (in a --config file: file_commands = false)")
    p.add_argument("--random-symmetry", action="store_true", default=eo.random_symmetry,
                   help="read each batch of the search's positions under a symmetry of the board drawn at random "
                        "(as Leela Zero and KataGo do), not always the identity")
    p.add_argument("--score-utility", type=_real(0.0, 10.0), default=eo.score_utility,
                   help="weight of the score in the search's move choice beside the win rate (as KataGo's "
                        "dynamicScoreUtilityFactor); 0: the win rate alone")
    p.add_argument("--policy-temperature", type=_real(0.1, 10.0), default=eo.policy_temperature,
                   help="temperature of the network's move priors at every node of the search (as KataGo's "
                        "nnPolicyTemperature): above 1 the search looks more at moves the network ranks low")
    p.add_argument("--dead-stones", choices=DEAD_STONE_SOURCES, default=eo.dead_stones,
                   help="how the count tells dead stones: random playouts, or the network's ownership through a "
                        "short search (for a network trained on settled ownership)")
    p.add_argument("--config", default=None,
                   help="TOML file of these options (top level or a [gtp] table; the command line wins)")
    p.set_defaults(func=cmd_gtp)

    p = command(sub, "analysis", help="KataGo's JSON analysis engine on stdin/stdout (for KaTrain and tools)")
    p.add_argument("--model", type=MODEL, default=None, help="as for tengen gtp; none: random playouts")
    p.add_argument("--visits", type=_whole(1), default=500, help="visits per position when a query sets no maxVisits")
    p.add_argument("--positions", type=_whole(1), default=32, help="positions searched at once (their leaves share "
                   "each network call)")
    p.add_argument("--leaves", type=_whole(1), default=4, help="leaves each position adds to a network call")
    p.add_argument("--cache", type=_whole(0), default=1 << 15, help="positions whose network answers are kept "
                   "(neighbouring positions of a game share lines); 0: none")
    p.add_argument("--report-as", default="SIDETOMOVE", choices=["BLACK", "WHITE", "SIDETOMOVE"],
                   help="whose view winrates, scores and ownership take (a query's reportAnalysisWinratesAs wins)")
    p.add_argument("--playouts", type=_whole(1), default=4, help="random playouts per leaf without a model")
    p.add_argument("--device", type=DEVICE, default="cpu", help="where the network runs: cpu, cuda, cuda:N, mps")
    p.add_argument("--threads", type=_whole(1), default=None, help="CPU threads for the network (default: torch's)")
    _backend_option(p, eo.backend)
    p.add_argument("--seed", type=_whole(0), default=0, help="seed of the searches")
    p.set_defaults(func=cmd_analysis)

    p = command(sub, "review", help="analyse every move of a game: SGF with win rates, scores and mistakes, "
                       "and a graph")
    p.add_argument("sgf", type=EXISTING, help="the game (SGF)")
    p.add_argument("--visits", type=_whole(1), default=100, help="visits per position")
    p.add_argument("--out", default=None, help="reviewed SGF (default: GAME-review.sgf beside the game)")
    p.add_argument("--png", default=None, help="graph of win rate and score (default: the SGF's name, .png)")
    p.add_argument("--game", type=_whole(1), default=1, help="which game of the file, from 1")
    p.add_argument("--mistakes", type=_whole(0), default=5, help="largest mistakes marked per player")
    p.add_argument("--positions", type=_whole(1), default=32, help="positions searched at once")
    p.add_argument("--model", type=MODEL, default=None, help="as for tengen gtp; none: random playouts")
    p.add_argument("--device", type=DEVICE, default="cpu", help="where the network runs: cpu, cuda, cuda:N, mps")
    p.add_argument("--threads", type=_whole(1), default=None, help="CPU threads for the network (default: torch's)")
    _backend_option(p, eo.backend)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_review)

    p = command(sub, "match", help="play two GTP engines against each other")
    p.add_argument("engine_a", help="command line of the first engine, e.g. 'tengen gtp --visits 100'")
    p.add_argument("engine_b", help="command line of the second, e.g. '/usr/games/gnugo --mode gtp --level 10'")
    mc, limit = _defaults(MatchConfig), Limit()
    p.add_argument("--names", nargs=2, default=list(mc["names"]), metavar=("NAME_A", "NAME_B"),
                   help="the engines' names in records and the summary")
    p.add_argument("--games", type=_whole(1), default=mc["games"], help="games; A takes Black in even-numbered ones")
    p.add_argument("--size", type=SIZE, default=mc["size"], help=size_help)
    _komi_option(p, mc["komi"])
    _rules_option(p, mc["rules"], "the referee's rules (legality)")
    p.add_argument("--move-time", type=POSITIVE, default=limit.seconds,
                   help="seconds per move, told to the engines and enforced (default: no limit)")
    p.add_argument("--grace", type=_real(0.0), default=limit.grace, help="seconds allowed over --move-time")
    p.add_argument("--hard-limit", type=POSITIVE, default=limit.hard,
                   help="without --move-time: a move this slow loses (a hung engine)")
    p.add_argument("--max-moves", type=_whole(1), default=mc["max_moves"],
                   help="then score as it stands (default: 3 x size x size)")
    p.add_argument("--scorer", default=mc["scorer"],
                   help="tromp-taylor, or a GTP engine command whose final_score decides")
    p.add_argument("--parallel", type=_whole(1), default=mc["parallel"], help="games at once")
    p.add_argument("--openings", nargs="+", metavar="SGF", default=[],
                   help="SGF files, folders or archives whose games' first moves start the games: each pair of "
                        "games the next distinct opening, each engine Black once (default: the empty board)")
    p.add_argument("--opening-moves", type=_whole(1), default=4, help="moves of each opening")
    p.add_argument("--out", required=True, help="folder for SGF and results (a rerun resumes)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_match)

    p = command(sub, "selfplay", help="self-play games for training (SGF + shards)")
    p.add_argument("--out", required=True, help="folder of finished games (a rerun resumes)")
    p.add_argument("--games", type=_whole(1), required=True,
                   help="finished games the folder should hold (a rerun with more plays the rest)")
    p.add_argument("--model", type=MODEL, default=None,
                   help="model file (default: $TENGEN_MODEL, else the bundled network); none: uniform priors, value 0")
    sp = SelfPlayConfig()
    p.add_argument("--size", type=SIZE, default=sp.size, help=size_help)
    _komi_option(p, sp.komi, "the mean komi: each game draws its own around it")
    p.add_argument("--komi-stdev", type=_real(0.0, 100.0), default=sp.komi_stdev,
                   help="spread of each game's komi around --komi, in points (default: size / 3; 0: fixed)")
    _rules_option(p, sp.rules)
    p.add_argument("--full-visits", type=_whole(1), default=sp.full_visits,
                   help="visits of a full search (its visits become a policy target)")
    p.add_argument("--fast-visits", type=_whole(1), default=sp.fast_visits, help="visits of a fast search")
    p.add_argument("--full-fraction", type=FRACTION, default=sp.full_fraction, help="share of moves with a full search")
    p.add_argument("--parallel", type=_whole(1), default=sp.parallel, help="games in progress at once per worker")
    p.add_argument("--workers", type=_whole(1), default=1, help="processes")
    p.add_argument("--resign-threshold", type=FRACTION, default=sp.resign_threshold, help="win rate to resign at")
    p.add_argument("--no-resign-fraction", type=FRACTION, default=sp.no_resign_fraction,
                   help="share of games played out to measure wrong resignations")
    p.add_argument("--device", type=DEVICE, default="cpu", help="where the network runs: cpu, cuda, cuda:N, mps, auto")
    p.add_argument("--seed", type=_whole(0), default=0, help="seed of the games")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_selfplay)

    loop = command(sub, "loop", help="the self-play learning loop").add_subparsers(
        dest="loop_command", required=True, metavar="ACTION")
    lc = LoopConfig()
    p = command(loop, "run", help="run or resume a loop in a run folder")
    p.add_argument("run", help="run folder (a rerun resumes)")
    p.add_argument("--generations", type=_whole(1), default=lc.generations, help="generations to reach")
    p.add_argument("--minutes", type=POSITIVE, default=lc.minutes,
                   help="start no new generation after this many minutes of the loop's time (default: no limit)")
    p.add_argument("--threads", type=_whole(1), default=None, help="torch threads in this process (default: all cores)")
    p.add_argument("--games", type=_whole(1), default=lc.games, help="self-play games per generation")
    p.add_argument("--window", type=_whole(1), default=lc.window,
                   help="train on the games of this many latest generations")
    p.add_argument("--steps", type=_whole(1), default=lc.steps, help="training steps per generation")
    p.add_argument("--batch-size", type=_whole(1), default=lc.batch_size, help="positions per training step")
    p.add_argument("--lr", type=POSITIVE, default=lc.lr, help="learning rate (AdamW)")
    p.add_argument("--blocks", type=_whole(1), default=lc.blocks, help="residual blocks of the first network")
    p.add_argument("--channels", type=_whole(1), default=lc.channels, help="channels of the first network")
    p.add_argument("--init", type=MODEL, default=lc.init,
                   help="start from this model (e.g. the bundled 19x19 network) instead of a random network")
    p.add_argument("--size", type=SIZE, default=lc.selfplay.size, help=size_help)
    _komi_option(p, lc.selfplay.komi, "the mean komi of self-play (each game draws its own) and the matches' komi")
    _rules_option(p, lc.selfplay.rules)
    p.add_argument("--full-visits", type=_whole(1), default=lc.selfplay.full_visits,
                   help="visits of a full self-play search (its visits become a policy target)")
    p.add_argument("--fast-visits", type=_whole(1), default=lc.selfplay.fast_visits,
                   help="visits of a fast self-play search")
    p.add_argument("--full-fraction", type=FRACTION, default=lc.selfplay.full_fraction,
                   help="share of moves with a full search")
    p.add_argument("--parallel", type=_whole(1), default=lc.selfplay.parallel,
                   help="self-play games at once per worker")
    p.add_argument("--workers", type=_whole(1), default=lc.workers, help="self-play processes on this machine")
    p.add_argument("--ray-actors", type=_whole(0), default=lc.ray_actors,
                   help="self-play on this many Ray actors instead (pip install .[distributed]; 0: none)")
    p.add_argument("--ray-address", default=None,
                   help="the Ray cluster to join (e.g. auto, or HOST:6379); default: a local one")
    p.add_argument("--train-procs", type=_whole(1), default=lc.train_procs,
                   help="train under torchrun with this many processes (GPUs, or CPU processes with gloo)")
    p.add_argument("--eval-games", type=_whole(1), default=lc.eval_games,
                   help="games of each new network against the best so far")
    p.add_argument("--eval-visits", type=_whole(1), default=lc.eval_visits, help="visits per move in those games")
    p.add_argument("--gate", type=FRACTION, default=lc.gate,
                   help="score a new network needs against the best to play self-play (default: no gate)")
    p.add_argument("--gnugo-every", type=_whole(0), default=lc.gnugo_every,
                   help="generations between GNU Go matches (0: never)")
    p.add_argument("--gnugo-levels", type=_whole(0, 10), nargs="+", default=list(lc.gnugo_levels),
                   help="GNU Go levels to play")
    p.add_argument("--gnugo-games", type=_whole(1), default=lc.gnugo_games, help="games against each level")
    p.add_argument("--seed", type=_whole(0), default=lc.seed, help="seed of the first network and the games")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_loop_run)
    fe = _defaults(final_eval)
    p = command(loop, "eval", help="the last network against the first and against GNU Go")
    p.add_argument("run", type=RUN, help="run folder of tengen loop run")
    p.add_argument("--games", type=_whole(1), default=fe["games"],
                   help="games against the opponent network (in-process)")
    p.add_argument("--visits", type=_whole(1), default=fe["visits"], help="visits per move")
    p.add_argument("--opponent", type=_whole(0), default=fe["opponent"], help="generation to play against")
    p.add_argument("--against", type=MODEL, default=fe["against"],
                   help="a model file to play against instead (e.g. another run's)")
    p.add_argument("--gnugo-levels", type=_whole(0, 10), nargs="*", default=list(fe["gnugo_levels"]),
                   help="GNU Go levels to play (none: no GNU Go)")
    p.add_argument("--gnugo-games", type=_whole(1), default=fe["gnugo_games"], help="games against each level")
    p.add_argument("--parallel", type=_whole(1), default=fe["parallel"], help="GNU Go games at once")
    p.add_argument("--threads", type=_whole(1), default=None, help="torch threads in this process (default: all cores)")
    p.set_defaults(func=cmd_loop_eval)
    p = command(loop, "report", help="rating table and PNG of a run")
    p.add_argument("run", type=RUN, help="run folder of tengen loop run")
    p.add_argument("--png", default=None, help="where to draw the ratings (default: RUN/rating.png)")
    p.set_defaults(func=cmd_loop_report)

    p = command(sub, "play", help="play a game in the terminal")
    p.add_argument("--size", type=SIZE, default=eo.size, help=size_help)
    _komi_option(p, eo.komi)
    _rules_option(p, eo.rules)
    p.add_argument("--color", type=COLOUR, default="B", metavar="{B,W}", help="your colour: B (black) or W (white)")
    p.add_argument("--model", type=MODEL, default=None,
                   help="model file (default: $TENGEN_MODEL, else the bundled network); none: random playouts")
    p.add_argument("--visits", type=_whole(1), default=eo.visits, help="Tengen's search visits per move")
    p.add_argument("--resign-threshold", type=FRACTION, default=eo.resign_threshold,
                   help="win rate to resign at; 0 never resigns")
    p.add_argument("--device", type=DEVICE, default="cpu", help="where the network runs: cpu, cuda, cuda:N, mps, auto")
    p.add_argument("--threads", type=_whole(1), default=None, help="CPU threads for the network (default: torch's)")
    _backend_option(p, eo.backend)
    p.add_argument("--seed", type=_whole(0), default=eo.seed, help="seed of the searches (default: 0)")
    p.add_argument("--log", default=None,
                   help="file for the engine's log (its moves, win rates and visits); default: none, so that "
                        "nothing interleaves with the board")
    p.add_argument("--config", default=None,
                   help="TOML file of these options (top level or a [play] table; the command line wins)")
    p.set_defaults(func=cmd_play)

    data = command(sub, "data", help="training data").add_subparsers(dest="data_command", required=True,
                                                                     metavar="ACTION")
    bo = BuildOptions()
    p = command(data, "build", help="turn SGF files, folders and archives into training shards")
    p.add_argument("inputs", nargs="+", help="SGF files, folders (recursive), .zip/.tar.gz archives")
    p.add_argument("--out", required=True, help="output folder (a rerun with the same arguments resumes)")
    p.add_argument("--size", type=_whole(0, MAX_SIZE), default=bo.size, help="board size to keep; 0 keeps every size")
    p.add_argument("--min-rank", default=bo.min_rank,
                   help="keep games whose players are both at least this rank, e.g. 5d (default: any)")
    p.add_argument("--no-handicap", action="store_true", help="drop handicap games")
    p.add_argument("--min-moves", type=_whole(0), default=bo.min_moves, help="drop games with fewer moves")
    p.add_argument("--result-known", action="store_true", help="drop games without a known winner")
    p.add_argument("--val-fraction", type=FRACTION, default=bo.val_fraction,
                   help="share of games held out for validation")
    p.add_argument("--workers", type=_whole(1), default=None, help="processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_data_build)

    tc = {f.name: f.default for f in fields(TrainConfig)}
    net = NetConfig()
    p = command(sub, "train", help="train the network on shards")
    p.add_argument("train", nargs="+", type=EXISTING, help="training shards or folders")
    p.add_argument("--val", nargs="*", type=EXISTING, help="validation shards or folders (default: none)")
    p.add_argument("--out", required=True, help="run folder: checkpoint, metrics.jsonl, model.pt")
    p.add_argument("--steps", type=_whole(1), default=tc["steps"], help="training steps")
    p.add_argument("--batch-size", type=_whole(1), default=tc["batch_size"], help="positions per step")
    p.add_argument("--sample-rate", type=_real(above=0.0, most=1.0), default=tc["sample_rate"],
                   help="share of each game's positions to train on (fewer, less correlated positions)")
    p.add_argument("--optimizer", choices=["sgd", "adamw"], default=tc["optimizer"],
                   help="sgd (with momentum) or adamw")
    p.add_argument("--lr", type=POSITIVE, default=tc["lr"], help="peak learning rate")
    p.add_argument("--weight-decay", type=_real(0.0), default=tc["weight_decay"], help="weight decay")
    p.add_argument("--warmup", type=_whole(0), default=tc["warmup_steps"], help="steps of learning-rate warm-up")
    p.add_argument("--value-weight", type=_real(0.0), default=tc["value_weight"], help="weight of the value loss")
    p.add_argument("--score-weight", type=_real(0.0), default=tc["score_weight"], help="weight of the score loss")
    p.add_argument("--blocks", type=_whole(1), default=None,
                   help=f"residual blocks (default: {net.blocks}, or --init's; more than --init's adds blocks that start as identities)")
    p.add_argument("--channels", type=_whole(1), default=None,
                   help=f"channels (default: {net.channels}, or --init's)")
    p.add_argument("--eval-every", type=_whole(1), default=tc["eval_every"], help="steps between validations")
    p.add_argument("--eval-positions", type=_whole(1), default=tc["eval_positions"], help="positions per validation")
    p.add_argument("--checkpoint-minutes", type=POSITIVE, default=tc["checkpoint_minutes"],
                   help="minutes between checkpoints (the first comes early)")
    p.add_argument("--device", type=DEVICE, default=tc["device"], help="auto, cpu, cuda, cuda:N, mps")
    p.add_argument("--compile", action="store_true", help="torch.compile on CUDA")
    p.add_argument("--precision", choices=["auto", "bf16", "float32"], default=tc["precision"],
                   help="autocast type of the forward pass (auto: bf16 on CUDA, float32 elsewhere)")
    p.add_argument("--seed", type=_whole(0), default=tc["seed"], help="seed of the initialisation and the sampling")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--force", action="store_true", help="replace an earlier run in --out (default: refuse)")
    p.add_argument("--init", type=MODEL, default=tc["init"],
                   help="start from this model's weights (same blocks and channels; an earlier feature version's "
                        "model gets zero weights for the new input planes)")
    p.add_argument("--minutes", type=POSITIVE, default=tc["minutes"],
                   help="time budget: stop after it, with the learning-rate schedule ending then (default: none)")
    p.add_argument("--loader-workers", type=_whole(0), default=tc["loader_workers"],
                   help="processes that replay games into batches (0: the training process itself)")
    p.add_argument("--komi-relabel", type=FRACTION, default=tc["komi_relabel"],
                   help="share of counted games trained under a new komi, their results relabelled")
    p.add_argument("--feature-version", type=int, default=tc["feature_version"], choices=sorted(FEATURE_PLANES),
                   help="input features (docs/features.md)")
    p.add_argument("--size-share", type=SIZE_SHARE, action="append", default=[], metavar="SIZE=SHARE",
                   help="with data of several board sizes, the share of the batches of this size (each batch is "
                        "of one size; sizes not named share the rest in proportion to their positions), "
                        "e.g. --size-share 9=0.3")
    p.add_argument("--source-share", type=SOURCE_SHARE, action="append", default=[], metavar="INPUT=SHARE",
                   help="the share of the batches drawn from this training input (as given above) apart from its "
                        "board size's other data, e.g. Tengen's own games beside human ones: "
                        "--source-share runs/matchdata19=0.25")
    p.add_argument("--freeze-norm", action="store_true",
                   help="batch normalisation keeps --init's running statistics and normalises by them, as in play "
                        "(a fine-tune that mixes board sizes needs it: statistics of mixed sizes fit neither)")
    p.set_defaults(func=cmd_train)

    p = command(sub, "eval", help="move-prediction and value metrics of a model")
    p.add_argument("model", type=MODEL, help="model file")
    p.add_argument("data", nargs="+", type=EXISTING, help="shards or folders")
    p.add_argument("--device", type=DEVICE, default="auto", help="auto, cpu, cuda, cuda:N, mps")
    p.add_argument("--limit", type=_whole(1), default=10 ** 9, help="at most this many positions")
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
    actions = {a.dest: a for a in sub._actions if a.dest not in ("help", "config", "func")}
    unknown = sorted(set(values) - set(actions))
    if unknown:
        raise ValueError(f"--config {path}: unknown option(s) for tengen {args.command}: {', '.join(unknown)}")
    sub.set_defaults(**{k: _config_value(actions[k], v, path) for k, v in values.items()})
    return parser.parse_args(argv)


def _config_value(action: argparse.Action, value: object, path: str) -> object:
    """A value of a --config file, checked as the command line checks the option's."""
    def bad(why: str) -> ValueError:
        return ValueError(f"--config {path}: {action.dest}: {why}")

    if action.nargs == 0:  # a flag
        if not isinstance(value, bool):
            raise bad(f"expected true or false, got {value!r}")
        return value
    items = value if isinstance(value, list) and action.nargs in ("+", "*") else [value]
    if isinstance(value, (list, dict)) and items is not value:
        raise bad(f"expected one value, got {value!r}")
    checked = []
    for v in items:
        if isinstance(v, (bool, list, dict)):
            raise bad(f"expected a value like the command line's, got {v!r}")
        try:
            v = action.type(str(v)) if action.type else v
        except argparse.ArgumentTypeError as e:
            raise bad(str(e)) from None
        if action.choices is not None and v not in action.choices:
            raise bad(f"expected one of {', '.join(map(str, action.choices))}, got {v!r}")
        checked.append(v)
    return checked if items is value else checked[0]


def _one_line(e: BaseException) -> str:
    """An exception's message on one line (an OSError as ``file: reason``)."""
    if isinstance(e, OSError) and e.strerror:
        text = f"{e.filename}: {e.strerror}" if e.filename else e.strerror
    else:
        text = str(e) or type(e).__name__
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    """Run one ``tengen`` command. Bad input is one line on stderr and exit 2; anything else that goes wrong
    is one line and exit 1; ``--debug`` shows the traceback instead."""
    # OpenMP threads that sleep instead of spinning while they wait: torch's default busy-waiting
    # made a search 30x slower (11.8 s instead of 0.4 s for 200 visits) when another program,
    # such as the opponent engine, was using the cores. Set before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    words = [a for a in argv[:3] if not a.startswith("-")]
    who = " ".join(["tengen"] + words[:2 if words[:1] in (["loop"], ["data"]) else 1])
    try:
        args = parse_args(argv)
        with compile_notice(lambda: print("tengen: compiling the Numba kernels, first run only (a minute or so; "
                                          "later runs load them from the cache)", file=sys.stderr, flush=True)):
            return int(args.func(args) or 0)
    except SystemExit as e:  # argparse: --help, --version, or a bad argument (its line is printed)
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            raise
        if isinstance(e, (ValueError, OSError)):  # bad input: a value, a file, a folder
            print(f"{who}: error: {_one_line(e)}", file=sys.stderr)
            return 2
        print(f"{who}: failed: {type(e).__name__}: {_one_line(e)} (--debug shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
