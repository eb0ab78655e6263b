"""Evaluators for the search: leaves in, ``selfplay.search.Evaluation`` out.

- ``UniformEvaluator``: uniform priors, value and score 0, no ownership (measures the search itself);
- ``NetworkEvaluator``: a ``GoNet``'s policy, value, score and ownership heads;
- ``PlayoutEvaluator``: no network: priors that avoid filling one's own eyes, and value, score and
  ownership from a few random playouts of each leaf (``tengen gtp --model none``).

Every figure is from the view of the player to move at the leaf (see ``Evaluation``).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import sys
from collections import OrderedDict

import numpy as np

from go_engine import kernels as K
from go_engine.features import (
    NUM_PLANES,
    apply_symmetry,
    global_features,
    input_key_width,
    inverse_symmetry,
    k_features_batch,
    k_input_keys,
)
from go_engine.playout import k_playouts

from .search import Evaluation, LeafBatch

__all__ = ["BACKENDS", "PRECISIONS", "UniformEvaluator", "NetworkEvaluator", "PlayoutEvaluator", "choose_backend",
           "leaf_features", "leaf_globals", "leaf_keys", "load_evaluator"]


class UniformEvaluator:
    """Uniform priors, value and score 0, no ownership: measures the search itself."""

    needs_history = False

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int], Evaluation] = {}

    def __call__(self, leaves: LeafBatch) -> Evaluation:
        a = leaves.size * leaves.size + 1
        key = (a, len(leaves))
        ev = self._cache.get(key)
        if ev is None:  # the same (read-only) answer for every batch of this size
            zeros = np.zeros(len(leaves), dtype=np.float32)
            ev = self._cache[key] = Evaluation(np.full((len(leaves), a), 1.0 / a, dtype=np.float32), zeros, zeros)
        return ev


def leaf_globals(leaves: LeafBatch) -> np.ndarray:
    """The scalar inputs of every leaf, float32 [n, G] (they differ only in the player to move)."""
    by_colour = np.stack([global_features(leaves.komi, c, leaves.ko_rule, leaves.suicide, leaves.territory)
                          for c in (K.BLACK, K.WHITE)])
    return by_colour[leaves.meta[:leaves.n, K.M_TOMOVE] - K.BLACK]


def leaf_features(leaves: LeafBatch, num_planes: int = NUM_PLANES, sym: int = 0,
                  rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Network inputs of the leaves ``rows`` (default: all): planes uint8 [len(rows), num_planes,
    size, size] (the first ``num_planes`` of the newest feature version: what the network reads),
    globals float32 [len(rows), G]."""
    rows = np.arange(len(leaves), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    s = leaves.size
    planes = np.empty((len(rows), num_planes, s, s), dtype=np.uint8)
    k_features_batch(leaves.S, leaves.meta, leaves.ring, leaves.head, leaves.count, rows, sym, planes)
    return planes, leaf_globals(leaves)[rows]


def leaf_keys(leaves: LeafBatch) -> list[bytes]:
    """A 128-bit digest of everything each leaf's network inputs are made of (``k_input_keys`` and the
    scalar inputs): leaves with equal keys have equal inputs."""
    n = len(leaves)
    raw = np.empty((n, input_key_width(leaves.S.shape[2])), dtype=np.uint8)
    k_input_keys(leaves.S, leaves.meta, leaves.ring, leaves.head, leaves.count, raw)
    raw = np.concatenate([raw, leaf_globals(leaves).view(np.uint8)], axis=1)
    return [hashlib.blake2b(raw[i], digest_size=16).digest() for i in range(n)]


BACKENDS = ("auto", "torch", "openvino")  # where ``NetworkEvaluator`` runs the network
PRECISIONS = ("auto", "float32", "bf16")  # the number type ``NetworkEvaluator`` runs the network in


def choose_backend(backend: str, device: str = "cpu") -> str:
    """``"torch"`` or ``"openvino"`` for ``backend`` (one of ``BACKENDS``) on ``device``. ``"auto"``
    is OpenVINO where it is installed and the device is the CPU (faster there at every thread count
    measured: policy/openvino_backend.py), else PyTorch."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    cpu = str(device) == "cpu"
    if backend == "openvino" and not cpu:
        raise ValueError(f"the openvino backend runs the network on the CPU, not on device {device}")
    if backend == "auto":
        import importlib.util

        return "openvino" if cpu and importlib.util.find_spec("openvino") else "torch"
    return backend


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class NetworkEvaluator:
    """Everything a ``GoNet`` (or any module with its forward signature) says, on ``device``.

    Value = tanh(value_logit / 2) = 2 * sigmoid(logit) - 1; the score head is
    already in points and the ownership head is tanh per point, both for the
    player to move. History planes are exact: the leaf's ring holds the colours
    of the positions along the game and the tree path. Features use the
    identity symmetry; ``with_symmetry`` gives an evaluator that reads them
    under another one (KataGo's ``kata-raw-nn SYMMETRY``); ``random_symmetry`` reads each call's
    batch under one drawn from ``seed``'s generator (Leela Zero's and KataGo's search default).

    ``backend`` (``BACKENDS``, see ``choose_backend``): ``"torch"`` runs the
    model itself (``prepare``: as ``policy.inference.prepare_for_inference``
    makes it ready), ``"openvino"`` a ``GoNet`` compiled by OpenVINO with torch's
    thread count (``policy.openvino_backend``). When OpenVINO cannot be imported,
    or fails to convert or compile, the network runs on PyTorch from then on,
    said in one line on stderr; ``backend`` names what runs.

    ``precision`` (``PRECISIONS``): ``"bf16"`` runs the network in bfloat16 (OpenVINO's
    inference precision, or PyTorch's autocast), several times faster on a CPU with AMX,
    its outputs within about 0.02 of float32's (docs/benchmarks.md); ``"auto"`` is bf16 on
    OpenVINO where the CPU computes in it natively, float32 otherwise. ``precision`` then
    names what runs.

    ``cache_size`` > 0 keeps the answers for that many positions (least recently
    used out first), keyed by a 128-bit digest of the network's inputs, as
    KataGo's network cache: a position met again (a transposition, or the same
    line in the trees of neighbouring positions of a game under analysis) costs
    no network call, and a batch evaluates each distinct position once."""

    needs_history = True

    def __init__(self, model, device: str = "cpu", prepare: bool = True, cache_size: int = 0,
                 backend: str = "torch", precision: str = "float32", random_symmetry: bool = False,
                 seed: int = 0) -> None:
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self._asked_precision = precision
        self.precision = "float32" if precision == "auto" else precision  # on PyTorch; OpenVINO says below
        self.torch = torch
        self.num_planes = model.cfg.in_planes  # the feature version's planes the network reads
        self.device = device
        self.backend = choose_backend(backend, device)
        self._source = model.to(device).eval()
        self._prepare = prepare
        self.model = None  # the torch module, made when the backend is torch
        self._openvino = None
        if self.backend == "openvino":
            try:
                from policy.openvino_backend import OpenVinoNet

                self._openvino = OpenVinoNet(self._source, threads=torch.get_num_threads(), precision=precision)
                self.precision = self._openvino.precision
            except Exception as e:  # noqa: BLE001 - not installed, or it cannot convert this network
                self._fall_back(e)
        if self.backend == "torch":
            self._torch_model()
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, tuple] = OrderedDict()
        self.hits = self.misses = 0
        self.symmetry = 0
        self.random_symmetry = random_symmetry
        self._rng = np.random.default_rng(seed)

    def with_symmetry(self, sym: int) -> NetworkEvaluator:
        """The same network reading its inputs under symmetry ``sym`` (0..7, see ``go_engine.features``),
        its policy and ownership turned back to the board's own orientation; without a cache."""
        if not 0 <= sym < 8:
            raise ValueError(f"symmetry must be 0 to 7, got {sym}")
        other = copy.copy(self)
        other.symmetry, other.cache_size, other._cache, other.random_symmetry = sym, 0, OrderedDict(), False
        return other

    def _torch_model(self) -> None:
        """The network on PyTorch: ``self.model``."""
        model = self._source
        if self._prepare:  # batch norm folded, channels_last, fused kernels: the same outputs, faster
            from policy.inference import prepare_for_inference

            # bf16: the plain convolutions, which autocast runs in bfloat16 (oneDNN's pre-packed ones it leaves alone)
            model = prepare_for_inference(model, self.device, onednn=False if self.precision == "bf16" else None)
        self.model = model

    def _fall_back(self, e: BaseException) -> None:
        """Run on PyTorch from now on, after OpenVINO failed with ``e``."""
        print(f"tengen: OpenVINO failed ({type(e).__name__}: {' '.join(str(e).split())[:300]}); "
              "the network runs on PyTorch", file=sys.stderr, flush=True)
        self.backend, self._openvino = "torch", None
        self.precision = "float32" if self._asked_precision == "auto" else self._asked_precision
        self._torch_model()

    def warm_up(self, size: int, max_batch: int = 8) -> None:
        """Make ready now what batches of up to ``max_batch`` leaves on ``size`` x ``size`` boards will
        run (OpenVINO compiles per input shape), so that no timed search pays for it."""
        if self._openvino is not None:
            try:
                self._openvino.prepare(size, size, max_batch)
            except Exception as e:  # noqa: BLE001 - a shape OpenVINO cannot compile
                self._fall_back(e)

    def clear_cache(self) -> None:
        self._cache.clear()

    def _outputs(self, planes: np.ndarray, globs: np.ndarray) -> dict[str, np.ndarray]:
        """The network's outputs (``GoNet``'s, float32 numpy) for these inputs."""
        if self._openvino is not None:
            try:
                return self._openvino(planes, globs)
            except Exception as e:  # noqa: BLE001 - a shape OpenVINO cannot compile
                self._fall_back(e)
        torch = self.torch
        dev = torch.device(self.device).type
        bf16 = torch.autocast(dev, dtype=torch.bfloat16) if self.precision == "bf16" else contextlib.nullcontext()
        with torch.inference_mode(), bf16:
            out = self.model(torch.from_numpy(planes).to(self.device, torch.float32),
                             torch.from_numpy(globs).to(self.device))
            return {k: v.float().cpu().numpy() for k, v in out.items()}

    def _network(self, planes: np.ndarray, globs: np.ndarray) -> list[np.ndarray]:
        out = self._outputs(planes, globs)
        return [_softmax(out["policy"]), np.tanh(out["value"] * 0.5), out["score"], out["ownership"]]

    def _heads(self, leaves: LeafBatch, rows: np.ndarray | None = None) -> list[np.ndarray]:
        """Priors, values, scores and ownership of the leaves (``rows`` of them), in the board's own
        orientation: read under ``symmetry``, or under one drawn per call with ``random_symmetry``."""
        sym = int(self._rng.integers(8)) if self.random_symmetry else self.symmetry
        heads = self._network(*leaf_features(leaves, self.num_planes, sym, rows=rows))
        return heads if sym == 0 else self._turned_back(heads, sym, leaves.size)

    def __call__(self, leaves: LeafBatch) -> Evaluation:
        if not self.cache_size:
            return Evaluation(*self._heads(leaves))
        keys = leaf_keys(leaves)  # the planes are computed for the positions not in the cache only
        first: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k not in self._cache:
                first.setdefault(k, i)  # distinct positions, in order
        self.hits += len(keys) - len(first)
        self.misses += len(first)
        if first:
            heads = self._heads(leaves, rows=np.fromiter(first.values(), np.int64))
            for j, k in enumerate(first):
                self._cache[k] = tuple(h[j] for h in heads)
        found = [self._cache[k] for k in keys]
        for k in keys:
            self._cache.move_to_end(k)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return Evaluation(*(np.stack([f[h] for f in found]) for h in range(4)))

    @staticmethod
    def _turned_back(heads: list[np.ndarray], sym: int, size: int) -> list[np.ndarray]:
        """The heads of inputs read under ``sym``, in the board's own orientation."""
        priors, values, scores, ownership = heads
        back = inverse_symmetry(sym)
        n = len(values)
        priors = priors.copy()
        priors[:, :-1] = apply_symmetry(priors[:, :-1].reshape(n, size, size), back).reshape(n, size * size)
        return [priors, values, scores, np.ascontiguousarray(apply_symmetry(ownership, back))]


class PlayoutEvaluator:
    """No network: uniform-ish priors over moves that do not fill one's own eye (more weight away from
    the edge), and value, score and ownership from ``playouts`` random playouts of each leaf."""

    needs_history = False

    def __init__(self, playouts: int = 4, seed: int = 0) -> None:
        self.playouts = playouts
        self.seed = seed

    def __call__(self, leaves: LeafBatch) -> Evaluation:
        n, size = len(leaves), leaves.size
        a = size * size + 1
        st = size + 2
        line = np.minimum(np.arange(size), np.arange(size)[::-1])
        shape = np.where(line == 0, 0.3, np.where(line == 1, 0.7, 1.0))
        base = np.append(np.outer(shape, shape).ravel() ** 0.5, 0.2).astype(np.float32)
        rng = np.random.default_rng(self.seed)
        pri = base * rng.uniform(0.8, 1.2, size=(n, a)).astype(np.float32)
        val = np.zeros(n, dtype=np.float32)
        score = np.zeros(n, dtype=np.float32)
        own = np.zeros((n, size, size), dtype=np.float32)
        results = np.zeros(self.playouts, dtype=np.int64)
        owners = np.zeros(leaves.S.shape[2], dtype=np.int64)
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
            owners[:] = 0
            k_playouts(S, meta, self.playouts, self.seed, 3 * size * size, results, owners)
            sign = 1.0 if c == K.BLACK else -1.0
            d = results.astype(np.float64) - leaves.komi  # Black's margin in each playout
            v = 0.5 * math.tanh(float(d.mean()) / size) + 0.5 * float(np.mean(np.sign(d)))
            val[i] = sign * v
            score[i] = sign * float(d.mean())
            own[i] = sign * owners.reshape(st, st)[1:-1, 1:-1] / self.playouts
        return Evaluation(pri, val, score, own)


def load_evaluator(model: str | None, device: str = "cpu", playouts: int | None = None, seed: int = 0,
                   cache_size: int = 0, backend: str = "torch", precision: str = "float32"):
    """The ``NetworkEvaluator`` of ``model`` (default: ``$TENGEN_MODEL``, else the bundled network;
    ``cache_size``, ``backend``, ``precision``: see there); for ``"none"``, a ``PlayoutEvaluator`` with ``playouts`` per
    leaf, or a ``UniformEvaluator`` without ``playouts``."""
    from policy.modelfile import load_model, resolve_model

    path = resolve_model(model)
    if path is None:
        return UniformEvaluator() if playouts is None else PlayoutEvaluator(playouts, seed)
    net, _info = load_model(path, device)
    return NetworkEvaluator(net, device, cache_size=cache_size, backend=backend, precision=precision)
