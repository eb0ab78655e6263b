"""The tengen command line takes its defaults from the classes that own them, and its help shows them."""

import argparse
import re
from dataclasses import asdict, fields

import pytest

from go_engine.gtp_client import Limit
from gtp.state import EngineOptions
from selfplay.loop import LoopConfig
from selfplay.match import MatchConfig
from selfplay.selfplay import SelfPlayConfig
from tengen_cli import build_parser, main, parse_args


def _same(args, options, names=None) -> None:
    names = names or [f.name for f in fields(options) if hasattr(args, f.name)]
    assert names and {n: getattr(args, n) for n in names} == {n: getattr(options, n) for n in names}


def test_gtp_and_play_defaults_are_the_engines():
    _same(parse_args(["gtp"]), EngineOptions())
    _same(parse_args(["play"]), EngineOptions(), ["visits", "resign_threshold", "size", "komi", "rules", "seed"])


def test_every_gtp_option_reaches_the_engine(monkeypatch):
    """``tengen gtp`` hands each of its EngineOptions to the engine (an option left out of the call is
    parsed, shown in --help and then silently ignored)."""
    import gtp.engine

    seen = {}
    monkeypatch.setattr(gtp.engine, "run_gtp", lambda **kw: seen.update(kw) or 0)
    assert main(["gtp", "--score-utility", "0.3", "--random-symmetry", "--visits", "7",
                 "--policy-temperature", "1.3"]) == 0
    args = parse_args(["gtp"])
    names = {f.name for f in fields(EngineOptions) if hasattr(args, f.name)}
    assert names <= set(seen), names - set(seen)
    assert (seen["score_utility"], seen["random_symmetry"], seen["visits"]) == (0.3, True, 7)
    assert seen["policy_temperature"] == 1.3


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


def test_match_reads_its_openings_and_names_a_bad_path(monkeypatch, tmp_path, capsys):
    import selfplay.match

    (tmp_path / "a.sgf").write_text("(;SZ[9];B[ee];W[cc];B[gg];W[cg];B[gc])")
    seen = {}

    def run_match(cfg, **kw):
        seen["cfg"] = cfg
        (tmp_path / "m").mkdir(exist_ok=True)
        return {}

    monkeypatch.setattr(selfplay.match, "run_match", run_match)
    assert main(["match", "a", "b", "--size", "9", "--openings", str(tmp_path), "--opening-moves", "3",
                 "--out", str(tmp_path / "m"), "--quiet"]) == 0
    assert seen["cfg"].openings == ((("B", "E5"), ("W", "C7"), ("B", "G3")),)
    assert main(["match", "a", "b", "--openings", str(tmp_path / "none.sgf"), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tengen match: error: openings: no such file or folder: {tmp_path / 'none.sgf'}"]


@pytest.mark.parametrize("argv,shown", [(["gtp"], "no search, the network's most likely move (default: 200)"),
                                        (["gtp"], "at most 1000 either way (default: 7.5)"),
                                        (["loop", "run"], "--channels CHANNELS channels of the first network (default: 32)"),
                                        (["selfplay"], "--size SIZE board size, 2 to 25 (default: 9)"),
                                        (["selfplay"], "7 for 9x9 (selfplay, loop); at most 1000 either way "
                                                       "(default: 7.0)"),
                                        (["play"], "--color {B,W} your colour: B (black) or W (white) (default: B)"),
                                        (["match"], "--rules RULES the referee's rules (legality): one of chinese, "
                                                    "chinese-ogs, chinese-kgs, japanese, korean, aga, bga, french, nz, "
                                                    "tromp-taylor, ing")])
def test_help_shows_the_defaults(argv, shown, capsys):
    assert main(argv + ["--help"]) == 0
    assert shown in " ".join(capsys.readouterr().out.split())


def _parsers(parser, prog="tengen"):
    """Every parser of the command line with its name."""
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prog} {name}")


def test_every_option_says_what_it_does_and_its_default():
    seen = 0
    for prog, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            seen += 1
            what = f"{prog} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and not action.help.startswith("default"), what
            shown = parser.formatter_class(prog)._get_help_string(action)
            if action.option_strings and action.nargs != 0 and action.default not in (None, False):
                assert "(default" in shown, what
    assert seen > 150


def test_version_and_bad_arguments_are_one_line_with_exit_2(capsys):
    assert main(["--version"]) == 0 and re.fullmatch(r"tengen \S+\n", capsys.readouterr().out)
    for argv, said in ((["gtp", "--visits", "0"], "argument --visits: expected a whole number from 1 up, got 0"),
                       (["play", "--color", "red"], "argument --color: unknown colour 'red'"),
                       (["selfplay", "--out", "x", "--games", "3", "--komi", "1e308"], "komi must be a finite number"),
                       (["gtp", "--rules", "go"], "unknown rules 'go'; known presets: aga, bga"),
                       (["eval", "missing.pt", "x"], "argument model: no such model file: missing.pt"),
                       (["loop", "report", "nowhere"], "not a loop run folder (no loop.json): nowhere"),
                       ([], "the following arguments are required: COMMAND")):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and said in err and err.count("\n") == 1, (argv, err)


def test_bad_files_are_one_line_with_exit_2_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "text.txt").write_text("hello")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "loop.json").write_text("{}")
    cases = [(["gtp", "--model", "text.txt"], "tengen gtp: error: text.txt: not a model file (not a PyTorch archive)"),
             (["eval", "text.txt", "text.txt"], "tengen eval: error: text.txt: not a model file"),
             (["train", "text.txt", "--out", "t", "--steps", "1"],
              "tengen train: error: text.txt: not a shard (not an .npz file of tengen data build or selfplay)"),
             (["selfplay", "--out", "text.txt", "--games", "1", "--model", "none"], "tengen selfplay: error: text.txt"),
             (["loop", "eval", "run"], "tengen loop eval: error: run/loop.json: not the settings of a loop")]
    for argv, said in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(said) and err.count("\n") == 1 and "Traceback" not in err, (argv, err)
    with pytest.raises(ValueError, match="not a PyTorch archive"):
        main(["--debug", "gtp", "--model", "text.txt"])


def test_config_keys_are_checked_like_the_command_line(tmp_path):
    cfg = tmp_path / "bridge.toml"
    cfg.write_text("file_commands = false\n[gtp]\nvisits = 400\nrules = 'Japanese'\n")
    args = parse_args(["gtp", "--config", str(cfg)])
    assert (args.file_commands, args.visits, args.rules) == (False, 400, "japanese")
    assert parse_args(["gtp"]).file_commands is True
    for text, said in (("visits = 0", "visits: expected a whole number from 1 up, got 0"),
                       ("komi = 1e308", "komi: komi must be a finite number"),
                       ("file_commands = 'no'", "file_commands: expected true or false, got 'no'"),
                       ("rules = ['chinese']", "rules: expected one value")):
        cfg.write_text(text + "\n")
        with pytest.raises(ValueError, match=re.escape(said)):
            parse_args(["gtp", "--config", str(cfg)])
