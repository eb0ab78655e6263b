"""Average the weights of networks fine-tuned from one starting network (a "model soup").

Networks trained on from the same starting point with a small learning rate stay in one basin of the
loss, and the mean of their weights often predicts better than either. Every model must have the same
architecture and feature version; batch normalisation's running statistics are averaged like the
weights. The result is a model file whose training record names its ingredients and their shares.

    python bench/soup.py runs/final-v4.pt runs/final-v5.pt --out runs/soup-v4v5.pt
    python bench/soup.py A.pt B.pt C.pt --weights 0.5 0.25 0.25 --out S.pt
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from policy.modelfile import ModelInfo, load_model, save_model  # noqa: E402


def soup(paths: list[Path], weights: list[float]) -> tuple[torch.nn.Module, ModelInfo]:
    """The weighted mean of the networks in ``paths`` (``weights`` sum to 1) and its model info."""
    nets = [load_model(p) for p in paths]
    first, info = nets[0]
    for p, (_, other) in zip(paths[1:], nets[1:], strict=True):
        if other.config != info.config or other.feature_version != info.feature_version:
            raise SystemExit(f"soup.py: {p}: {other.config} v{other.feature_version} is not "
                             f"{paths[0]}'s {info.config} v{info.feature_version}")
    states = [net.state_dict() for net, _ in nets]
    mixed = {}
    for key, value in states[0].items():
        if value.is_floating_point():
            mixed[key] = sum(w * s[key] for w, s in zip(weights, states, strict=True))
        else:  # counters such as num_batches_tracked
            mixed[key] = value
    first.load_state_dict(mixed)
    sizes = sorted({s for _, i in nets for s in i.board_sizes})
    ingredients = [{"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()[:16], "weight": w,
                    "steps": i.training.get("steps")} for p, w, (_, i) in zip(paths, weights, nets, strict=True)]
    training = dict(info.training)
    training["soup"] = ingredients
    return first, ModelInfo(info.config, info.feature_version, sizes, training)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--weights", nargs="+", type=float, help="one per model (default: equal shares)")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    weights = args.weights or [1.0 / len(args.models)] * len(args.models)
    if len(weights) != len(args.models) or abs(sum(weights) - 1) > 1e-6 or min(weights) < 0:
        raise SystemExit("soup.py: --weights needs one share per model, none negative, summing to 1")
    net, info = soup(args.models, weights)
    save_model(args.out, net, info)
    print(f"wrote {args.out}: {' + '.join(f'{w:g} x {p.name}' for p, w in zip(args.models, weights, strict=True))}")


if __name__ == "__main__":
    main()
