"""CPU inference backends for the network: the prepared PyTorch model against ONNX Runtime and OpenVINO.

For each network, thread count and batch size (19x19 unless ``--size``), the
backends are timed in interleaved rounds in one process: every round times
each backend for about ``--seconds`` (the order reversed every other round),
so that load from other processes hits all of them alike. Rates are medians
over ``--repeats`` rounds; ``ratio`` (backend over PyTorch) is the median of
the per-round ratios. ``max_abs_diff`` is each backend's largest difference
from the plain ``model.eval()`` float32 outputs, per output (policy logits,
value logit, score, ownership).

Backends:
  torch     ``policy.inference.prepare_for_inference`` (batch norm folded,
            channels_last, oneDNN fused convolutions), ``torch.set_num_threads(T)``.
  ort       ONNX Runtime, CPU execution provider, from the network exported in
            memory by ``torch.onnx`` (TorchScript exporter; batch norms folded
            as ``FusedGoNet`` folds them, the on-board mask applied as in
            ``policy/model.py``, dynamic batch and board axes); intra-op
            threads T, one inter-op thread, sequential, all graph
            optimizations; idle pool threads sleep
            (``session.intra_op.allow_spinning`` 0) unless ``--ort-spin``.
  ort-static  the same with one session per input shape, its dimensions fixed.
  openvino  what ``tengen`` runs with ``--backend openvino``: ``policy.openvino_backend.OpenVinoNet``
            (the same folded graph traced and converted by OpenVINO's PyTorch
            frontend, one compiled model per input shape, float32, latency
            hint, T threads, no pinning).
A backend whose package is missing is left out (a line says so). In the
markdown table a ratio of 1.3 or more is bold.

Networks (``--nets``): ``bundled`` (policy.modelfile.BUNDLED), a model file, or
``vF-BxC``: a fresh ``GoNet`` of B blocks x C channels on input feature
version F, random weights and batch-norm statistics (the cost is what matters).

PyTorch's OpenMP threads spin while they wait (libgomp's default); on a CPU
shared with other busy processes that costs more than the work. Run once as is
and once with ``OMP_WAIT_POLICY=PASSIVE`` in the environment to see both; the
first JSON line records the setting.

    python bench/onnx_infer.py [--nets bundled v2-6x32 v2-10x64] [--threads 2 1] [--backends openvino]
                               [--batches 1 8 16 64] [--repeats 7] [--seconds 0.4] [--markdown]

A batch size that is not a power of two shows what the openvino backend does
with it: it runs as power-of-two chunks (``policy.openvino_backend.chunks``).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.infer import cpu_name, random_inputs, randomize_batchnorm  # noqa: E402
from go_engine.features import P_ON_BOARD, planes_for  # noqa: E402
from policy.inference import OUTPUTS as KEYS, ExportableGoNet, prepare_for_inference  # noqa: E402
from policy.model import GoNet, NetConfig  # noqa: E402
from policy.modelfile import BUNDLED, load_model  # noqa: E402
from policy.openvino_backend import OpenVinoNet  # noqa: E402


def make_net(spec: str) -> GoNet:
    """``bundled``, a model file, or ``vF-BxC`` (random weights)."""
    m = re.fullmatch(r"v(\d+)-(\d+)x(\d+)", spec)
    if m is None:
        model, _ = load_model(BUNDLED if spec == "bundled" else spec)
        return model.eval()
    version, blocks, channels = map(int, m.groups())
    torch.manual_seed(0)
    return randomize_batchnorm(GoNet(NetConfig(blocks=blocks, channels=channels, in_planes=planes_for(version))))


def onnx_bytes(model: GoNet) -> bytes:
    """``model`` as an ONNX graph in memory (the TorchScript exporter, opset 17), dynamic batch and board."""
    planes = torch.zeros(2, model.cfg.in_planes, 19, 19)
    planes[:, P_ON_BOARD] = 1.0
    buf = io.BytesIO()
    torch.onnx.export(
        ExportableGoNet(model).eval(), (planes, torch.zeros(2, model.cfg.in_globals)), buf,
        input_names=["planes", "globals"], output_names=list(KEYS), opset_version=17, dynamo=False,
        dynamic_axes={"planes": {0: "batch", 2: "height", 3: "width"}, "globals": {0: "batch"},
                      "policy": {0: "batch", 1: "moves"}, "value": {0: "batch"}, "score": {0: "batch"},
                      "ownership": {0: "batch", 1: "height", 2: "width"}})
    return buf.getvalue()


def torch_backend(model: GoNet):
    net = prepare_for_inference(model)

    def run(planes: np.ndarray, globs: np.ndarray) -> dict:
        out = net(torch.from_numpy(planes), torch.from_numpy(globs))
        return {k: v.numpy() for k, v in out.items()}
    return run


def ort_backend(graph: bytes, threads: int, spin: bool, static: bool):
    """An ONNX Runtime session; ``static``: one session per input shape, its dimensions fixed."""
    import onnxruntime as ort

    def session(shape: tuple[int, ...] | None):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        if shape is not None:
            b, _, h, w = shape
            for name, n in (("batch", b), ("height", h), ("width", w)):
                so.add_free_dimension_override_by_name(name, n)
        return ort.InferenceSession(graph, so, providers=["CPUExecutionProvider"])

    sessions = {} if static else {None: session(None)}

    def run(planes: np.ndarray, globs: np.ndarray) -> dict:
        key = planes.shape if static else None
        if key not in sessions:
            sessions[key] = session(key)
        return dict(zip(KEYS, sessions[key].run(None, {"planes": planes, "globals": globs}), strict=False))
    return run


def backends(model: GoNet, graph: bytes | None, threads: int, args) -> dict:
    """The backends that run here, by name; the ONNX Runtime ones need ``graph``."""
    torch.set_num_threads(threads)
    out = {"torch": torch_backend(model)}
    makers = {"openvino": lambda: OpenVinoNet(model, threads)}
    if graph is not None:
        makers = {"ort": lambda: ort_backend(graph, threads, args.ort_spin, static=False),
                  "ort-static": lambda: ort_backend(graph, threads, args.ort_spin, static=True), **makers}
    for name, make in makers.items():
        if name not in args.backends:
            continue
        try:
            out[name] = make()
        except ImportError as e:
            print(json.dumps({"backend": name, "left_out": str(e)}), flush=True)
    return out


def time_rounds(fns: dict, planes: np.ndarray, globs: np.ndarray, args) -> dict[str, list[float]]:
    """Seconds per call of each backend, one figure per round, rounds interleaved."""
    per_call = {}
    for name, fn in fns.items():
        for _ in range(args.warmup):
            t0 = time.perf_counter()
            fn(planes, globs)
            per_call[name] = min(per_call.get(name, 1e9), time.perf_counter() - t0)
    n = {name: max(1, round(args.seconds / max(t, 1e-6))) for name, t in per_call.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(args.repeats):
        for name in (list(fns) if r % 2 == 0 else list(reversed(fns))):
            t0 = time.perf_counter()
            for _ in range(n[name]):
                fns[name](planes, globs)
            times[name].append((time.perf_counter() - t0) / n[name])
    return times


def bench_net(spec: str, args) -> list[dict]:
    model = make_net(spec)
    graph = None
    try:
        if {"ort", "ort-static"} & set(args.backends):
            graph = onnx_bytes(model)
    except Exception as e:  # noqa: BLE001 - no exporter here (onnx missing, exporter gone): no ONNX Runtime
        print(json.dumps({"net": spec, "onnx_export_failed": f"{type(e).__name__}: {e}"}), flush=True)
    rows = []
    for threads in args.threads:
        fns = backends(model, graph, threads, args)
        for batch in args.batches:
            p, g = random_inputs(batch, args.size, batch, torch.device("cpu"), model.cfg)
            with torch.no_grad():
                ref = {k: v.numpy() for k, v in model(p, g).items()}
            planes, globs = p.numpy(), g.numpy()
            diffs = {name: {k: float(f"{float(np.abs(fn(planes, globs)[k] - ref[k]).max()):.2g}") for k in KEYS}
                     for name, fn in fns.items()}
            times = time_rounds(fns, planes, globs, args)
            row = {"net": spec, "threads": threads, "batch": batch, "size": args.size,
                   "pos_per_s": {k: round(batch / statistics.median(t), 1) for k, t in times.items()},
                   "ratio": {k: round(statistics.median(b / t for b, t in zip(times["torch"], ts, strict=False)), 2)
                             for k, ts in times.items() if k != "torch"},
                   "max_abs_diff": diffs, "load_avg_1m": round(os.getloadavg()[0], 2)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def markdown(rows: list[dict]) -> str:
    names = [k for k in rows[0]["pos_per_s"] if k != "torch"]
    head = ["net", "threads", "batch", "torch pos/s"] + [f"{n} pos/s" for n in names] + [f"{n} / torch" for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in rows:
        cells = [r["net"], str(r["threads"]), str(r["batch"]), f"{r['pos_per_s']['torch']:,.1f}"]
        cells += [f"{r['pos_per_s'].get(n, float('nan')):,.1f}" for n in names]
        cells += [f"**{x:.2f}**" if x >= 1.3 else f"{x:.2f}" for x in (r["ratio"].get(n, float("nan")) for n in names)]
        lines.append("| " + " | ".join(cells) + " |")
    worst = {n: max(max(r["max_abs_diff"][n].values()) for r in rows if n in r["max_abs_diff"])
             for n in rows[0]["max_abs_diff"]}
    lines.append("")
    lines.append("Largest output difference from the plain eval model: "
                 + ", ".join(f"{n} {v:.2g}" for n, v in worst.items()) + ".")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nets", nargs="+", default=["bundled", "v2-6x32", "v2-10x64"])
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 16, 64])
    ap.add_argument("--size", type=int, default=19)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=0.4, help="target length of one timed round of one backend")
    ap.add_argument("--backends", nargs="+", default=["ort", "ort-static", "openvino"],
                    choices=["ort", "ort-static", "openvino"], help="what to time against torch")
    ap.add_argument("--ort-spin", action="store_true", help="let ONNX Runtime's idle pool threads spin")
    ap.add_argument("--markdown", action="store_true", help="also print the rows as a markdown table")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    versions = {}
    for pkg in ("onnxruntime", "onnx", "openvino"):
        try:
            versions[pkg] = __import__(pkg).__version__
        except ImportError:
            versions[pkg] = None
    print(json.dumps({
        "date": datetime.date.today().isoformat(), "command": " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
        "cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
        **versions, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"), "ort_spin": args.ort_spin,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }), flush=True)
    rows = []
    for spec in args.nets:
        rows += bench_net(spec, args)
    if args.markdown and rows:
        print(markdown(rows))


if __name__ == "__main__":
    main()
