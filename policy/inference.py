"""The network made ready for play: batch norm folded away, channels_last, inference mode.

``prepare_for_inference(model)`` returns a ``FusedGoNet``: a module with
``GoNet``'s forward signature and output dict that computes what
``model.eval()`` computes (up to float rounding), faster:

- Every batch norm that follows a convolution or linear layer is folded into
  its weights and bias (``bn2`` into ``conv1`` and the pooled-bias ``glin``;
  ``gbn`` into ``gconv``; ``g_bn``, ``p_bn`` and ``v_bn`` into the head's
  1x1 convolutions and ``p_bias``). The folds are computed in float64.
- ``bn1`` and ``bn_out`` act on the residual stream, which also feeds the skip
  connection, and a ReLU stands between them and the next convolution, so they
  cannot be folded exactly; each becomes one per-channel scale-and-shift.
- The three 1x1 head convolutions read the same tensor and run as one.
- When every point of every board in the batch is on the board (the usual case:
  a batch of same-size boards in tensors of their size), the masking
  multiplications are skipped: multiplying by 1 changes nothing.
- Weights and activations are channels_last. On the CPU, with oneDNN, the
  ReLU after a convolution, the pooled bias before it and the residual sum
  run inside the convolution (oneDNN post-ops: the kernels ``torch.compile``
  itself emits), the residual stream is updated in place, and each
  convolution's weight is kept pre-packed in oneDNN's layout for the input
  shapes last seen. Elsewhere (CUDA, a build without oneDNN) the same graph
  runs on the ordinary ops.
- The forward runs under ``torch.inference_mode``.

Measured on the 2-core AVX2 CPU this was written on (default network, 19x19,
2 threads, one in-process A/B run, positions/s at batch 64 / batch 1):
plain eager float32 201 / 126; the same model channels_last 253 / 147;
folded graph on the ordinary ops (what CUDA runs) 314 / 180; with oneDNN
post-ops 327 / 168; with pre-packed weights (the default) 350 / 188, 1.74x /
1.5x the plain run. Other processes shared the CPU, so single figures
wander by 10-20 %; ``bench/infer.py`` pairs its timings to compare fairly.
``torch.jit.trace`` + ``freeze`` (+ ``optimize_for_inference``) was no
faster and slower to warm up. ``torch.compile`` (inductor, freezing) gains a
few % more at batch 64, but compiles for 10-30 s per batch shape, which a
search with varying batch sizes can rarely afford: ``compile=True`` asks for
it.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from go_engine.features import P_ON_BOARD

from .model import GoNet

__all__ = ["FusedGoNet", "CompiledGoNet", "ExportableGoNet", "OUTPUTS", "prepare_for_inference"]

_CL = torch.channels_last


# --- folding -------------------------------------------------------------------------------------

def _bn_scale_shift(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode ``bn(x) == x * scale + shift``, per channel, in float64."""
    var = bn.running_var.detach().double()
    mean = bn.running_mean.detach().double()
    w = bn.weight.detach().double() if bn.weight is not None else torch.ones_like(var)
    b = bn.bias.detach().double() if bn.bias is not None else torch.zeros_like(var)
    scale = w / torch.sqrt(var + bn.eps)
    return scale, b - mean * scale


def _d(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.detach().double().cpu()


def _fold_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Weight and bias (float64) of ``bn(conv(x))`` as one convolution."""
    w, b = _d(conv.weight), _d(conv.bias)
    if bn is None:
        return w, b
    scale, shift = (t.cpu() for t in _bn_scale_shift(bn))
    if b is None:
        b = torch.zeros(w.shape[0], dtype=torch.float64)
    return w * scale[:, None, None, None], b * scale + shift


def _make_conv(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Conv2d:
    out_c, in_c, k, _ = weight.shape
    conv = nn.Conv2d(in_c, out_c, k, padding=k // 2, bias=bias is not None)
    with torch.no_grad():
        conv.weight.copy_(weight.float())
        if bias is not None:
            conv.bias.copy_(bias.float())
    return conv


def _make_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    out_f, in_f = weight.shape
    lin = nn.Linear(in_f, out_f, bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(weight.float())
        if bias is not None:
            lin.bias.copy_(bias.float())
    return lin


def _affine(module: nn.Module, prefix: str, bn: nn.BatchNorm2d) -> None:
    """Register ``bn`` as buffers ``{prefix}_scale`` / ``{prefix}_shift`` of shape [1, C, 1, 1]."""
    scale, shift = _bn_scale_shift(bn)
    module.register_buffer(f"{prefix}_scale", scale.float().view(1, -1, 1, 1))
    module.register_buffer(f"{prefix}_shift", shift.float().view(1, -1, 1, 1))


# --- the convolution kernels ---------------------------------------------------------------------

class _Ops:
    """Convolutions with what follows them: oneDNN post-ops on the CPU, plain ops elsewhere.

    ``weights`` maps a convolution to its weight pre-packed by oneDNN for one input shape."""

    def __init__(self, onednn: bool, weights: dict | None = None) -> None:
        self.onednn = onednn
        self.weights = weights or {}

    def _w(self, c: nn.Conv2d) -> torch.Tensor:
        return self.weights.get(c, c.weight)

    def conv(self, x: torch.Tensor, c: nn.Conv2d, relu: bool = False) -> torch.Tensor:
        if self.onednn:
            return torch.ops.mkldnn._convolution_pointwise(
                x, self._w(c), c.bias, c.padding, c.stride, c.dilation, 1, "relu" if relu else "none", [], "")
        y = F.conv2d(x, c.weight, c.bias, padding=c.padding)
        return y.relu_() if relu else y

    def conv_add(self, x: torch.Tensor, c: nn.Conv2d, other: torch.Tensor, relu: bool = False) -> torch.Tensor:
        """``conv(x) + other`` (``other`` [B, C, 1, 1] broadcasts), then maybe a ReLU."""
        if self.onednn:
            return torch.ops.mkldnn._convolution_pointwise.binary(
                x, other, self._w(c), c.bias, c.padding, c.stride, c.dilation, 1, "add", 1.0,
                "relu" if relu else None, [], "")
        y = F.conv2d(x, c.weight, c.bias, padding=c.padding).add_(other)
        return y.relu_() if relu else y

    def accumulate_(self, acc: torch.Tensor, x: torch.Tensor, c: nn.Conv2d) -> torch.Tensor:
        """``acc += conv(x)`` in place."""
        if self.onednn:
            return torch.ops.mkldnn._convolution_pointwise_.binary(
                acc, x, self._w(c), c.bias, c.padding, c.stride, c.dilation, 1, "add", 1.0, None, [], None)
        return acc.add_(F.conv2d(x, c.weight, c.bias, padding=c.padding))


def _onednn_works() -> bool:
    """Whether the oneDNN fused convolutions (and weight packing) exist here and compute the plain result."""
    try:
        if not torch.backends.mkldnn.is_available():
            return False
        g = torch.Generator().manual_seed(1)
        c = nn.Conv2d(8, 8, 3, padding=1).to(memory_format=_CL)
        x = torch.randn(2, 8, 5, 5, generator=g).contiguous(memory_format=_CL)
        o = torch.randn(2, 8, 1, 1, generator=g)
        packed = torch.ops.mkldnn._reorder_convolution_weight(c.weight, c.padding, c.stride, c.dilation, 1,
                                                               list(x.shape))
        ref = _Ops(False)
        ok = True
        with torch.inference_mode():
            for ops in (_Ops(True), _Ops(True, {c: packed})):
                ok &= torch.allclose(ops.conv(x, c, True), ref.conv(x, c, True), atol=1e-5)
                ok &= torch.allclose(ops.conv_add(x, c, o, True), ref.conv_add(x, c, o, True), atol=1e-5)
                ok &= torch.allclose(ops.accumulate_(x.clone(), x, c), ref.accumulate_(x.clone(), x, c), atol=1e-5)
        return bool(ok)
    except (RuntimeError, AttributeError, NotImplementedError, TypeError):
        return False


# --- the network -----------------------------------------------------------------------------------

def _pool(x: torch.Tensor, mask: torch.Tensor | None, mask_sum: torch.Tensor) -> torch.Tensor:
    """``model.global_pool``; ``mask`` None means every point is on the board."""
    if mask is None:
        mean = x.sum(dim=(2, 3)) / mask_sum
        mx = x.amax(dim=(2, 3))
    else:
        mean = (x * mask).sum(dim=(2, 3)) / mask_sum
        mx = (x + (mask - 1.0) * 1e4).amax(dim=(2, 3))
    scale = (mask_sum.sqrt() - 14.0) / 10.0
    return torch.cat([mean, mean * scale, mx], dim=1)


def _masked(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return x if mask is None else x.mul_(mask)


class FusedBlock(nn.Module):
    """A ``ResBlock`` with ``bn2`` and ``gbn`` folded and ``bn1`` as a scale-and-shift."""

    def __init__(self, block) -> None:
        super().__init__()
        self.gpool = block.gpool
        _affine(self, "bn1", block.bn1)
        self.conv1 = _make_conv(*_fold_conv(block.conv1, block.bn2))
        if self.gpool:
            s2, _ = _bn_scale_shift(block.bn2)
            self.glin = _make_linear(_d(block.glin.weight) * s2.cpu()[:, None], None)
            self.gconv = _make_conv(*_fold_conv(block.gconv, block.gbn))
        self.conv2 = _make_conv(*_fold_conv(block.conv2, None))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, mask_sum: torch.Tensor,
                ops: _Ops) -> torch.Tensor:
        """Updates the residual stream ``x`` in place and returns it."""
        a = _masked(torch.addcmul(self.bn1_shift, x, self.bn1_scale).relu_(), mask)
        if self.gpool:
            g = _masked(ops.conv(a, self.gconv, relu=True), mask)
            bias = self.glin(_pool(g, mask, mask_sum))[:, :, None, None]
            h = ops.conv_add(a, self.conv1, bias, relu=True)
        else:
            h = ops.conv(a, self.conv1, relu=True)
        return ops.accumulate_(x, _masked(h, mask), self.conv2)


class FusedGoNet(nn.Module):
    """``GoNet`` in eval mode with its batch norms folded; same forward and outputs (inference tensors).

    ``onednn``: run the convolutions as oneDNN fused kernels (CPU only). ``pack``: with ``onednn``,
    keep the weights also pre-packed in oneDNN's layout for the last ``MAX_PACKED`` input shapes
    (batch, height, width) seen, which spares a weight reorder per convolution per call. The
    packed copies are made on first use of a shape: change no weight after the first forward."""

    MAX_PACKED = 8

    def __init__(self, model: GoNet, onednn: bool = False, pack: bool = True) -> None:
        super().__init__()
        self.cfg = model.cfg
        self.ops = _Ops(onednn)
        self.pack = pack
        self._packed: OrderedDict[tuple[int, int, int], _Ops] = OrderedDict()
        self.conv_in = _make_conv(*_fold_conv(model.conv_in, None))
        self.glob_in = _make_linear(_d(model.glob_in.weight), _d(model.glob_in.bias))
        self.blocks = nn.ModuleList(FusedBlock(b) for b in model.blocks)
        _affine(self, "bn_out", model.bn_out)
        h = self.h = model.cfg.head_channels
        wp, bp = _fold_conv(model.p_conv, model.p_bn)
        wg, bg = _fold_conv(model.g_conv, model.g_bn)
        wv, bv = _fold_conv(model.v_conv, model.v_bn)
        # one 1x1 convolution for the policy, policy-pooling and value trunks, in that order
        self.head_conv = _make_conv(torch.cat([wp, wg, wv]), torch.cat([bp, bg, bv]))
        sp, _ = _bn_scale_shift(model.p_bn)
        self.p_bias = _make_linear(_d(model.p_bias.weight) * sp.cpu()[:, None], None)
        self.p_out = _make_conv(*_fold_conv(model.p_out, None))
        self.pass_out = _make_linear(_d(model.pass_out.weight), _d(model.pass_out.bias))
        self.v_fc = _make_linear(_d(model.v_fc.weight), _d(model.v_fc.bias))
        self.v_out = _make_linear(_d(model.v_out.weight), _d(model.v_out.bias))
        self.own_out = _make_conv(*_fold_conv(model.own_out, None))
        assert h == self.head_conv.out_channels // 3
        self.requires_grad_(False)
        self.eval()

    def forward(self, planes: torch.Tensor, globs: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.inference_mode():
            planes = planes.contiguous(memory_format=_CL)
            mask = planes[:, P_ON_BOARD:P_ON_BOARD + 1]
            mask_sum = mask.sum(dim=(2, 3))
            full = bool((mask == 1.0).all())
            return self._forward(planes, globs, None if full else mask, mask_sum, self._ops_for(planes))

    def _apply(self, *args, **kwargs):
        self._packed.clear()  # moved or converted: the packed copies are stale
        return super()._apply(*args, **kwargs)

    def _ops_for(self, planes: torch.Tensor) -> _Ops:
        if not (self.ops.onednn and self.pack):
            return self.ops
        b, _, h, w = planes.shape
        key = (b, h, w)
        ops = self._packed.get(key)
        if ops is None:
            packed = {c: torch.ops.mkldnn._reorder_convolution_weight(
                          c.weight, c.padding, c.stride, c.dilation, 1, [b, c.in_channels, h, w])
                      for c in self.modules() if isinstance(c, nn.Conv2d)}
            ops = _Ops(True, packed)
            while len(self._packed) >= self.MAX_PACKED:
                self._packed.popitem(last=False)
            self._packed[key] = ops
        else:
            self._packed.move_to_end(key)
        return ops

    def _forward(self, planes: torch.Tensor, globs: torch.Tensor, mask: torch.Tensor | None,
                 mask_sum: torch.Tensor, ops: _Ops) -> dict[str, torch.Tensor]:
        x = ops.conv_add(planes, self.conv_in, self.glob_in(globs)[:, :, None, None])
        for block in self.blocks:
            x = block(x, mask, mask_sum, ops)
        x = _masked(torch.addcmul(self.bn_out_shift, x, self.bn_out_scale).relu_(), mask)
        h = self.h
        hc = ops.conv(x, self.head_conv)
        g = _masked(hc[:, h:2 * h].relu(), mask)
        gp = _pool(g, mask, mask_sum)
        p = _masked((hc[:, :h] + self.p_bias(gp)[:, :, None, None]).relu_(), mask)
        logits = ops.conv(p, self.p_out).flatten(1)
        if mask is not None:
            logits = logits - (1.0 - mask.flatten(1)) * 1e4
        policy = torch.cat([logits, self.pass_out(gp)], dim=1)
        v = _masked(hc[:, 2 * h:].relu(), mask)
        vh = F.relu(self.v_fc(_pool(v, mask, mask_sum)))
        vout = self.v_out(vh)
        own = torch.tanh(ops.conv(v, self.own_out)).squeeze(1)
        return {"policy": policy, "value": vout[:, 0], "score": vout[:, 1] * 20.0, "ownership": own}


def prepare_for_inference(model: GoNet, device: str | torch.device = "cpu", *, onednn: bool | None = None,
                          pack: bool = True, compile: bool = False) -> FusedGoNet | CompiledGoNet:
    """An inference copy of ``model`` (left untouched) on ``device``: batch norms folded, channels_last,
    oneDNN fused convolutions with pre-packed weights on the CPU where they work (``onednn``,
    ``pack``: see ``FusedGoNet``; ``onednn=None`` decides by device and a self-check).

    ``compile=True`` also runs full-board batches through ``torch.compile`` (inductor, frozen
    weights): it compiles once per batch shape, 10-30 s each on a small CPU, and falls back to
    the eager module where compiling fails."""
    device = torch.device(device)
    if onednn is None:
        onednn = device.type == "cpu" and _onednn_works()
    fused = FusedGoNet(model, onednn=onednn and device.type == "cpu", pack=pack)
    fused = fused.to(device).to(memory_format=_CL)
    return CompiledGoNet(fused) if compile else fused


class _FullBoard(nn.Module):
    """The mask-free path of a ``FusedGoNet`` on the plain ops, as one graph for ``torch.compile``
    (inductor matches the plain ops and picks its own fused kernels)."""

    def __init__(self, net: FusedGoNet) -> None:
        super().__init__()
        self.net = net
        self.ops = _Ops(False)

    def forward(self, planes: torch.Tensor, globs: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.net._forward(planes, globs, None, planes[:, P_ON_BOARD:P_ON_BOARD + 1].sum(dim=(2, 3)), self.ops)


OUTPUTS = ("policy", "value", "score", "ownership")  # ``ExportableGoNet``'s outputs, in order


class ExportableGoNet(nn.Module):
    """``FusedGoNet``'s folded graph on the plain ops, for exporters and tracers (ONNX, OpenVINO): the
    on-board mask always applied, so that one graph gives ``GoNet``'s outputs for any board, and the
    outputs as a tuple in ``OUTPUTS`` order."""

    def __init__(self, model: GoNet) -> None:
        super().__init__()
        self.net = FusedGoNet(model, onednn=False)
        self.ops = _Ops(False)

    def forward(self, planes: torch.Tensor, globs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mask = planes[:, P_ON_BOARD:P_ON_BOARD + 1]
        out = self.net._forward(planes, globs, mask, mask.sum(dim=(2, 3)), self.ops)
        return tuple(out[k] for k in OUTPUTS)


class CompiledGoNet(nn.Module):
    """A ``FusedGoNet`` whose full-board batches run through ``torch.compile``; batches with
    off-board points, and every batch once compiling has failed, run the eager module."""

    def __init__(self, net: FusedGoNet) -> None:
        super().__init__()
        self.net = net
        self.cfg = net.cfg
        self.compiled = None
        self.failure: str | None = None
        try:
            self.compiled = torch.compile(_FullBoard(net).eval(), dynamic=False, options={"freezing": True})
        except Exception as e:  # noqa: BLE001 - no compiler here: the eager module it is
            self.failure = f"{type(e).__name__}: {e}"

    def forward(self, planes: torch.Tensor, globs: torch.Tensor) -> dict[str, torch.Tensor]:
        planes = planes.contiguous(memory_format=_CL)
        if self.compiled is not None and bool((planes[:, P_ON_BOARD] == 1.0).all()):
            try:
                with torch.no_grad():
                    return self.compiled(planes, globs)
            except Exception as e:  # noqa: BLE001 - compilation fails at the first call
                self.compiled, self.failure = None, f"{type(e).__name__}: {e}"
        return self.net(planes, globs)
