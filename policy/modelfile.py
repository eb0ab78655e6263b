"""One self-describing model file: architecture, feature version, board sizes, training record, weights.

Written atomically; loading checks every part and refuses a wrong, truncated
or foreign file with a message that names it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from go_engine.atomic import atomic_write_bytes
from go_engine.features import FEATURE_VERSION, planes_for

from .model import GoNet, NetConfig

FORMAT = "tengen-model"
VERSION = 1


# The network used when no model is named: package data of ``policy`` (pyproject.toml), so a
# plain ``pip install`` ships it; its model card is networks/README.md.
BUNDLED = Path(__file__).resolve().parent / "networks" / "tengen-b6c32-v9.pt"


class ModelFileError(ValueError):
    """A model file that cannot be used."""


def resolve_model(name: str | None) -> str | None:
    """The model file a command should use: ``name``; else ``$TENGEN_MODEL``; else the bundled
    network. ``"none"`` means no network (random playouts). A bundled network missing from the
    install is a ``ModelFileError``, never a silent fall-back to random playouts."""
    import os

    name = name or os.environ.get("TENGEN_MODEL")
    if not name:
        if not BUNDLED.is_file():
            raise ModelFileError(f"{BUNDLED}: the bundled network is missing from this install; "
                                 "give --model FILE, or --model none to search with random playouts")
        name = str(BUNDLED)
    return None if name.lower() == "none" else name


@dataclass
class ModelInfo:
    """What a model file says about its network."""

    config: NetConfig
    feature_version: int = FEATURE_VERSION
    board_sizes: list[int] = field(default_factory=lambda: [19])
    training: dict[str, Any] = field(default_factory=dict)  # data, steps, metrics, hardware...


def save_model(path: str | Path, model: GoNet, info: ModelInfo) -> None:
    """Write ``model`` and ``info`` to ``path`` atomically."""
    blob = {
        "format": FORMAT,
        "version": VERSION,
        "config": info.config.to_dict(),
        "feature_version": info.feature_version,
        "board_sizes": list(info.board_sizes),
        "training": info.training,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    buf = io.BytesIO()
    torch.save(blob, buf)
    atomic_write_bytes(Path(path), buf.getvalue())


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[GoNet, ModelInfo]:
    """Read a model file; ``ModelFileError`` says what is wrong with it."""
    path = str(path)
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":  # torch.save writes a zip archive
                raise ModelFileError(f"{path}: not a model file (not a PyTorch archive)")
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except ModelFileError:
        raise
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: a folder, not a model file") from None
    except Exception as e:  # whatever a foreign or broken file makes the (weights-only) reader raise
        raise ModelFileError(f"{path}: not a readable model file (truncated or corrupt?): "
                             f"{type(e).__name__}: {e}") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a {FORMAT} file")
    if blob.get("version") != VERSION:
        raise ModelFileError(f"{path}: model file version {blob.get('version')} is not supported (this Tengen reads {VERSION})")
    version = blob.get("feature_version")
    if type(version) is not int:  # missing, or a bool, float, text...: planes_for wants a version number
        raise ModelFileError(f"{path}: input features version {version!r} is not a version number")
    try:
        planes = planes_for(version)
    except ValueError as e:
        raise ModelFileError(f"{path}: {e}") from None
    known = {f.name for f in fields(NetConfig)}
    cfg_dict = blob.get("config")
    if not isinstance(cfg_dict, dict) or set(cfg_dict) - known:
        raise ModelFileError(f"{path}: unknown architecture description {cfg_dict!r}")
    cfg = NetConfig(**cfg_dict)
    if cfg.in_planes != planes:
        raise ModelFileError(f"{path}: the network reads {cfg.in_planes} input planes, but input features "
                             f"version {version} has {planes}")
    model = GoNet(cfg)
    try:
        model.load_state_dict(blob["state_dict"], strict=True)
    except (RuntimeError, KeyError, TypeError) as e:
        raise ModelFileError(f"{path}: weights do not match the architecture it describes: {e}") from None
    for name, t in model.state_dict().items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise ModelFileError(f"{path}: weights {name} hold NaN or infinite values")
    info = ModelInfo(cfg, blob["feature_version"], list(blob.get("board_sizes", [])), dict(blob.get("training", {})))
    return model.to(device).eval(), info
