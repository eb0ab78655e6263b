"""Tengen's GTP (version 2) engine: ``tengen gtp``.

``GtpEngine`` puts together the parts, each in a module of its own as in Leela
Zero's GTP.cpp and TimeControl.cpp: ``gtp.protocol`` (request parsing, ids,
dispatch, framing, streaming and the reader thread), the command handlers of
``gtp.commands`` (core; KGS and time; analysis; scoring; settings), ``gtp.timecontrol``
(the clock and each move's time budget) and ``gtp.state`` (the game, the
player and its search tree, dead stones, pondering).

Without a network, moves come from the PUCT search with
``selfplay.evaluators.PlayoutEvaluator``: uniform priors over the legal moves
that do not fill one's own eye, and a value, score and ownership from a few
random playouts of the leaf.
"""

from __future__ import annotations

import sys
from typing import TextIO

from selfplay.evaluators import NetworkEvaluator, PlayoutEvaluator

from .commands import AnalysisCommands, CoreCommands, KgsTimeCommands, ScoringCommands, SettingsCommands
from .protocol import GtpProtocol
from .state import EngineOptions


class GtpEngine(CoreCommands, KgsTimeCommands, AnalysisCommands, ScoringCommands, SettingsCommands):
    """The engine state with every command group, answering through a ``GtpProtocol``.

    ``model``: a network (``None``: random playouts); ``options``: the fields of ``EngineOptions``."""

    def __init__(self, model=None, device: str = "cpu", log: TextIO | None = None, **options) -> None:
        opts = EngineOptions(**options)
        seed = 0 if opts.seed is None else opts.seed
        evaluator = (NetworkEvaluator(model, device, backend=opts.backend, precision=opts.precision,
                                      random_symmetry=opts.random_symmetry, seed=seed)
                     if model is not None else PlayoutEvaluator(opts.playouts, seed))
        super().__init__(evaluator, opts, log)
        self.protocol = GtpProtocol(self, self.log)

    def handle(self, line: str) -> tuple[str | None, bool, str]:
        """Answer one request line: (the framed answer, None for an ignored line; ok; the id)."""
        return self.protocol.handle(line)

    def run(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        """Serve requests from ``stdin`` until ``quit`` or the end of input, pondering if asked to."""
        idle = (lambda: self.ponder(self.protocol.pending)) if self.options.ponder else None
        self.protocol.run(stdin, stdout, idle)


def build_engine(model: str | None = None, device: str = "cpu", threads: int | None = None,
                 **options) -> GtpEngine:
    """A ``GtpEngine`` on ``model`` (default: the bundled network; ``"none"``: random playouts)."""
    from policy.modelfile import load_model, resolve_model

    if threads:
        import torch

        torch.set_num_threads(threads)
    net = None
    model = resolve_model(model)
    if model:
        net, _info = load_model(model, device)
    engine = GtpEngine(net, device=device, **options)
    if model:
        ev = engine.evaluator
        where = ev.backend if ev.precision == "float32" else f"{ev.backend}, {ev.precision}"
        print(f"loaded model {model} (on {where})", file=sys.stderr, flush=True)
    else:
        print("no model: the search values positions by random playouts", file=sys.stderr, flush=True)
    return engine


def run_gtp(model: str | None = None, device: str = "cpu", threads: int | None = None,
            stdin: TextIO | None = None, stdout: TextIO | None = None, **options) -> int:
    """Entry point of ``tengen gtp``: serve GTP on stdin/stdout until ``quit`` or end of input."""
    engine = build_engine(model, device, threads, **options)
    engine.log(f"warmed up in {engine.warm_up():.2f}s")
    engine.run(stdin or sys.stdin, stdout or sys.stdout)
    return 0
