"""The tengen command line takes its defaults from the classes that own them, and its help shows them."""

from dataclasses import asdict, fields

import pytest

from go_engine.gtp_client import Limit
from gtp.state import EngineOptions
from selfplay.loop import LoopConfig
from selfplay.match import MatchConfig
from selfplay.selfplay import SelfPlayConfig
from tengen_cli import main, parse_args


def _same(args, options, names=None) -> None:
    names = names or [f.name for f in fields(options) if hasattr(args, f.name)]
    assert names and {n: getattr(args, n) for n in names} == {n: getattr(options, n) for n in names}


def test_gtp_and_play_defaults_are_the_engines():
    _same(parse_args(["gtp"]), EngineOptions())
    _same(parse_args(["play"]), EngineOptions(), ["visits", "resign_threshold", "size", "komi", "rules", "seed"])


def test_selfplay_and_loop_defaults_are_their_configs():
    _same(parse_args(["selfplay", "--out", "x", "--games", "1"]), SelfPlayConfig())
    loop, lc = parse_args(["loop", "run", "x"]), LoopConfig()
    _same(loop, lc, ["generations", "games", "window", "steps", "batch_size", "lr", "blocks", "channels", "init",
                     "workers", "ray_actors", "train_procs", "eval_games", "eval_visits", "gate", "gnugo_every",
                     "gnugo_games", "seed"])
    _same(loop, lc.selfplay, ["size", "komi", "rules", "full_visits", "fast_visits", "full_fraction", "parallel"])
    assert tuple(loop.gnugo_levels) == lc.gnugo_levels


def test_match_defaults_are_the_referees():
    args = parse_args(["match", "a", "b", "--out", "x"])
    mc = asdict(MatchConfig(engines=("a", "b")))
    assert {k: getattr(args, k) for k in ("games", "size", "komi", "rules", "max_moves", "scorer", "parallel")} == \
        {k: mc[k] for k in ("games", "size", "komi", "rules", "max_moves", "scorer", "parallel")}
    assert (args.move_time, args.grace, args.hard_limit) == (Limit().seconds, Limit().grace, Limit().hard)


@pytest.mark.parametrize("argv,shown", [(["gtp"], "no search, the network's most likely move (default: 200)"),
                                        (["gtp"], "--komi KOMI default: 7.5"),
                                        (["loop", "run"], "--channels CHANNELS channels of the first network (default: 32)"),
                                        (["selfplay"], "--size SIZE default: 9")])
def test_help_shows_the_defaults(argv, shown, capsys):
    with pytest.raises(SystemExit):
        main(argv + ["--help"])
    assert shown in " ".join(capsys.readouterr().out.split())
