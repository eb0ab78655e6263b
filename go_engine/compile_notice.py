"""A notice the first time a process compiles Numba kernels.

Numba compiles each kernel on its first call and keeps the machine code in its
on-disk cache; later runs load it in a moment. The first run on a machine (or
after the kernels change) spends a minute or more compiling, silently: this
tells the user why, once, when Numba reports the first compilation (a cache
miss) through its event API.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from numba.core import event


class _FirstCompile(event.Listener):
    def __init__(self, notice: Callable[[], None]) -> None:
        self.notice = notice
        self.lock = threading.Lock()
        self.told = False

    def on_start(self, ev: event.Event) -> None:
        with self.lock:
            if self.told:
                return
            self.told = True
        self.notice()

    def on_end(self, ev: event.Event) -> None:
        pass


@contextmanager
def compile_notice(notice: Callable[[], None]) -> Iterator[None]:
    """Within the block, call ``notice()`` once, when a kernel that Numba's cache lacks is first compiled."""
    with event.install_listener("numba:compile", _FirstCompile(notice)):
        yield
