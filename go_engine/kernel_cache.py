"""Numba's on-disk cache of the kernels, kept apart for each version of their source.

Numba checks a cached kernel against the source file that defines it, and no
other: a kernel that calls one from another file (``selfplay/search.py`` and
``go_engine/playout.py`` call ``go_engine/kernels.py``) keeps running the old
callee's machine code after that file changes. So the cache lives in a folder
named by a digest of every file whose kernels others call; a change to any of
them starts a fresh cache (one compilation, the first run after the change).
The folder is ``$NUMBA_CACHE_DIR/tengen-<digest>``, by default under
``$XDG_CACHE_HOME/tengen/numba`` (``~/.cache``); where that cannot be written,
Numba falls back to ``__pycache__`` beside the sources.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the files whose kernels are called from other files: every cross-file call goes into one of these
CALLED_SOURCES = ("kernels.py", "ladder.py", "features.py", "playout.py")


def kernel_digest(folder: Path = HERE) -> str:
    """A short digest of ``CALLED_SOURCES`` in ``folder``."""
    h = hashlib.sha256()
    for name in CALLED_SOURCES:
        h.update(name.encode() + b"\0" + (folder / name).read_bytes())
    return h.hexdigest()[:16]


def default_base() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "tengen", "numba")


def use_keyed_cache() -> str:
    """Point Numba's cache at the folder of this version of the kernels (``NUMBA_CACHE_DIR``, inherited by
    child processes) and return it; a no-op when it is there already."""
    key = f"tengen-{kernel_digest()}"
    current = os.environ.get("NUMBA_CACHE_DIR", "")
    if os.path.basename(current) != key:
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(current or default_base(), key)
        from numba.core import config

        config.reload_config()  # Numba read the variable when it was imported
    return os.environ["NUMBA_CACHE_DIR"]
