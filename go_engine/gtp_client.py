"""A GTP client: drive any GTP engine (GNU Go, Leela Zero, KataGo, Tengen) as a subprocess.

It sits beside the rules and the records, as python-chess's ``chess.engine``
sits beside its board, so that the match referee (``selfplay.match``), the
learning loop and the benchmarks reach other programs from low in the stack.

``GtpClient`` starts the engine, sends one command at a time and returns the
answer's text; a ``?`` answer raises ``GtpCommandError``, an engine that takes
longer than the timeout raises ``GtpTimeout`` and one that exits raises
``GtpEngineDied``. The engine's stderr goes to a file (or is discarded), never
into the answers.
"""

from __future__ import annotations

import queue
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO, Sequence


class GtpClientError(Exception):
    """Base class of what can go wrong talking to an engine."""


class GtpCommandError(GtpClientError):
    """The engine answered ``? message``."""


class GtpTimeout(GtpClientError):
    """The engine did not answer in time."""


class GtpEngineDied(GtpClientError):
    """The engine's process ended or closed its output."""


@dataclass(frozen=True)
class Limit:
    """How long an engine may think on one move.

    ``seconds`` is announced to the engine (as byo-yomi of one move per period)
    and enforced with ``grace`` seconds on top; with ``seconds=None`` the engine
    chooses its own pace and only ``hard`` seconds (a hung engine) are enforced."""

    seconds: float | None = None
    grace: float = 2.0
    hard: float = 600.0

    @property
    def timeout(self) -> float:
        return self.hard if self.seconds is None else self.seconds + self.grace


class GtpClient:
    """One engine process. ``command`` is a shell-style string or an argument list."""

    def __init__(self, command: str | Sequence[str], stderr: IO | None = None, start_timeout: float = 120.0) -> None:
        try:
            self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        except ValueError as e:  # unbalanced quotes
            raise ValueError(f"engine command {command!r}: {e}") from None
        if not self.argv:
            raise ValueError("empty engine command")
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=stderr if stderr is not None else subprocess.DEVNULL,
                                         text=True, bufsize=1)
        except OSError as e:
            raise GtpEngineDied(f"cannot start {self.argv[0]!r}: {e}") from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._id = 0
        self.name = self.send("name", timeout=start_timeout)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def send(self, command: str, timeout: float = 60.0) -> str:
        """Send one command; return the answer's text (without ``=`` and id)."""
        if self.proc.poll() is not None:
            raise GtpEngineDied(f"{self.argv[0]} has exited (code {self.proc.returncode})")
        self._id += 1
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(f"{self._id} {command}\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise GtpEngineDied(f"{self.argv[0]}: cannot send {command!r}: {e}") from None
        deadline = time.monotonic() + timeout
        answer: list[str] = []
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(0.0, left))
            except queue.Empty:
                raise GtpTimeout(f"{self.argv[0]}: no answer to {command!r} in {timeout:g} s") from None
            if line is None:
                raise GtpEngineDied(f"{self.argv[0]} closed its output during {command!r}")
            line = line.rstrip("\r\n")
            if not answer:
                if not line.strip():
                    continue
                if line[0] not in "=?":
                    continue  # stray output before the answer (some engines print banners)
                answer.append(line)
            elif line.strip():
                answer.append(line)
            else:
                digits = len(answer[0][1:]) - len(answer[0][1:].lstrip("0123456789"))
                if digits and answer[0][1:1 + digits] != str(self._id):
                    answer = []  # the late answer to an earlier, timed-out command
                    continue
                break
        head = answer[0]
        status, rest = head[0], head[1:]
        tag = str(self._id)
        if rest.startswith(tag):
            rest = rest[len(tag):]
        text = "\n".join([rest.strip()] + answer[1:]).strip()
        if status == "?":
            raise GtpCommandError(f"{self.argv[0]}: {command!r} -> ? {text}")
        return text

    def known(self, command: str) -> bool:
        try:
            return self.send(f"known_command {command}").strip() == "true"
        except GtpCommandError:
            return False

    def close(self, timeout: float = 5.0) -> None:
        """Send ``quit`` and wait; kill the engine if it does not exit."""
        if self.proc.poll() is None:
            try:
                self.send("quit", timeout=timeout)
            except GtpClientError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass

    def __enter__(self) -> "GtpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
