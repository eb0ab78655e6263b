"""The wire side of a GTP (version 2) engine: requests in, framed answers out.

``GtpProtocol`` knows nothing of Go. It cleans a request line (control
characters, comments), splits off its numeric id, finds the handler of the
command and frames the answer (``=id text`` or ``?id message``, then a blank
line). A handler is a method ``cmd_foo_bar`` of the handler object for the
command ``foo-bar`` (or ``foo_bar``); it takes the argument strings and returns
the answer's text, or raises ``GtpError``, ``ValueError`` or ``IndexError`` for
a ``?`` answer. A handler marked ``@streaming`` writes its own answer through
``write`` (an analysis that goes on until the next request arrives), gets
the request's id as ``cid`` and returns ``STREAMED``. ``run`` reads requests on a thread of its own into
a queue, so that ``pending`` can tell a streaming handler that one is waiting.
"""

from __future__ import annotations

import math
import queue
import re
import sys
import threading
from typing import Callable, TextIO

_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_PREFIXES = ("kgs_", "kata_", "lz_", "gogui_", "tengen_")  # extension commands spelt with a dash after the prefix
_DASHED = {n.replace("-", "_").replace("_", "-", 1): n for n in (  # KataGo's commands with dashes throughout
    "kata-set-rules", "kata-get-rules", "kata-set-rule", "kata-raw-nn", "kata-list-params", "kata-get-param",
    "kata-set-param")}


class GtpError(Exception):
    """A request that gets a ``?`` answer."""


STREAMED = object()  # what a streaming handler returns: its answer is written already


def streaming(handler: Callable) -> Callable:
    """Mark a handler that writes its own answer and takes the request's id as ``cid``."""
    handler.gtp_streaming = True
    return handler


def number_arg(text: str, what: str) -> float:
    """A finite number argument of a GTP command, or a GtpError naming ``what`` was wrong."""
    try:
        x = float(text)
    except ValueError:
        x = float("nan")
    if not math.isfinite(x):
        raise GtpError(f"{what}: expected a number, got {text!r}")
    return x


def whole_arg(text: str, what: str, least: int) -> int:
    """A whole-number argument of at least ``least``, or a GtpError naming ``what`` was wrong."""
    x = number_arg(text, what)
    if x < least or x != int(x):
        raise GtpError(f"{what} must be a whole number >= {least}, got {text!r}")
    return int(x)


class GtpProtocol:
    """Requests to the ``cmd_*`` methods of ``handlers``; ``log`` takes the lines for stderr."""

    def __init__(self, handlers: object, log: Callable[[str], None]) -> None:
        self.handlers = handlers
        self.log = log
        self._queue: queue.Queue | None = None
        self._out: TextIO | None = None
        self._quit = False

    # -- commands
    def command(self, name: str) -> Callable | None:
        """The handler of the command ``name``, or None for an unknown command."""
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            return None
        return getattr(self.handlers, "cmd_" + name.replace("-", "_"), None)

    def command_names(self) -> list[str]:
        """Every command, in the spelling that ``list_commands`` answers."""
        names = []
        for attr in dir(self.handlers):
            if attr.startswith("cmd_"):
                base = attr[4:]
                for pre in _PREFIXES:
                    if base.startswith(pre):
                        base = pre[:-1] + "-" + base[len(pre):]
                        base = _DASHED.get(base, base)
                        break
                names.append(base)
        return sorted(names)

    def quit(self) -> None:
        """End ``run`` once the current answer is written."""
        self._quit = True

    # -- one request
    def handle(self, line: str) -> tuple[str | None, bool, str]:
        """Run one request line; returns (full response or None for an ignored line, ok, id)."""
        line = _CTRL.sub("", line.replace("\t", " ")).split("#", 1)[0].strip()
        if not line:
            return None, True, ""
        parts = line.split()
        cid = ""
        if parts[0].isdigit():
            cid = parts.pop(0)
            if not parts:
                return f"?{cid} no command\n\n", False, cid
        name, args = parts[0], parts[1:]
        fn = self.command(name)
        if fn is None:
            return f"?{cid} unknown command\n\n", False, cid
        try:
            result = fn(*args, cid=cid) if getattr(fn, "gtp_streaming", False) else fn(*args)
        except (GtpError, ValueError, IndexError) as e:
            return f"?{cid} {e}\n\n", False, cid
        except TypeError as e:
            return f"?{cid} wrong number of arguments ({e})\n\n", False, cid
        except Exception as e:  # never die on a request
            self.log(f"internal error in {name}: {e!r}")
            return f"?{cid} internal error: {e}\n\n", False, cid
        if result is STREAMED:
            return "", True, cid
        result = "" if result is None else str(result)
        return f"={cid} {result}".rstrip(" ") + "\n\n", True, cid

    # -- the session
    def run(self, stdin: TextIO | None = None, stdout: TextIO | None = None,
            idle: Callable[[], None] | None = None) -> None:
        """Answer requests from ``stdin`` until ``quit`` or the end of input; ``idle`` runs whenever no
        request is waiting (pondering) and should return once ``pending`` says one is."""
        stdin = stdin or sys.stdin
        stdout = stdout or sys.stdout
        self._out = stdout
        q: queue.Queue = queue.Queue()
        self._queue = q

        def reader() -> None:
            try:
                for line in iter(stdin.readline, ""):
                    q.put(line)
            except (OSError, ValueError):
                pass
            q.put(None)

        threading.Thread(target=reader, daemon=True).start()
        while True:
            if idle is not None and q.empty():
                idle()
            line = q.get()
            if line is None:
                return
            resp, ok, _ = self.handle(line)
            if resp:
                stdout.write(resp)
                stdout.flush()
            if ok and resp is not None and self._quit:
                return

    @property
    def serving(self) -> bool:
        """Whether requests come through ``run`` (else one ``handle`` call at a time: nothing to wait for)."""
        return self._queue is not None

    def pending(self) -> bool:
        """Whether a request is waiting."""
        return self._queue is not None and not self._queue.empty()

    def write(self, text: str) -> None:
        """Write part of a streamed answer at once."""
        self._out.write(text)
        self._out.flush()
