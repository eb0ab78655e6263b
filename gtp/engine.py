"""Tengen's GTP (version 2) engine: ``tengen gtp``.

``GtpEngine`` puts together the parts, each in a module of its own as in Leela
Zero's GTP.cpp and TimeControl.cpp: ``gtp.protocol`` (request parsing, ids,
dispatch, framing, streaming and the reader thread), the command handlers of
``gtp.commands`` (core; KGS and time; analysis; scoring), ``gtp.timecontrol``
(the clock and each move's time budget) and ``gtp.state`` (the game, the
player and its search tree, dead stones, pondering).

Without a network, moves come from the PUCT search with ``PlayoutEvaluator``:
uniform priors over the legal moves that do not fill one's own eye, and a value
from a few random playouts of the leaf.
"""

from __future__ import annotations

import math
import sys
from typing import TextIO

import numpy as np

from go_engine import kernels as K
from go_engine.playout import k_playouts
from selfplay.search import LeafBatch, NetworkEvaluator

from .commands import AnalysisCommands, CoreCommands, KgsTimeCommands, ScoringCommands
from .protocol import GtpProtocol
from .state import EngineOptions


class PlayoutEvaluator:
    """Uniform priors over moves that do not fill one's own eye; value from random playouts."""

    needs_history = False

    def __init__(self, playouts: int = 4, seed: int = 0) -> None:
        self.playouts = playouts
        self.seed = seed

    def __call__(self, leaves: LeafBatch) -> tuple[np.ndarray, np.ndarray]:
        n, size = len(leaves), leaves.size
        a = size * size + 1
        st = size + 2
        line = np.minimum(np.arange(size), np.arange(size)[::-1])
        shape = np.where(line == 0, 0.3, np.where(line == 1, 0.7, 1.0))
        base = np.append(np.outer(shape, shape).ravel() ** 0.5, 0.2).astype(np.float32)
        rng = np.random.default_rng(self.seed)
        pri = base * rng.uniform(0.8, 1.2, size=(n, a)).astype(np.float32)
        val = np.zeros(n, dtype=np.float32)
        scores = np.zeros(self.playouts, dtype=np.int64)
        own = np.zeros(leaves.S.shape[2], dtype=np.int64)
        for i in range(n):
            S, meta = leaves.S[i], leaves.meta[i]
            c = int(meta[K.M_TOMOVE])
            col = S[K.COLOR]
            for r in range(size):
                for q in range(size):
                    p = (r + 1) * st + q + 1
                    if col[p] == K.EMPTY and K.k_is_eye(S, meta, p, c):
                        pri[i, r * size + q] = 0.0
            self.seed += 1
            k_playouts(S, meta, self.playouts, self.seed, 3 * size * size, scores, own)
            d = scores.astype(np.float64) - leaves.komi
            v = 0.5 * math.tanh(float(d.mean()) / size) + 0.5 * float(np.mean(np.sign(d)))
            val[i] = v if c == K.BLACK else -v
        return pri, val


class GtpEngine(CoreCommands, KgsTimeCommands, AnalysisCommands, ScoringCommands):
    """The engine state with every command group, answering through a ``GtpProtocol``.

    ``model``: a network (``None``: random playouts); ``options``: the fields of ``EngineOptions``."""

    def __init__(self, model=None, device: str = "cpu", log: TextIO | None = None, **options) -> None:
        opts = EngineOptions(**options)
        seed = 0 if opts.seed is None else opts.seed
        evaluator = NetworkEvaluator(model, device) if model is not None else PlayoutEvaluator(opts.playouts, seed)
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
        print(f"loaded model {model}", file=sys.stderr, flush=True)
    else:
        print("no model: the search values positions by random playouts", file=sys.stderr, flush=True)
    return GtpEngine(net, device=device, **options)


def run_gtp(model: str | None = None, device: str = "cpu", threads: int | None = None,
            stdin: TextIO | None = None, stdout: TextIO | None = None, **options) -> int:
    """Entry point of ``tengen gtp``: serve GTP on stdin/stdout until ``quit`` or end of input."""
    engine = build_engine(model, device, threads, **options)
    engine.log(f"warmed up in {engine.warm_up():.2f}s")
    engine.run(stdin or sys.stdin, stdout or sys.stdout)
    return 0
