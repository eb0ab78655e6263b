"""Network inference speed: the play-tuned module beside plain eager float32 PyTorch.

Prints one JSON line describing the run (torch threads = the machine's cores
unless ``--threads``, load average, oneDNN fusions on or off), then one line
per (device, batch size):
  device, batch, size, plain_pos_per_s (``model.eval()`` under
  ``torch.no_grad``, NCHW float32), optimized_pos_per_s
  (``policy.inference.prepare_for_inference``), ratio, max_abs_diff (largest
  difference between the two on the policy/value/score/ownership outputs).
Rates are medians over ``--repeats`` timed rounds after warm-up; each round
times the two models back to back (in alternating order), and ``ratio`` is
the median of the per-round ratios, so that load from other processes
sharing the CPU hits both sides alike. CUDA rows follow when a GPU is there.

    python bench/infer.py [--batches 1 8 64 256] [--model FILE | --blocks 6 --channels 64]
                          [--repeats 7] [--seconds 0.5] [--threads N] [--compile]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from go_engine.features import P_ON_BOARD  # noqa: E402
from policy.inference import _onednn_works, prepare_for_inference  # noqa: E402
from policy.model import GoNet, NetConfig  # noqa: E402
from policy.modelfile import load_model  # noqa: E402


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def random_inputs(batch: int, size: int, seed: int, device: torch.device,
                  cfg: NetConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Planes like the feature kernels' for ``cfg``'s network: sparse binary planes, a full on-board mask."""
    g = torch.Generator().manual_seed(seed)
    planes = (torch.rand(batch, cfg.in_planes, size, size, generator=g) < 0.15).float()
    planes[:, P_ON_BOARD] = 1.0
    globs = torch.rand(batch, cfg.in_globals, generator=g)
    return planes.to(device), globs.to(device)


def make_model(args) -> GoNet:
    if args.model:
        model, _ = load_model(args.model)
        return model.eval()
    torch.manual_seed(0)
    return randomize_batchnorm(GoNet(NetConfig(blocks=args.blocks, channels=args.channels)))


def randomize_batchnorm(model: GoNet, seed: int = 1) -> GoNet:
    """``model`` in eval mode with batch-norm statistics unlike the identity, as a trained network's are."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            with torch.no_grad():
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.2)
    return model.eval()


def timer(fn, planes, globs, device: torch.device):
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def run(n: int) -> float:
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            fn(planes, globs)
        sync()
        return (time.perf_counter() - t0) / n
    return run


def bench_device(device: torch.device, model: GoNet, args) -> None:
    plain = model.to(device).eval()
    fast = prepare_for_inference(model, device)
    compiled = prepare_for_inference(model, device, compile=True) if args.compile else None

    def plain_fn(p, g):
        with torch.no_grad():
            return plain(p, g)

    for batch in args.batches:
        planes, globs = random_inputs(batch, args.size, batch, device, model.cfg)
        fns = {"plain": plain_fn, "optimized": fast}
        if compiled is not None:
            fns["compiled"] = compiled
        with torch.no_grad():
            ref = plain(planes, globs)
            diffs = {}
            for name, fn in fns.items():
                if name == "plain":
                    continue
                out = fn(planes, globs)
                diffs[name] = max(float((out[k].float() - ref[k]).abs().max()) for k in ref)
        runs = {name: timer(fn, planes, globs, device) for name, fn in fns.items()}
        # warm up (oneDNN builds its kernels per shape), and size each timed round from the warm-up
        per_call = {name: min(run(1) for _ in range(args.warmup)) for name, run in runs.items()}
        n = {name: max(1, round(args.seconds / max(t, 1e-6))) for name, t in per_call.items()}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for r in range(args.repeats):
            order = list(runs) if r % 2 == 0 else list(reversed(runs))
            for name in order:
                times[name].append(runs[name](n[name]))
        rate = {name: batch / statistics.median(ts) for name, ts in times.items()}
        ratios = [p / o for p, o in zip(times["plain"], times["optimized"], strict=True)]
        row = {"device": str(device), "batch": batch, "size": args.size,
               "plain_pos_per_s": round(rate["plain"], 1), "optimized_pos_per_s": round(rate["optimized"], 1),
               "ratio": round(statistics.median(ratios), 3)}
        if compiled is not None:
            row["compiled_pos_per_s"] = round(rate["compiled"], 1)
            row["compiled_ratio"] = round(statistics.median(
                p / c for p, c in zip(times["plain"], times["compiled"], strict=True)), 3)
        row["max_abs_diff"] = {k: float(f"{v:.3g}") for k, v in diffs.items()}
        print(json.dumps(row), flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64, 256])
    ap.add_argument("--size", type=int, default=19)
    ap.add_argument("--model", help="a model file (policy.modelfile); default: a fresh NetConfig() network")
    ap.add_argument("--blocks", type=int, default=NetConfig.blocks)
    ap.add_argument("--channels", type=int, default=NetConfig.channels)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=0.5, help="target length of one timed round of one model")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    ap.add_argument("--compile", action="store_true", help="also time the torch.compile variant")
    ap.add_argument("--no-cuda", action="store_true")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    model = make_model(args)
    print(json.dumps({
        "torch": torch.__version__, "cpu": cpu_name(), "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "threads_from": "--threads" if args.threads != os.cpu_count() else "all cores (torch.set_num_threads)",
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "model": args.model or "fresh NetConfig network, random batch-norm statistics",
        "onednn_fused_convs": _onednn_works(), "config": model.cfg.to_dict(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }), flush=True)
    bench_device(torch.device("cpu"), model, args)
    if torch.cuda.is_available() and not args.no_cuda:
        bench_device(torch.device("cuda"), model, args)


if __name__ == "__main__":
    main()
