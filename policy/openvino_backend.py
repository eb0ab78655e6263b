"""The network on OpenVINO's CPU runtime (``pip install tengen[openvino]``), for one-thread play.

``OpenVinoNet(model, threads)`` takes a ``GoNet`` and answers what its forward
answers, as numpy arrays: ``{"policy": logits [B, S*S+1], "value": logit [B],
"score": points [B], "ownership": tanh [B, S, S]}`` (``OUTPUTS``), from planes
[B, C, S, S] and globals [B, G] (numpy, any real dtype).

The model is built in memory: ``policy.inference.ExportableGoNet`` (the batch
norms folded as ``FusedGoNet`` folds them, the on-board mask applied) is traced
by ``torch.jit`` and converted by OpenVINO's PyTorch frontend (2-3 s for the
bundled network); no file is read or written, and no ONNX package is needed.
OpenVINO runs a graph of fixed input shapes fastest (a dynamic batch axis cost
20% at batch 8), so it is compiled once per (batch, height, width), 0.2-0.5 s
each, on first use or ahead with ``prepare``, and the last ``MAX_COMPILED``
compiled shapes are kept. The batch sizes compiled are the powers of two up to
64 (``CHUNKS``): a batch of another size runs as the chunks of its binary
decomposition (13 = 8 + 4 + 1). Padding it up to the next compiled size
instead lost to PyTorch just above each power of two (0.94x at 5, 0.76x at 9,
0.62x at 17, one-off measurement); the chunks kept 1.16x or more at every
size measured from 1 to 100. The search's batches of 8 leaves and fewer take the shapes 1,
2, 4 and 8 of their board size.

Settings: ``precision`` "float32" (outputs within 1e-4 of PyTorch's), "bf16"
(bfloat16 inference: on a CPU with AMX 3.6x float32's rate at batch 8, outputs
within about 0.02 of float32's, docs/benchmarks.md; where the CPU has no bf16
instructions OpenVINO computes in float32) or "auto" (bf16 where the CPU has
them, as OpenVINO's own default), the latency hint (one stream), ``threads`` inference threads, no
pinning of threads to cores (a machine shared with an opponent engine or other
programs; pinning measured no faster alone).

Measured with ``bench/onnx_infer.py``, the bundled network, positions/s against the prepared
PyTorch model at batch 1, 8, 16, 64 on 19x19: on an idle AMD EPYC (AVX-512) with two threads
3.85x, 2.01x, 1.81x, 1.44x, with one 2.19x, 1.27x, 1.21x, 1.10x; in ``tengen gtp``
(``bench/backend_genmove.py``) 1.80x the speed at 400 visits on two threads, 1.46x with both cores
busy with other work. Hence ``selfplay.evaluators.choose_backend``'s ``auto``: OpenVINO on the
CPU at any thread count. (An earlier run on a loaded Intel Xeon had two threads losing, 0.66-0.95x;
on one thread it won there too, 1.2x-2.1x.)
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections import OrderedDict

import numpy as np
import torch

from go_engine.features import P_ON_BOARD

from .inference import OUTPUTS, ExportableGoNet
from .model import GoNet

__all__ = ["CHUNKS", "OpenVinoNet", "PRECISION_HINTS", "chunks", "no_telemetry"]

CHUNKS = (64, 32, 16, 8, 4, 2, 1)  # the batch sizes compiled, largest first
PRECISION_HINTS = {"float32": "f32", "bf16": "bf16"}  # NetworkEvaluator's precision -> OpenVINO's hint


def no_telemetry() -> None:
    """Keep OpenVINO's usage reports off. Its model converter sends them (unless ``CI=true`` or the user
    opted out) from processes it forks, and a fork of an engine whose reader thread holds stdin's lock
    hangs for ever; when ``openvino_telemetry`` cannot be imported, OpenVINO uses its own no-op stub."""
    if "openvino_telemetry" not in sys.modules:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]


@functools.cache
def shared_core():
    """The process's one ``openvino.Core``, kept until exit. Each Core's CPU plugin installs an alternate
    signal stack for the thread that creates it and, when freed, puts back the one it found: with two
    Cores freed out of order the thread is left with a freed stack, and the next signal handled on it
    (SIGCHLD from a DataLoader worker, in torch's handler) kills the process with SIGSEGV."""
    no_telemetry()
    import openvino as ov

    return ov.Core()


def chunks(n: int) -> list[int]:
    """The compiled batch sizes a batch of ``n`` runs as, largest first (their sum is ``n``)."""
    out = [CHUNKS[0]] * (n // CHUNKS[0])
    rest = n % CHUNKS[0]
    out += [c for c in CHUNKS[1:] if rest & c]
    return out


class OpenVinoNet:
    """``model`` compiled by OpenVINO for the CPU with ``threads`` inference threads; call it as
    ``GoNet`` is called, with numpy arrays (see the module's docstring). ``ImportError`` when
    OpenVINO is not installed; OpenVINO's own errors when it cannot convert or compile."""

    MAX_COMPILED = 16

    def __init__(self, model: GoNet, threads: int = 1, precision: str = "float32") -> None:
        if precision not in ("auto", *PRECISION_HINTS):
            raise ValueError(f"precision must be one of auto, {', '.join(PRECISION_HINTS)}, got {precision!r}")
        self._core = shared_core()
        import openvino as ov

        if precision == "auto":  # bf16 where the CPU computes in it natively (AMX, AVX-512 BF16), as OpenVINO picks
            precision = "bf16" if "BF16" in self._core.get_property("CPU", "OPTIMIZATION_CAPABILITIES") else "float32"
        self.precision = precision
        self.hint = PRECISION_HINTS[precision]
        self.threads = max(1, int(threads))
        self.in_planes, self.in_globals = model.cfg.in_planes, model.cfg.in_globals
        planes = torch.zeros(2, self.in_planes, 19, 19)
        planes[:, P_ON_BOARD] = 1.0
        example = (planes, torch.zeros(2, self.in_globals))
        graph = ExportableGoNet(model).cpu().eval()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on Python values it records as constants
            traced = torch.jit.trace(graph, example, check_trace=False)
            self._model = ov.convert_model(traced, example_input=example)
        self._compiled: OrderedDict[tuple[int, int, int], object] = OrderedDict()

    def _request(self, batch: int, height: int, width: int):
        """The infer request of the model compiled for this input shape (compiled on first use)."""
        key = (batch, height, width)
        req = self._compiled.get(key)
        if req is not None:
            self._compiled.move_to_end(key)
            return req
        m = self._model.clone()
        m.reshape({m.inputs[0]: [batch, self.in_planes, height, width], m.inputs[1]: [batch, self.in_globals]})
        req = self._core.compile_model(m, "CPU", {
            "INFERENCE_NUM_THREADS": self.threads, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": self.hint, "ENABLE_CPU_PINNING": False}).create_infer_request()
        while len(self._compiled) >= self.MAX_COMPILED:
            self._compiled.popitem(last=False)
        self._compiled[key] = req
        return req

    def prepare(self, height: int, width: int, max_batch: int = 8) -> None:
        """Compile now the shapes that batches of up to ``max_batch`` boards of this size take."""
        for c in sorted({c for n in range(1, max_batch + 1) for c in chunks(n)}):
            self._request(c, height, width)

    def __call__(self, planes: np.ndarray, globs: np.ndarray) -> dict[str, np.ndarray]:
        n, _, h, w = planes.shape
        if n == 0:
            return {"policy": np.zeros((0, h * w + 1), np.float32), "value": np.zeros(0, np.float32),
                    "score": np.zeros(0, np.float32), "ownership": np.zeros((0, h, w), np.float32)}
        planes = np.ascontiguousarray(planes, dtype=np.float32)
        globs = np.ascontiguousarray(globs, dtype=np.float32)
        parts, start = [], 0
        for c in chunks(n):
            res = self._request(c, h, w).infer([planes[start:start + c], globs[start:start + c]])
            parts.append([np.asarray(res[i]) for i in range(len(OUTPUTS))])  # copies (share_outputs=False)
            start += c
        if len(parts) == 1:
            return dict(zip(OUTPUTS, parts[0], strict=False))
        return {k: np.concatenate([p[i] for p in parts]) for i, k in enumerate(OUTPUTS)}
