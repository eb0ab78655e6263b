"""``tengen train``: supervised training from shards, readable top to bottom.

Loss = policy cross-entropy + value loss (where the result is known) + score
loss (where the margin is known) + ownership loss (where it is settled),
weights configurable. Checkpoints are atomic (the first one soon after the
start) and ``resume`` continues exactly: weights, optimizer, schedule, step,
data position and random state; they hold tensors and JSON only and load with
``weights_only``, so no file in a run folder can run code. Ctrl-C saves and
exits; a loss that is not finite stops the run without touching the last good
checkpoint. A time budget (``minutes``) ends the run and, with it, the learning
rate schedule. Under ``torchrun`` the same code trains with
DistributedDataParallel (NCCL on GPUs, gloo on CPUs). On CUDA: bf16 autocast (on the
CPU by choice), channels_last, optionally ``torch.compile``, and loader worker processes.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import platform
import signal
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from go_engine.atomic import atomic_write_bytes
from go_engine.features import FEATURE_VERSION, planes_for

from .data.loader import Batch, DataGroup, PositionLoader, data_groups, group_weights, mixed_batches
from .model import GoNet, NetConfig, count_parameters
from .modelfile import ModelInfo, load_model, save_model

FIRST_CHECKPOINT_SECONDS = 30.0  # the first checkpoint comes early, so that a kill loses little


class TrainingError(RuntimeError):
    """A run that cannot go on (a loss that is not finite)."""


@dataclass
class TrainConfig:
    train: list[str]
    out: str
    val: list[str] = field(default_factory=list)
    steps: int = 10000
    batch_size: int = 256
    sample_rate: float = 1.0  # share of each game's positions used (fewer, less correlated)
    komi_relabel: float = 0.5  # share of counted games replayed under a new komi (policy.data.loader)
    # share of the batches drawn from each named board size when the data holds several (a batch is of one
    # size); sizes not named share the rest in proportion to their positions
    size_shares: dict[int, float] = field(default_factory=dict)
    # share of the batches drawn from each training input named here (as given in ``train``), apart from
    # its board size's: Tengen's own games beside human ones, say
    source_shares: dict[str, float] = field(default_factory=dict)
    # batch normalisation keeps the running statistics it starts with (--init's) and normalises every batch
    # by them, as in play, instead of by the batch's own: a fine-tune that mixes board sizes needs this, as
    # statistics gathered from batches of different sizes fit neither size
    freeze_norm: bool = False
    feature_version: int = FEATURE_VERSION
    loader_workers: int = 0  # processes that replay games; 0: in the training process
    minutes: float | None = None  # time budget: stop (and end the learning-rate schedule) after it
    optimizer: str = "sgd"  # or "adamw"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    policy_weight: float = 1.0
    value_weight: float = 1.0
    score_weight: float = 0.02
    ownership_weight: float = 1.0
    log_every: int = 50
    eval_every: int = 1000
    eval_positions: int = 20000
    checkpoint_minutes: float = 5.0
    seed: int = 0
    device: str = "auto"
    compile: bool = False
    precision: str = "auto"  # "auto" (bf16 on CUDA, float32 elsewhere), "bf16" or "float32": autocast's type
    init: str | None = None  # a model file to start from: ``net``'s architecture, inputs a prefix of ours
    net: NetConfig = field(default_factory=NetConfig)

    def __post_init__(self) -> None:
        self.size_shares = {int(k): float(v) for k, v in self.size_shares.items()}  # JSON gives string keys
        planes = planes_for(self.feature_version)
        if self.net.in_planes != planes:
            self.net = replace(self.net, in_planes=planes)


def pick_device(name: str = "auto") -> torch.device:
    """CUDA, then Apple MPS, then the CPU, unless ``name`` says which (``ValueError`` for a device that
    is not a device's name, or not here)."""
    if name != "auto":
        try:
            dev = torch.device(name)
        except RuntimeError:
            raise ValueError(f"unknown device {name!r}: expected auto, cpu, cuda, cuda:N or mps") from None
        if dev.type == "cuda" and not (torch.cuda.is_available() and (dev.index or 0) < torch.cuda.device_count()):
            raise ValueError(f"device {name!r} is not available here ({torch.cuda.device_count()} CUDA devices)")
        if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"device {name!r} is not available here")
        if dev.type not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device {name!r} is not supported: expected auto, cpu, cuda, cuda:N or mps")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def bf16_autocast(precision: str, device: torch.device) -> bool:
    """Whether the forward pass runs under bf16 autocast: ``auto`` means on CUDA only (on a CPU with
    AMX, ``bf16`` trains about 1.5x faster: docs/benchmarks.md)."""
    if precision not in ("auto", "bf16", "float32"):
        raise ValueError(f"unknown precision {precision!r}: expected auto, bf16 or float32")
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def to_tensors(b: Batch | dict, device: torch.device) -> dict[str, torch.Tensor]:
    """A batch (or the tensors a loader worker made of one) on ``device``."""
    t = b if isinstance(b, dict) else {k: torch.from_numpy(getattr(b, k)) for k in Batch.field_names()}
    out = {k: v.to(device, non_blocking=True) for k, v in t.items()}
    out["planes"] = out["planes"].float().contiguous(memory_format=torch.channels_last)  # faster on CUDA and CPU
    return out


def losses(out: dict[str, torch.Tensor], t: dict[str, torch.Tensor], cfg: TrainConfig) -> dict[str, torch.Tensor]:
    policy = -(t["policy_target"] * F.log_softmax(out["policy"].float(), dim=1)).sum(dim=1).mean()
    vm, sm = t["value_mask"], t["score_mask"]
    # value target: 1 win, 0 loss, 0.5 draw, for the player to move
    vt = (t["value"] + 1.0) / 2.0
    value = (F.binary_cross_entropy_with_logits(out["value"].float(), vt, reduction="none") * vm).sum() / vm.sum().clamp(min=1)
    score = (F.huber_loss(out["score"].float(), t["score"], reduction="none", delta=10.0) * sm).sum() / sm.sum().clamp(min=1)
    om = t["ownership_mask"]
    own = (((out["ownership"].float() - t["ownership"]) ** 2).mean(dim=(1, 2)) * om).sum() / om.sum().clamp(min=1)
    total = (cfg.policy_weight * policy + cfg.value_weight * value + cfg.score_weight * score
             + cfg.ownership_weight * own)
    return {"loss": total, "policy_loss": policy, "value_loss": value, "score_loss": score, "ownership_loss": own}


def lr_at(step: int, cfg: TrainConfig, elapsed: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to 1% of the peak over the steps or, with a time budget,
    over whichever of steps and time runs out first."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    if cfg.minutes:
        frac = max(frac, elapsed / (cfg.minutes * 60.0))
    return cfg.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


@torch.no_grad()
def evaluate(model: torch.nn.Module, shards: list[str], device: torch.device, limit: int, batch_size: int = 512,
             feature_version: int = FEATURE_VERSION) -> dict:
    """Top-1/top-5 move accuracy, value loss and calibration on held-out positions (under their own komi)."""
    model.eval()
    n = top1 = top5 = 0
    vloss = vcount = 0.0
    bins = np.zeros((10, 3))  # predicted-probability bins: count, sum of predictions, sum of outcomes
    for b in PositionLoader(shards, batch_size=batch_size, seed=12345, symmetries=False, epochs=1, buffer_size=batch_size,
                            feature_version=feature_version):
        t = to_tensors(b, device)
        out = model(t["planes"], t["globals"])
        logits = out["policy"].float()
        best5 = logits.topk(5, dim=1).indices
        top1 += (best5[:, 0] == t["policy"]).sum().item()
        top5 += (best5 == t["policy"][:, None]).any(dim=1).sum().item()
        vm = t["value_mask"] > 0
        if vm.any():
            p = torch.sigmoid(out["value"].float()[vm])
            y = ((t["value"][vm] + 1) / 2)
            vloss += F.binary_cross_entropy(p.clamp(1e-6, 1 - 1e-6), y, reduction="sum").item()
            vcount += vm.sum().item()
            idx = (p * 10).clamp(max=9.999).long().cpu().numpy()
            np.add.at(bins, idx, np.stack([np.ones_like(idx), p.cpu().numpy(), y.cpu().numpy()], 1))
        n += len(b)
        if n >= limit:
            break
    model.train()
    used = bins[:, 0] > 0
    ece = float(np.sum(np.abs(bins[used, 1] - bins[used, 2])) / max(1.0, bins[:, 0].sum()))
    return {"positions": n, "top1": top1 / max(1, n), "top5": top5 / max(1, n),
            "value_loss": vloss / max(1.0, vcount), "value_calibration_error": ece}


class Trainer:
    """Owns the model, optimizer and data stream of one training run in ``cfg.out``."""

    def __init__(self, cfg: TrainConfig, resume: bool = False, force: bool = False) -> None:
        self.cfg = cfg
        start = self._init_weights(cfg.init) if cfg.init and not resume else None  # refused before files change
        self.out = Path(cfg.out)
        self.groups: list[DataGroup] = data_groups(cfg.train, cfg.source_shares)
        self.weights = group_weights(self.groups, cfg.size_shares, cfg.source_shares)
        earlier = [f for f in ("checkpoint.pt", "model.pt", "metrics.jsonl") if (self.out / f).exists()]
        if earlier and not resume:
            if not force:
                raise ValueError(f"{self.out} holds an earlier run ({', '.join(earlier)}): "
                                    "--resume continues it, --force starts over and replaces it")
            for f in earlier:
                (self.out / f).unlink()
        self.out.mkdir(parents=True, exist_ok=True)
        self.rank = int(os.environ.get("RANK", "0"))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.device = pick_device(cfg.device)
        if self.world > 1:
            import torch.distributed as dist
            if self.device.type == "cuda":
                self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
                torch.cuda.set_device(self.device)
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        torch.manual_seed(cfg.seed)
        if self.device.type == "cuda":  # tensor cores for what autocast leaves in float32; tuned convolutions
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            torch.backends.cudnn.benchmark = True
        self.model = GoNet(cfg.net)
        if start is not None:
            self._warm_start(*start)
        self.model = self.model.to(self.device).to(memory_format=torch.channels_last)
        if cfg.optimizer == "adamw":
            self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        elif cfg.optimizer == "sgd":
            self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                       weight_decay=cfg.weight_decay, nesterov=True)
        else:
            raise ValueError(f"unknown optimizer {cfg.optimizer!r}: expected sgd or adamw")
        self.step = 0
        self.positions = 0
        self.elapsed = 0.0
        self.history: list[dict] = []
        if resume:
            self._load_checkpoint()
        self.net = self.model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel
            self.net = DistributedDataParallel(self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        if cfg.compile and self.device.type == "cuda":
            try:
                self.net = torch.compile(self.net)
            except Exception as e:  # torch.compile is optional: fall back to eager
                print(f"torch.compile unavailable, training eagerly: {e}")

    def _init_weights(self, path: str) -> tuple[dict[str, torch.Tensor], NetConfig]:
        """The weights of model file ``path`` and its architecture, which must be ours but for more input
        planes (an earlier feature version) or more residual blocks."""
        start, info = load_model(path)
        old, net = info.config, self.cfg.net
        if (replace(old, in_planes=net.in_planes, blocks=net.blocks) != net or old.in_planes > net.in_planes
                or old.blocks > net.blocks):
            raise ValueError(f"--init {path}: its architecture {old} differs from {net} "
                             "(only more input planes or more blocks can be added)")
        return start.state_dict(), old

    def _warm_start(self, state: dict[str, torch.Tensor], old: NetConfig) -> None:
        """Start from ``state``, the weights of a network of architecture ``old``: the first convolution's
        weights for new input planes start at zero, and blocks past ``old``'s are added after its own, each an
        identity (its last convolution starts at zero), so the network computes at first exactly what it
        computed before."""
        net = self.cfg.net
        w = state["conv_in.weight"]
        if w.shape[1] < net.in_planes:
            grown = torch.zeros(w.shape[0], net.in_planes, *w.shape[2:], dtype=w.dtype)
            grown[:, :w.shape[1]] = w
            state["conv_in.weight"] = grown
        fresh = self.model.state_dict()
        for i in range(old.blocks, net.blocks):  # the block-kind pattern is by index: old blocks keep theirs
            prefix = f"blocks.{i}."
            for k, v in fresh.items():
                if k.startswith(prefix):
                    state[k] = v
            state[prefix + "conv2.weight"] = torch.zeros_like(fresh[prefix + "conv2.weight"])
            for stat in ("running_mean", "running_var"):  # it reads the trunk that the final normalisation reads
                state[prefix + "bn1." + stat] = state["bn_out." + stat].clone()
        self.model.load_state_dict(state)

    # ------------------------------------------------------------ checkpoints
    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def save_checkpoint(self) -> None:
        if self.rank != 0:
            return
        state = {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "step": self.step,
                 "positions": self.positions, "elapsed": self.elapsed, "history": self.history,
                 "torch_rng": torch.get_rng_state(), "config": json.dumps(asdict(self.cfg))}
        buf = io.BytesIO()
        torch.save(state, buf)
        atomic_write_bytes(self.checkpoint_path, buf.getvalue())

    def _load_checkpoint(self) -> None:
        if not self.checkpoint_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.checkpoint_path}")
        try:  # tensors, numbers, strings and containers only: a planted pickle cannot run
            state = torch.load(self.checkpoint_path, map_location=self.device, weights_only=True)
            saved = json.loads(state["config"])
        except Exception as e:  # torch raises many kinds for a foreign or corrupt file
            raise ValueError(f"--resume: {self.checkpoint_path} is not a readable Tengen checkpoint "
                                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
        saved["size_shares"] = TrainConfig(train=[], out="", size_shares=saved.get("size_shares", {})).size_shares
        saved.setdefault("source_shares", {})
        for key in ("train", "batch_size", "sample_rate", "seed", "size_shares", "source_shares"):
            if saved[key] != getattr(self.cfg, key):
                raise ValueError(f"--resume: {key} differs from the checkpoint's ({saved[key]!r}); "
                                 "resuming exactly needs the same data, batch size and seed")
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.positions, self.elapsed = state["step"], state["positions"], state["elapsed"]
        self.history = state["history"]
        torch.set_rng_state(state["torch_rng"].cpu())
        self._rewrite_metrics()

    def _rewrite_metrics(self) -> None:
        """Keep only the metrics up to the checkpoint's step: what came after it is trained again."""
        path = self.out / "metrics.jsonl"
        if not path.exists():
            return
        kept = []
        for line in path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= self.step:
                    kept.append(line)
            except ValueError:  # a line cut by a kill
                continue
        atomic_write_bytes(path, "".join(k + "\n" for k in kept).encode())

    def export(self, path: Path) -> None:
        info = ModelInfo(self.cfg.net, feature_version=self.cfg.feature_version,
                         board_sizes=list(dict.fromkeys(g.size for g in self.groups)), training={
            "data": self.cfg.train, "steps": self.step, "positions": self.positions,
            "seconds": round(self.elapsed, 1), "device": str(self.device), "cpu": platform.processor() or platform.machine(),
            "world_size": self.world, "metrics": self.history[-1] if self.history else {}})
        save_model(path, self.model, info)

    # ------------------------------------------------------------ the loop
    def run(self, until_step: int | None = None) -> Path:
        """Train to ``cfg.steps`` or the time budget (or stop at ``until_step``, as if interrupted);
        returns the model file."""
        cfg, dev = self.cfg, self.device
        last = cfg.steps if until_step is None else min(cfg.steps, until_step)
        stream = mixed_batches(self.groups, self.weights, workers=cfg.loader_workers, pin_memory=dev.type == "cuda",
                               batch_size=cfg.batch_size, seed=cfg.seed * 1000 + self.rank,
                               sample_rate=cfg.sample_rate, feature_version=cfg.feature_version,
                               komi_relabel=cfg.komi_relabel)
        for _ in range(self.step):  # resume: the data stream is deterministic, so skip what was used
            next(stream)
        stop = {"now": False}
        previous = signal.signal(signal.SIGINT, lambda *_: stop.__setitem__("now", True))
        log = (self.out / "metrics.jsonl").open("a") if self.rank == 0 else None
        writer = _tensorboard(self.out) if self.rank == 0 else None
        from tqdm import tqdm
        bar = tqdm(total=cfg.steps, initial=self.step, disable=self.rank != 0, dynamic_ncols=True)
        start_elapsed, t_start = self.elapsed, time.monotonic()
        next_ckpt = t_start + min(FIRST_CHECKPOINT_SECONDS, cfg.checkpoint_minutes * 60)
        t_last, pos_last = t_start, self.positions
        autocast = (torch.autocast(dev.type, dtype=torch.bfloat16) if bf16_autocast(cfg.precision, dev)
                    else contextlib.nullcontext())
        nonfinite = torch.zeros((), dtype=torch.bool, device=dev)  # checked where a sync costs nothing extra
        healthy = True
        self._train_mode()

        def check() -> None:
            nonlocal healthy
            if bool(nonfinite.item()):
                healthy = False
                raise TrainingError(f"the loss is not finite (NaN or infinite) by step {self.step}: training "
                                    f"stopped; the last good checkpoint is {self.checkpoint_path} (lower --lr?)")

        try:
            while self.step < last and not stop["now"]:
                if cfg.minutes and self.elapsed >= cfg.minutes * 60:
                    break
                t = to_tensors(next(stream), dev)
                lr = lr_at(self.step, cfg, self.elapsed)
                for group in self.opt.param_groups:
                    group["lr"] = lr
                with autocast:
                    out = self.net(t["planes"], t["globals"])
                loss = losses(out, t, cfg)
                nonfinite |= ~torch.isfinite(loss["loss"].detach())
                self.opt.zero_grad(set_to_none=True)
                loss["loss"].backward()
                self.opt.step()
                self.step += 1
                self.positions += len(t["policy"]) * self.world
                now = time.monotonic()
                self.elapsed = start_elapsed + (now - t_start)
                bar.update(1)
                if dev.type == "cpu":
                    check()  # free here; on a GPU only at the syncs below
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    check()
                    acc = (out["policy"].argmax(1) == t["policy"]).float().mean().item()
                    rec = {"step": self.step, "positions": self.positions, "lr": lr, "seconds": round(self.elapsed, 1),
                           "accuracy": acc, "pos_per_s": (self.positions - pos_last) / max(1e-9, now - t_last),
                           **{k: v.item() for k, v in loss.items()}}
                    t_last, pos_last = now, self.positions
                    bar.set_postfix(loss=f"{rec['loss']:.3f}", acc=f"{acc:.3f}", pos_s=f"{rec['pos_per_s']:.0f}")
                    self._record(rec, log, writer)
                if cfg.val and self.rank == 0 and (self.step % cfg.eval_every == 0 or self.step == cfg.steps):
                    self._record({"step": self.step, **self._validate()}, log, writer)
                if now >= next_ckpt:
                    check()
                    self.save_checkpoint()
                    next_ckpt = time.monotonic() + cfg.checkpoint_minutes * 60
            check()
        finally:
            signal.signal(signal.SIGINT, previous)
            bar.close()
            if healthy:
                self.save_checkpoint()
            if log:
                log.close()
        final = self.out / "model.pt"
        if self.rank == 0:
            self.export(final)
        if self.world > 1:
            import torch.distributed as dist
            dist.barrier()
            dist.destroy_process_group()
        if stop["now"]:
            print(f"interrupted at step {self.step}: checkpoint saved; continue with --resume")
        return final

    def _train_mode(self) -> None:
        """The model in training mode; its batch normalisation in inference mode with ``freeze_norm``."""
        self.model.train()
        if self.cfg.freeze_norm:
            for m in self.model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.eval()

    def _validate(self) -> dict:
        """Held-out metrics as ``val_*``; where the validation data holds several board sizes, those of
        a size other than the training data's first as ``val{size}_*``."""
        groups = data_groups(self.cfg.val)
        out = {}
        for g in groups:
            prefix = "val_" if len(groups) == 1 or g.size == self.groups[0].size else f"val{g.size}_"
            metrics = evaluate(self.model, list(g.paths), self.device, self.cfg.eval_positions,
                               feature_version=self.cfg.feature_version)
            out.update({prefix + k: v for k, v in metrics.items()})
        self._train_mode()
        return out

    def _record(self, rec: dict, log, writer) -> None:
        self.history.append(rec)
        if log:
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if writer:
            for k, v in rec.items():
                if k != "step" and isinstance(v, (int, float)):
                    writer.add_scalar(k, v, rec["step"])


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:
        return None
    return SummaryWriter(str(out / "tb"))


def eval_model(model_path: str, data: list[str], device: str = "auto", limit: int = 10 ** 9) -> dict:
    """``tengen eval``: the validation metrics of any model on any shards; for shards of several board
    sizes, the metrics of each size under its name (``"9x9"``)."""
    dev = pick_device(device)
    model, info = load_model(model_path, dev)
    groups = data_groups(data)
    if len(groups) == 1:
        return evaluate(model, data, dev, limit, feature_version=info.feature_version)
    return {f"{g.size}x{g.size}": evaluate(model, list(g.paths), dev, limit, feature_version=info.feature_version)
            for g in groups}


__all__ = ["TrainConfig", "Trainer", "TrainingError", "eval_model", "pick_device", "count_parameters"]
