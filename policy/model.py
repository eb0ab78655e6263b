"""The residual policy/value network, after KataGo's design.

No layer's size depends on the board: convolutions, and global pooling (mean,
size-scaled mean, max over the on-board points) feeding biases, so one network
plays every board size. Heads: policy (a logit per point and one for pass),
value (win logit for the player to move), score (final margin for the player
to move) and ownership (tanh per point, +1 = the player to move owns it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from go_engine.features import NUM_GLOBALS, NUM_PLANES, P_ON_BOARD


@dataclass
class NetConfig:
    """Architecture: ``blocks`` residual blocks of ``channels``; every ``gpool_every``-th has global pooling."""

    blocks: int = 6
    channels: int = 64
    gpool_channels: int = 16
    gpool_every: int = 3
    head_channels: int = 32
    value_hidden: int = 64
    in_planes: int = NUM_PLANES
    in_globals: int = NUM_GLOBALS

    def to_dict(self) -> dict:
        return asdict(self)


def global_pool(x: torch.Tensor, mask: torch.Tensor, mask_sum: torch.Tensor) -> torch.Tensor:
    """Mean, board-size-scaled mean and max of ``x`` over on-board points: [B, 3C]."""
    mean = (x * mask).sum(dim=(2, 3)) / mask_sum
    scale = (mask_sum.sqrt() - 14.0) / 10.0
    mx = (x + (mask - 1.0) * 1e4).amax(dim=(2, 3))
    return torch.cat([mean, mean * scale, mx], dim=1)


class ResBlock(nn.Module):
    """Pre-activation residual block; with ``gpool`` > 0 some channels of its first
    convolution are pooled over the board and turned into a bias for the rest."""

    def __init__(self, c: int, gpool: int = 0) -> None:
        super().__init__()
        self.gpool = gpool
        self.bn1 = nn.BatchNorm2d(c)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        if gpool:
            self.gconv = nn.Conv2d(c, gpool, 3, padding=1, bias=False)
            self.gbn = nn.BatchNorm2d(gpool)
            self.glin = nn.Linear(3 * gpool, c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, mask_sum: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.bn1(x)) * mask
        h = self.conv1(a)
        if self.gpool:
            g = F.relu(self.gbn(self.gconv(a))) * mask
            h = h + self.glin(global_pool(g, mask, mask_sum))[:, :, None, None]
        h = F.relu(self.bn2(h)) * mask
        return x + self.conv2(h)


class GoNet(nn.Module):
    """Planes ``[B, in_planes, S, S]`` (plane ``P_ON_BOARD`` is the on-board mask) and globals ``[B, in_globals]`` ->
    dict of ``policy`` [B, S*S + 1], ``value`` [B] (logit), ``score`` [B], ``ownership`` [B, S, S]."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.conv_in = nn.Conv2d(cfg.in_planes, c, 3, padding=1, bias=False)
        self.glob_in = nn.Linear(cfg.in_globals, c, bias=False)
        self.blocks = nn.ModuleList(
            ResBlock(c, cfg.gpool_channels if (i + 1) % cfg.gpool_every == 0 else 0) for i in range(cfg.blocks))
        self.bn_out = nn.BatchNorm2d(c)
        h = cfg.head_channels
        # policy head
        self.p_conv = nn.Conv2d(c, h, 1, bias=False)
        self.g_conv = nn.Conv2d(c, h, 1, bias=False)
        self.g_bn = nn.BatchNorm2d(h)
        self.p_bias = nn.Linear(3 * h, h, bias=False)
        self.p_bn = nn.BatchNorm2d(h)
        self.p_out = nn.Conv2d(h, 1, 1, bias=False)
        self.pass_out = nn.Linear(3 * h, 1)
        # value, score and ownership heads
        self.v_conv = nn.Conv2d(c, h, 1, bias=False)
        self.v_bn = nn.BatchNorm2d(h)
        self.v_fc = nn.Linear(3 * h, cfg.value_hidden)
        self.v_out = nn.Linear(cfg.value_hidden, 2)  # win logit, score
        self.own_out = nn.Conv2d(h, 1, 1)

    def forward(self, planes: torch.Tensor, globs: torch.Tensor) -> dict[str, torch.Tensor]:
        mask = planes[:, P_ON_BOARD:P_ON_BOARD + 1]
        mask_sum = mask.sum(dim=(2, 3))
        x = self.conv_in(planes) + self.glob_in(globs)[:, :, None, None]
        for block in self.blocks:
            x = block(x, mask, mask_sum)
        x = F.relu(self.bn_out(x)) * mask
        # policy
        p = self.p_conv(x)
        g = F.relu(self.g_bn(self.g_conv(x))) * mask
        gp = global_pool(g, mask, mask_sum)
        p = F.relu(self.p_bn(p + self.p_bias(gp)[:, :, None, None])) * mask
        logits = self.p_out(p).flatten(1) - (1.0 - mask.flatten(1)) * 1e4
        policy = torch.cat([logits, self.pass_out(gp)], dim=1)
        # value
        v = F.relu(self.v_bn(self.v_conv(x))) * mask
        vh = F.relu(self.v_fc(global_pool(v, mask, mask_sum)))
        vout = self.v_out(vh)
        own = torch.tanh(self.own_out(v)).squeeze(1)
        return {"policy": policy, "value": vout[:, 0], "score": vout[:, 1] * 20.0, "ownership": own}


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
