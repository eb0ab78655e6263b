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

Whatever arrives, every request line gets exactly one answer and no answer
holds a blank line before its end: the engine reads bytes and decodes each
line itself (a line that is not UTF-8 gets ``?``, whatever the locale), ids are
ASCII digits, a line longer than ``MAX_LINE`` bytes is answered and skipped,
an answer's text loses its blank lines (an error's is one line), a handler
that fails after it began streaming has its answer closed, and an exception
from the idle work (pondering) is logged, never the end of the session.
"""

from __future__ import annotations

import inspect
import math
import queue
import re
import sys
import threading
from typing import IO, Callable, Iterator

MAX_LINE = 1 << 16  # bytes of one request line; a longer one is answered with an error and skipped
_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_OUT_CTRL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # in answers: all but the newline
_ID = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_UNDECODABLE = re.compile(r"[\udc80-\udcff]")  # bytes that were not UTF-8, as surrogateescape keeps them
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
    """A finite number argument of a GTP command (ASCII digits, as ``-7.5`` or ``1e3``), or a GtpError
    naming ``what`` was wrong."""
    x = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(x):
        raise GtpError(f"{what}: expected a number, got {text!r}")
    return x


def whole_arg(text: str, what: str, least: int) -> int:
    """A whole-number argument of at least ``least``, or a GtpError naming ``what`` was wrong."""
    x = number_arg(text, what)
    if x < least or x != int(x):
        raise GtpError(f"{what} must be a whole number >= {least}, got {text!r}")
    return int(x)


class TooLong(str):
    """The start of a request line longer than ``MAX_LINE`` (the rest was skipped)."""


def read_lines(stream: IO) -> Iterator[str]:
    """The lines of ``stream`` (binary, or text with a ``buffer``, or plain text), each decoded as
    UTF-8 with the bytes that are not kept as lone surrogates (``surrogateescape``); a line longer
    than ``MAX_LINE`` is skipped and yields a ``TooLong`` of its first bytes."""
    raw = getattr(stream, "buffer", stream)
    while True:
        line = raw.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE and line[-1:] not in (b"\n", "\n"):
            head = line[:64]
            while line and line[-1:] not in (b"\n", "\n"):  # skip the rest of the line
                line = raw.readline(MAX_LINE)
            line = TooLong(head.decode("utf-8", "surrogateescape") if isinstance(head, bytes) else head)
        elif isinstance(line, bytes):
            line = line.decode("utf-8", "surrogateescape")
        yield line


def frame(ok: bool, cid: str, text: str) -> str:
    """The answer ``=id text`` or ``?id text`` with its closing blank line: no control characters, no
    blank line inside (an error message on one line)."""
    lines = [l.rstrip() for l in _OUT_CTRL.sub(" ", text).split("\n")]
    if ok:
        body = [lines[0]] + [l for l in lines[1:] if l]
    else:
        body = [" ".join(l.strip() for l in lines if l.strip())]
    return f"{'=' if ok else '?'}{cid} {body[0]}".rstrip() + "".join("\n" + l for l in body[1:]) + "\n\n"


class GtpProtocol:
    """Requests to the ``cmd_*`` methods of ``handlers``; ``log`` takes the lines for stderr."""

    def __init__(self, handlers: object, log: Callable[[str], None]) -> None:
        self.handlers = handlers
        self.log = log
        self._queue: queue.Queue | None = None
        self._write: Callable[[str], None] | None = None
        self._tail = ""  # the end of what a streaming handler wrote so far
        self._quit = False

    # -- commands
    def command(self, name: str) -> Callable | None:
        """The handler of the command ``name``, or None for an unknown command."""
        if not _NAME.fullmatch(name):
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
        too_long = isinstance(line, TooLong)
        line = _CTRL.sub("", line.replace("\t", " ")).split("#", 1)[0].strip()
        if not line and not too_long:
            return None, True, ""
        parts = line.split()
        cid = ""
        if parts and _ID.fullmatch(parts[0]):
            cid = parts.pop(0)
        if too_long:
            return frame(False, cid, f"request longer than {MAX_LINE} bytes"), False, cid
        if _UNDECODABLE.search(line):
            return frame(False, cid, "request is not valid UTF-8"), False, cid
        if not parts:
            return frame(False, cid, "no command"), False, cid
        name, args = parts[0], parts[1:]
        fn = self.command(name)
        if fn is None:
            return frame(False, cid, "unknown command"), False, cid
        streams = getattr(fn, "gtp_streaming", False)
        usage = _wrong_arguments(fn, args)
        if usage:
            return frame(False, cid, f"wrong number of arguments: {name} {usage}"), False, cid
        self._tail = ""
        try:
            result = fn(*args, cid=cid) if streams else fn(*args)
        except (GtpError, ValueError, IndexError) as e:
            return self._failed(cid, str(e)), False, cid
        except Exception as e:  # never die on a request
            self.log(f"internal error in {name}: {e!r}")
            return self._failed(cid, f"internal error: {e}"), False, cid
        if result is STREAMED:
            return "", True, cid
        return frame(True, cid, "" if result is None else str(result)), True, cid

    def _failed(self, cid: str, message: str) -> str:
        """The ``?`` answer; or, when a streaming handler had begun its answer, the end of that answer
        (one answer per request), with the error in the log."""
        if not self._tail:
            return frame(False, cid, message)
        self.log(f"the streamed answer {cid} ends early: {message}")
        if self._tail == "\n\n":
            return ""
        return "\n" if self._tail.endswith("\n") else "\n\n"

    # -- the session
    def run(self, stdin: IO | None = None, stdout: IO | None = None,
            idle: Callable[[], None] | None = None) -> None:
        """Answer requests from ``stdin`` until ``quit`` or the end of input; ``idle`` runs whenever no
        request is waiting (pondering) and should return once ``pending`` says one is."""
        stdin = stdin or sys.stdin
        self._write = _writer(stdout or sys.stdout)
        q: queue.Queue = queue.Queue()
        self._queue = q

        def reader() -> None:
            try:
                for line in read_lines(stdin):
                    q.put(line)
            except (OSError, ValueError):
                pass
            q.put(None)

        threading.Thread(target=reader, daemon=True).start()
        while True:
            if idle is not None and q.empty():
                try:
                    idle()
                except Exception as e:  # pondering is a bonus: it never ends the session
                    self.log(f"pondering stopped: {e!r}")
            line = q.get()
            if line is None:
                return
            resp, ok, _ = self.handle(line)
            try:
                if resp:
                    self._write(resp)
            except (OSError, ValueError):  # the client closed our output: nobody is listening
                return
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
        self._tail = (self._tail + text)[-2:]
        if self._write is None:
            self._write = _writer(sys.stdout)
        self._write(_OUT_CTRL.sub(" ", text))


def _wrong_arguments(fn: Callable, args: list[str]) -> str | None:
    """What ``fn`` takes (``takes COLOR VERTEX``), when ``args`` are too few or too many for it; else None."""
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "cid"]
    fixed = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    needed = sum(p.default is p.empty for p in fixed)
    more = any(p.kind is p.VAR_POSITIONAL for p in params)
    if needed <= len(args) and (more or len(args) <= len(fixed)):
        return None
    words = [p.name.upper() if p.default is p.empty else f"[{p.name.upper()}]" for p in fixed]
    words += [f"[{p.name.upper()}...]" for p in params if p.kind is p.VAR_POSITIONAL]
    return f"takes {' '.join(words)}" if words else "takes no arguments"


def _writer(stream: IO) -> Callable[[str], None]:
    """Write and flush text on ``stream``: as UTF-8 bytes on its binary buffer when it has one, so that
    the locale's encoding never fails an answer."""
    raw = getattr(stream, "buffer", None)
    if raw is None:
        def write(text: str) -> None:
            stream.write(text)
            stream.flush()
    else:
        stream.flush()

        def write(text: str) -> None:
            raw.write(text.encode("utf-8", "backslashreplace"))
            raw.flush()
    return write
