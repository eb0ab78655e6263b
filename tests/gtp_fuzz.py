"""A GTP fuzzer for ``tengen gtp``: random and boundary request lines, raw bytes and long lines.

After every fuzzed line it sends a sentinel request (``printsgf`` with an id of
its own) and reads up to the sentinel's answer. What came before is the fuzzed
line's answer, which must be exactly one framed GTP answer (``=``/``?``, the
request's id, no blank line before the closing one), or nothing for a line that
GTP ignores (blank, or only a comment). It counts:

- crashes: the engine ended (or its thread died) without being asked to;
- hangs: no sentinel answer within ``timeout`` seconds (the engine is restarted);
- framing violations: an answer that is not exactly one framed answer with the right id;
- changed state: a ``?`` answer after which the game differs (in process: the whole engine state;
  as a process: the record ``printsgf`` answers, with size, komi, rules, setup and moves);
- tracebacks: Python tracebacks on the engine's stderr (its log).

Commands that read or write files (``loadsgf``, ``printsgf FILE``) are never sent
with a path: lines that name them are left out, the engine runs with
``--no-file-commands`` (``file_commands=False`` in process) and, as a process,
in a temporary folder.

    python -m tests.gtp_fuzz --lines 10000 --seed 1 [--process] [--locale C.UTF-8]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = re.compile(rb"(?i)sgf")  # loadsgf, printsgf: never fuzzed with a path
ANSWER = re.compile(r"[=?]([0-9]*)(?: [^\n]*)?\n(?:[^\n]+\n)*\n")
SENTINEL_ID = 900_000_000

COMMANDS = ["protocol_version", "name", "version", "known_command", "list_commands", "boardsize", "clear_board",
            "komi", "play", "genmove", "reg_genmove", "undo", "showboard", "fixed_handicap",
            "place_free_handicap", "set_free_handicap", "final_score", "final_status_list", "time_settings",
            "time_left", "kgs-time_settings", "kgs-rules", "kgs-genmove_cleanup", "kgs-game_over",
            "kata-set-rules", "kata-get-rules", "lz-analyze", "kata-analyze", "lz-genmove_analyze",
            "kata-genmove_analyze", "nonsense", "GENMOVE", "play_", "kata-analyze_", "-", "_"]
COLOURS = ["b", "w", "B", "W", "black", "white", "BLACK", "x", "bw", "\u0432", "0"]
NUMBERS = ["0", "1", "2", "3", "-1", "7.5", "0.5", "-7.5", "1000", "1000.5", "-1001", "1e308", "-1e308", "1e-320",
           "nan", "NaN", "inf", "-inf", "Infinity", "\u0663", "\u00b2", "0x10", "1_000", "9" * 60, "+5", "3.",
           ".5", "1e3", "5e-1", "2.5e", "--1", "1/2", "\uff15"]
WORDS = ["interval", "ownership", "true", "false", "minmoves", "maxmoves", "avoid", "allow", "pvVisits",
         "rootInfo", "movesOwnership", "none", "absolute", "byoyomi", "canadian", "chinese", "japanese",
         "new_zealand", "aga", "tromp-taylor", "nz", "korean", "dead", "alive", "seki", "pass", "resign",
         "genmove", "name", "PASS", "Pass"]


def vertex(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.1:
        return rng.choice(["pass", "PASS", "resign", "A0", "I5", "Z26", "AA1", "a1", "T19", "Z25", "A-1", "D4,E5"])
    side = rng.choice([5, 5, 5, 7, 9, 19, 25])  # mostly points on every board of 5x5 and up
    return f"{rng.choice('ABCDEFGHJKLMNOPQRSTUVWXYZ'[:side])}{rng.randint(1, side)}"


def argument(rng: random.Random) -> str:
    k = rng.random()
    if k < 0.25:
        return vertex(rng)
    if k < 0.45:
        return rng.choice(NUMBERS)
    if k < 0.6:
        return rng.choice(COLOURS)
    if k < 0.8:
        return rng.choice(WORDS)
    if k < 0.9:
        return ",".join(vertex(rng) for _ in range(rng.randint(1, 4)))
    return "".join(chr(rng.randint(33, 126)) for _ in range(rng.randint(1, 8)))


def command_line(rng: random.Random) -> str:
    """A request that mostly makes sense: a game that moves on, reaches two passes, resigns, analyses."""
    k = rng.random()
    if k < 0.25:
        line = f"play {rng.choice('bw')} {vertex(rng) if rng.random() < 0.7 else 'pass'}"
    elif k < 0.33:
        line = f"genmove {rng.choice('bwBW')}"
    elif k < 0.38:
        line = f"boardsize {rng.choice(['2', '3', '5', '5', '7', '7', '9', '13', '19', '25', '26', '1', '0'])}"
    elif k < 0.42:
        line = rng.choice(["undo", "clear_board", "showboard", "final_score", "final_status_list dead"])
    elif k < 0.47:
        line = f"{rng.choice(['lz-analyze', 'kata-analyze'])} {rng.choice('bw')} {rng.choice(['1', '5', '0'])}" + \
            "".join(f" {rng.choice(WORDS[:11])} {argument(rng)}" for _ in range(rng.randint(0, 2)))
    else:
        line = " ".join([rng.choice(COMMANDS)] + [argument(rng) for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4]))])
    if rng.random() < 0.5:
        line = f"{rng.randint(0, 99999)} {line}"
    return line


def boundary_line(rng: random.Random) -> bytes:
    """Edges of the syntax: blanks, comments, ids alone, control bytes, odd ids, long and huge lines."""
    choices = [b"", b"   ", b"\t", b"#", b"# comment only", b"1", b"1 ", b"007 name", b"1 # name", b"\r",
               b"name\r", b"\x00name", b"na\x00me", b"\x1b[2Jname", b"1\tname", b"-1 name", b"+1 name",
               b"1.5 name", b"\xc2\xb2 name", b"\xd9\xa3 name", b"\xef\xbc\x91 name", b"1" * 5000 + b" name",
               b"name " + b"x" * 20000, b"name\x85", b"name\xe2\x80\xa8x", b"\xe3\x80\x80", b"\x7f", b"\x0b\x0c",
               b"=1 name", b"?1 name", b"1 =", b"known_command " + b"a" * 5000, b"kata-analyze " + b"avoid b A1 1 " * 300,
               b"lz-analyze b 1 avoid b " + b",".join(b"A%d" % i for i in range(1, 400)) + b" 1"]
    line = rng.choice(choices)
    if rng.random() < 0.03:
        line = b"9 name " + b"y" * (70_000 + rng.randint(0, 10_000))  # over the engine's line limit
    return line


def raw_line(rng: random.Random) -> bytes:
    """Random bytes (no newline), sometimes after a valid command."""
    n = rng.choice([1, 2, 3, 8, 30, 200])
    data = bytes(rng.choice([rng.randint(0, 255), rng.randint(0x80, 0xFF), rng.randint(32, 126)]) for _ in range(n))
    if rng.random() < 0.4:
        data = command_line(rng).encode() + b" " + data
    return data.replace(b"\n", b" ")


SCENARIOS = [["play b pass", "play w pass"], ["play w pass", "play b pass"], ["clear_board", "fixed_handicap 4"],
             ["boardsize 5", "play b C3", "play w pass", "play b pass"], ["boardsize 7", "clear_board"],
             ["genmove b", "play w pass", "play b pass"], ["play b pass", "play w pass", "play b A1", "play w A1"]]


def fuzz_lines(rng: random.Random):
    """Request lines without their newlines, none naming a file command; now and then a short scenario
    that takes the game where bugs hide (two passes, handicap, a small board)."""
    while True:
        if rng.random() < 0.06:
            for line in rng.choice(SCENARIOS):
                yield line.encode()
        yield fuzz_line(rng)


def fuzz_line(rng: random.Random) -> bytes:
    """One request line, without its newline; never one that names a file command."""
    while True:
        k = rng.random()
        if k < 0.6:
            line = command_line(rng).encode()
        elif k < 0.8:
            line = boundary_line(rng)
        else:
            line = raw_line(rng)
        if rng.random() < 0.05:  # a mutation: one byte changed
            i = rng.randrange(len(line) + 1)
            line = line[:i] + bytes([rng.randint(1, 255)]) + line[i + 1:]
        line = line.replace(b"\n", b" ")
        if not FILES.search(line) and not re.search(rb"(?i)quit", line):
            return line


def ignored(line: bytes) -> bool:
    """Whether GTP ignores the line (no answer): blank once control characters and the comment go."""
    if len(line) > 65536:
        return False
    text = line.decode("utf-8", "surrogateescape").replace("\t", " ")
    text = re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", "", text).split("#", 1)[0]
    return not text.strip()


def request_id(line: bytes) -> str:
    """The id the answer must carry: the line's first word when it is ASCII digits."""
    text = line.decode("utf-8", "surrogateescape").replace("\t", " ")
    text = re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", "", text).split("#", 1)[0].split()
    return text[0] if text and re.fullmatch(r"[0-9]+", text[0]) else ""


@dataclass
class FuzzCounts:
    lines: int = 0
    answers_ok: int = 0
    answers_error: int = 0
    ignored: int = 0
    crashes: int = 0
    hangs: int = 0
    framing_violations: int = 0
    changed_state: int = 0
    internal_errors: int = 0  # "? internal error" or "pondering stopped": an exception nobody expected
    tracebacks: int = 0
    seconds: float = 0.0


class _Sink:
    """The in-process engine's stdout: text collected under a lock."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.text = ""

    def write(self, s: str) -> None:
        with self.cond:
            self.text += s
            self.cond.notify_all()

    def flush(self) -> None:
        pass


class InProcess:
    """A ``GtpEngine`` serving on a thread, fed bytes through a pipe; its state read directly."""

    def __init__(self, visits: int = 8, ponder: bool = False) -> None:
        from gtp.engine import GtpEngine

        self.log = io.StringIO()
        self.engine = GtpEngine(visits=visits, playouts=1, log=self.log, file_commands=False, ponder=ponder,
                                ponder_visits=400)
        r, w = os.pipe()
        self.stdin = os.fdopen(w, "wb")
        self.out = _Sink()
        self.thread = threading.Thread(target=self._serve, args=(os.fdopen(r, "rb"),), daemon=True)
        self.error: BaseException | None = None
        self.thread.start()

    def _serve(self, rin) -> None:
        try:
            self.engine.run(rin, self.out)
        except BaseException as e:  # the engine's thread died: a crash
            self.error = e

    def send(self, data: bytes) -> None:
        self.stdin.write(data)
        self.stdin.flush()

    def read_until(self, marker: str, timeout: float) -> str | None:
        """Everything up to and including the answer that starts with ``marker``; None on timeout."""
        end = time.monotonic() + timeout
        pat = re.compile(r"(?:^|\n)" + re.escape(marker) + r"[^\n]*\n(?:[^\n]+\n)*\n")
        with self.out.cond:
            while True:
                m = pat.search(self.out.text)
                if m:
                    text, self.out.text = self.out.text[:m.end()], self.out.text[m.end():]
                    return text
                left = end - time.monotonic()
                if left <= 0 or not self.alive():
                    return None
                self.out.cond.wait(min(left, 0.5))

    def alive(self) -> bool:
        return self.thread.is_alive()

    def state(self, record: str) -> tuple:
        g, e = self.engine.game, self.engine
        c = e.clock
        return (record, g.size, g.komi, g.rules.name, tuple(g.history), g.passes, g.to_play, g.resigned,
                g.handicap, g.board.tobytes(), e.size, e.komi, e.rules,
                (c.mode, c.main_time, c.byo_time, c.byo_stones, tuple(sorted(c.left.items()))))

    def stderr(self) -> str:
        return self.log.getvalue()

    def close(self) -> None:
        try:
            self.stdin.close()
        except OSError:
            pass
        self.thread.join(10)


class Process(InProcess):
    """``python -m tengen_cli gtp`` in a temporary folder, under ``env`` (a locale)."""

    def __init__(self, visits: int = 8, ponder: bool = False, env: dict | None = None) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="tengen-fuzz-")
        self.errfile = open(os.path.join(self.tmp.name, "stderr.log"), "w+b")
        environ = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})}
        self.proc = subprocess.Popen([sys.executable, "-m", "tengen_cli", "gtp", "--model", "none", "--visits",
                                      str(visits), "--playouts", "1", "--no-file-commands"]
                                     + (["--ponder"] if ponder else []),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errfile,
                                     cwd=self.tmp.name, env=environ)
        self.stdin = self.proc.stdin
        self.out = _Sink()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            self.out.write(chunk.decode("utf-8", "backslashreplace"))

    def send(self, data: bytes) -> None:
        try:
            super().send(data)
        except OSError:  # it died: the next read says so
            pass

    def alive(self) -> bool:
        return self.proc.poll() is None

    def state(self, record: str) -> tuple:
        return (record,)

    def stderr(self) -> str:
        self.errfile.seek(0)
        return self.errfile.read().decode("utf-8", "backslashreplace")

    def close(self) -> None:
        try:
            self.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.thread.join(10)
        self.errfile.close()
        self.tmp.cleanup()


def run_fuzz(lines: int, seed: int = 0, process: bool = False, env: dict | None = None, timeout: float = 60.0,
             visits: int = 8, ponder: bool = False, failures: list | None = None) -> FuzzCounts:
    """Send ``lines`` fuzzed lines to a fresh engine (restarted after a crash or hang), pondering between
    requests if asked; ``failures`` collects (kind, line, answer) for what went wrong."""
    rng = random.Random(seed)
    counts = FuzzCounts()
    failures = failures if failures is not None else []
    start = time.monotonic()

    def fresh():
        return Process(visits, ponder, env) if process else InProcess(visits, ponder)

    engine = fresh()
    tracebacks = 0

    def sentinel(n: int) -> tuple[str | None, str | None]:
        """Ask for the record; returns (what came before its answer, its answer), None on a hang."""
        sid = str(SENTINEL_ID + n)
        engine.send(f"{sid} printsgf\n".encode())
        text = engine.read_until(f"={sid} ", timeout)
        if text is None:
            return None, None
        i = text.rfind(f"={sid} ")
        return text[:i], text[i + len(sid) + 2:]

    def restart(kind: str, line: bytes) -> None:
        nonlocal engine, tracebacks
        failures.append((kind, line[:200], None))
        tracebacks += engine.stderr().count("Traceback")
        counts.internal_errors += engine.stderr().count("pondering stopped")
        if process and engine.alive():
            engine.proc.kill()
        engine.close()
        engine = fresh()

    before_text, record = sentinel(0)
    before = engine.state(record)
    source = fuzz_lines(rng)
    for n in range(1, lines + 1):
        line = next(source)
        counts.lines += 1
        engine.send(line + b"\n")
        answer, record = sentinel(n)
        if answer is None:
            if engine.alive():
                counts.hangs += 1
                restart("hang", line)
            else:
                counts.crashes += 1
                restart("crash", line)
            _, record = sentinel(0)
            before = engine.state(record)
            continue
        if ignored(line):
            counts.ignored += 1
            if answer:
                counts.framing_violations += 1
                failures.append(("answer to an ignored line", line[:200], answer[:300]))
        else:
            m = ANSWER.fullmatch(answer)
            if not m or m.group(1) != request_id(line):
                counts.framing_violations += 1
                failures.append(("framing", line[:200], answer[:300]))
            elif answer[0] == "=":
                counts.answers_ok += 1
            else:
                counts.answers_error += 1
                if answer.split(" ", 1)[-1].startswith("internal error"):
                    counts.internal_errors += 1
                    failures.append(("internal error", line[:200], answer[:300]))
        after = engine.state(record)
        if answer and answer[0] == "?" and after != before:
            counts.changed_state += 1
            failures.append(("changed state", line[:200], answer[:300]))
        before = after
    if not engine.alive():
        counts.crashes += 1
    tracebacks += engine.stderr().count("Traceback")
    counts.internal_errors += engine.stderr().count("pondering stopped")
    engine.close()
    counts.tracebacks = tracebacks
    counts.seconds = round(time.monotonic() - start, 1)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1000, help="fuzzed request lines (default: 1000)")
    ap.add_argument("--seed", type=int, default=0, help="of the generator (default: 0)")
    ap.add_argument("--process", action="store_true", help="fuzz `tengen gtp` as a process (default: in process)")
    ap.add_argument("--locale", default=None, help="LC_ALL and LANG of the process, e.g. C.UTF-8")
    ap.add_argument("--ponder", action="store_true", help="the engine ponders between requests")
    args = ap.parse_args(argv)
    env = {"LC_ALL": args.locale, "LANG": args.locale} if args.locale else None
    failures: list = []
    counts = run_fuzz(args.lines, args.seed, process=args.process or bool(env), env=env, ponder=args.ponder,
                      failures=failures)
    for kind, line, answer in failures[:20]:
        print(f"{kind}: {line!r} -> {answer!r}", file=sys.stderr)
    print(asdict(counts))
    return 0 if not (counts.crashes or counts.hangs or counts.framing_violations or counts.changed_state
                     or counts.internal_errors or counts.tracebacks) else 1


if __name__ == "__main__":
    sys.exit(main())
