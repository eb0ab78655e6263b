"""GNU Go as a reference: a pipelined GTP client and a differential random-game driver.

``GnuGo`` runs ``gnugo --mode gtp --chinese-rules`` (simple ko, no suicide, area
scoring: the rules of ``Game(rules="chinese")``) and talks GTP to it. Commands
can be sent in batches: the whole batch is written, then the answers are read
back in order, so a long game costs a handful of pipe round trips.

``play_random_game`` plays one seeded random game in our engine and relays every
move to GNU Go. After each move the stones must agree; every fifth move the
legality of every empty point for the player to move must agree; at the end of
a game finished by two passes the area score must agree with GNU Go's
``final_score`` whenever GNU Go sees no dead stones. ``run_games`` spreads games
over several GNU Go processes.

``python -m tests.gnugo SIZE SEED`` replays one game and prints what it finds,
which is how a mismatch reported by the tests is reproduced. With ``--games N``
it runs the check at volume (``docs/benchmarks.md``): games ``SEED * 1_000_000
+ k`` for k < N on ``--workers`` GNU Go processes, each mismatch (with its
replay command) on stderr, then one JSON line on stdout: games, size,
moves_checked, legality_checks, illegal_ko_points, illegal_suicide_points,
score_comparisons, score_skipped_dead_stones, score_skipped_move_cap,
score_skipped_diverged, mismatches, seconds, games_per_s. Exit status 1 if
any mismatch was found, 2 if GNU Go is not installed::

    python -m tests.gnugo 9 1 --games 2000 --workers 2
"""

from __future__ import annotations

import os
import random
import selectors
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from go_engine import Game
from go_engine.coords import COLUMNS, parse_vertex
from go_engine.kernels import k_is_eye

DEFAULT_ARGS = ("--mode", "gtp", "--chinese-rules")
FALLBACK_PATHS = ("/usr/games/gnugo", "/usr/local/bin/gnugo", "/usr/bin/gnugo")
# Bytes of commands written before the answers to them are read back. Kept well
# below a pipe's capacity so a write can never block while GNU Go is itself
# blocked writing answers we have not read yet.
_WRITE_WINDOW = 16 * 1024


class GnuGoError(RuntimeError):
    """GNU Go is missing, died, hung or said something that is not GTP."""


class GtpError(RuntimeError):
    """GNU Go answered a command with ``? message``."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(f"GNU Go refused {command!r}: {message}")
        self.command = command
        self.message = message


def find_gnugo() -> str | None:
    """Path of the ``gnugo`` binary (``$GNUGO``, then ``PATH``, then the usual places), or ``None``."""
    env = os.environ.get("GNUGO")
    if env and os.access(env, os.X_OK):
        return env
    found = shutil.which("gnugo")
    if found:
        return found
    for p in FALLBACK_PATHS:
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


@dataclass(frozen=True)
class Response:
    """One GTP answer: ``ok`` is False for ``?``; ``text`` has the status and id stripped."""

    command: str
    ok: bool
    text: str

    def value(self) -> str:
        """The text of a success answer; ``GtpError`` for a failure."""
        if not self.ok:
            raise GtpError(self.command, self.text)
        return self.text


class GnuGo:
    """A ``gnugo --mode gtp`` subprocess. Use as a context manager; ``close`` always ends it.

    >>> with GnuGo() as gg:
    ...     gg.command("boardsize 9")
    ...     gg.send(["play b E5", "play w E5"])[1].ok
    False
    """

    def __init__(self, binary: str | None = None, args: Sequence[str] = DEFAULT_ARGS,
                 timeout: float = 60.0) -> None:
        self.binary = binary or find_gnugo()
        if self.binary is None:
            raise GnuGoError("GNU Go not found: install it (apt-get install gnugo), put `gnugo` on PATH "
                             "or set $GNUGO to the binary")
        self.args = tuple(args)
        self.timeout = timeout
        self._next_id = 1
        self._buf = b""
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen([self.binary, *self.args], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=self._stderr, bufsize=0)
        except OSError as e:
            self._stderr.close()
            raise GnuGoError(f"cannot start GNU Go at {self.binary}: {e}") from e
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._proc.stdout, selectors.EVENT_READ)
        self._closed = False

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> "GnuGo":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a last resort; close() is the way
        try:
            self.close()
        except Exception:
            pass

    @property
    def alive(self) -> bool:
        return not self._closed and self._proc.poll() is None

    def close(self) -> None:
        """Ask GNU Go to quit, then terminate or kill it if it does not; idempotent."""
        if self._closed:
            return
        self._closed = True
        proc = self._proc
        try:
            if proc.poll() is None:
                try:
                    proc.stdin.write(b"quit\n")
                    proc.stdin.flush()
                    proc.stdin.close()  # end of input makes GNU Go stop too
                except OSError:
                    pass
                try:
                    proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    try:
                        proc.wait(timeout=2)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
        finally:
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self._sel.close()
            self._stderr.close()

    def _stderr_tail(self) -> str:
        try:
            self._stderr.seek(0)
            return self._stderr.read()[-2000:].decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _dead(self, what: str) -> GnuGoError:
        rc = self._proc.poll()
        tail = self._stderr_tail()
        msg = f"GNU Go ({self.binary}) {what}"
        if rc is not None:
            msg += f"; exit status {rc}"
        if tail:
            msg += f"; stderr: {tail}"
        return GnuGoError(msg)

    # ------------------------------------------------------------ protocol
    def command(self, cmd: str) -> str:
        """Send one command; its answer text, or ``GtpError`` if GNU Go answers ``?``."""
        return self.send([cmd])[0].value()

    def send(self, commands: Iterable[str]) -> list[Response]:
        """Send many commands, pipelined, and return their answers in order.

        A ``?`` answer does not stop the batch: each answer says whether it failed."""
        cmds = list(commands)
        out: list[Response] = []
        i = 0
        while i < len(cmds):
            chunk: list[tuple[int, str]] = []
            size = 0
            while i < len(cmds) and (not chunk or size < _WRITE_WINDOW):
                c = cmds[i]
                if "\n" in c or "\r" in c or not c.strip():
                    raise ValueError(f"a GTP command is one non-empty line, got {c!r}")
                chunk.append((self._next_id, c))
                self._next_id += 1
                size += len(c) + 12
                i += 1
            self._write("".join(f"{n} {c}\n" for n, c in chunk).encode())
            texts = self._read_answers(len(chunk), chunk[0][1])
            out.extend(self._parse(t, n, c) for t, (n, c) in zip(texts, chunk, strict=False))
        return out

    def _write(self, data: bytes) -> None:
        if self._closed:
            raise GnuGoError("GNU Go client is closed")
        try:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise self._dead(f"stopped reading commands ({e})") from e

    def _read_answers(self, count: int, first_cmd: str) -> list[str]:
        """The next ``count`` answers as text. Each answer ends with an empty line."""
        deadline = time.monotonic() + self.timeout
        fd = self._proc.stdout.fileno()
        parts: list[bytes] = []
        while True:
            if self._buf:
                pieces = self._buf.split(b"\n\n")
                # The last piece is an unfinished answer (or b""); blank pieces are stray empty lines.
                done = [p for p in pieces[:-1] if p.strip()]
                if len(parts) + len(done) >= count:
                    k = count - len(parts)
                    parts.extend(done[:k])
                    rest = done[k:] + [pieces[-1]]
                    self._buf = b"\n\n".join(rest) if len(rest) > 1 else rest[0]
                    return [p.decode("utf-8", "replace").strip("\n") for p in parts]
                parts.extend(done)
                self._buf = pieces[-1]
            left = deadline - time.monotonic()
            if left <= 0 or not self._sel.select(timeout=left):
                raise self._dead(f"gave {len(parts)} of {count} answers to a batch starting with "
                                 f"{first_cmd!r} within {self.timeout:g} s")
            data = os.read(fd, 1 << 18)
            if not data:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                raise self._dead(f"closed its output after {len(parts)} of {count} answers to a batch "
                                 f"starting with {first_cmd!r}")
            # GNU Go ends lines with "\n"; tolerate "\r\n".
            self._buf += data.replace(b"\r", b"") if b"\r" in data else data

    def _parse(self, text: str, n: int, cmd: str) -> Response:
        status, rest = text[0], text[1:]
        if status not in "=?":
            raise GnuGoError(f"not a GTP answer to {cmd!r}: {text[:200]!r}")
        head, _, body = rest.partition(" ")
        if "\n" in head:  # "=12\nmore" is not expected, but keep it readable
            head, _, more = head.partition("\n")
            body = more + (" " + body if body else "")
        if head and head != str(n):
            raise GnuGoError(f"answer id {head!r} where {n} was expected (to {cmd!r}): {text[:200]!r}")
        return Response(cmd, status == "=", body.strip())


# ---------------------------------------------------------------- helpers

def parse_vertices(text: str) -> set[str]:
    """Vertices of a ``list_stones``-style answer, upper case."""
    return {v.upper() for v in text.split()}


def parse_score(text: str) -> float:
    """``B+3.5`` -> 3.5, ``W+2.0`` -> -2.0, ``0`` -> 0.0 (Black minus White)."""
    t = text.strip().upper()
    if t in ("0", "DRAW", "JIGO"):
        return 0.0
    if len(t) >= 3 and t[0] in "BW" and t[1] == "+":
        v = float(t[2:])
        return v if t[0] == "B" else -v
    raise ValueError(f"not a score: {text!r}")


@lru_cache(maxsize=None)
def _names(size: int) -> np.ndarray:
    """GTP vertices of a board in ``board.ravel()`` order."""
    return np.array([f"{COLUMNS[c]}{r + 1}" for r in range(size) for c in range(size)], dtype=object)


def board_stones(game: Game) -> tuple[set[str], set[str]]:
    """Black and white stones of ``game`` as sets of GTP vertices."""
    b = game.board.ravel()
    names = _names(game.size)
    return set(names[b == 1]), set(names[b == -1])


def random_move(game: Game, rng: random.Random) -> str:
    """A move uniform over the legal moves that do not fill the mover's own one-point eye; else pass."""
    cands = game.legal_moves()[:-1]
    c = 1 if game.to_play == "B" else 2
    n = len(cands)
    while n:
        # Lazy Fisher-Yates: the first non-eye candidate drawn is uniform over the non-eye ones.
        j = rng.randrange(n)
        v = cands[j]
        if not k_is_eye(game._S, game._meta, parse_vertex(v, game.size), c):
            return v
        n -= 1
        cands[j] = cands[n]
    return "pass"


# ---------------------------------------------------------------- the driver

@dataclass
class Mismatch:
    """One disagreement, with what is needed to replay it."""

    seed: int
    size: int
    komi: float
    move: int  # moves played before it was seen
    kind: str  # "play", "stones", "legality", "score", "internal"
    detail: str
    moves: list[str]  # the game's moves up to and including move ``move``

    def __str__(self) -> str:
        seq = " ".join(self.moves)
        return (f"[{self.kind}] size={self.size} seed={self.seed} komi={self.komi:g} after {self.move} moves: "
                f"{self.detail}\n  replay: python -m tests.gnugo {self.size} {self.seed}\n  moves: {seq}")


@dataclass
class GameResult:
    seed: int
    size: int
    komi: float
    moves: list[str]
    ended_by_passes: bool
    stone_checks: int = 0
    legality_checks: int = 0  # single points compared
    illegal_ko: int = 0  # of those, points our engine calls illegal because of ko
    illegal_suicide: int = 0  # ... and because of suicide
    score_compared: bool = False
    score_skipped: str = ""  # why not: "dead stones", "move cap", or "" when compared
    mismatches: list[Mismatch] = field(default_factory=list)


def game_komi(seed: int) -> float:
    """Komi used for game ``seed``; integral values make draws (GNU Go answers ``0``) possible."""
    return (7.5, 7.0, 6.5, 0.5, 0.0)[seed % 5]


def play_random_game(gg: GnuGo, size: int, seed: int, komi: float | None = None, legality_every: int = 5,
                     move_cap: int | None = None) -> GameResult:
    """Play one seeded random game in our engine and check it against GNU Go move by move.

    Stones are compared after every move. The legality of every empty point for the
    player to move is compared before the first move, after every ``legality_every``-th
    move and after every move that captures one stone (where a ko can arise). Moves are chosen by
    our engine alone, so the whole game goes to GNU Go as one pipelined batch and the
    answers are compared afterwards, in order; the first disagreement that makes the
    two boards differ ends the comparison of that game."""
    komi = game_komi(seed) if komi is None else komi
    cap = 3 * size * size if move_cap is None else move_cap
    rng = random.Random(seed * 1_000_003 + size)
    game = Game(size, komi, rules="chinese")
    names = list(_names(size))
    res = GameResult(seed, size, komi, [], False)

    # GNU Go 3.8 caches the result of final_score for the last position it scored and
    # reuses it when that board comes back, even after clear_board and a new komi: on
    # small boards a later game that ends in the same position would get the old komi.
    # Scoring a throwaway position first (a lone black stone on 2x2, never the end of a
    # random game) empties that cache.
    cmds = ["boardsize 2", "clear_board", "play b A1", "final_score",
            f"boardsize {size}", "clear_board", f"komi {komi:g}"]
    # (index of the first answer, kind, payload) for each check, in order.
    checks: list[tuple[int, str, object]] = []
    setup_n = len(cmds)

    def add_legality(nmoves: int) -> None:
        color = game.to_play
        board = game.board
        legal = set(game.legal_moves()[:-1])
        pts = [v for v, x in zip(names, board.ravel(), strict=False) if x == 0]
        why = [game.why_illegal(v) for v in pts]
        ours = [w is None for w in why]
        res.illegal_ko += sum(w is not None and "ko" in w for w in why)
        res.illegal_suicide += sum(w is not None and "suicide" in w for w in why)
        for v, ok in zip(pts, ours, strict=False):
            if ok != (v in legal):
                res.mismatches.append(Mismatch(seed, size, komi, nmoves, "internal",
                                               f"is_legal({v}) = {ok} but legal_moves {'has' if v in legal else 'lacks'} it",
                                               list(res.moves)))
        checks.append((len(cmds), "legality", (nmoves, color, pts, ours)))
        cmds.extend(f"is_legal {color} {v}" for v in pts)

    add_legality(0)
    while not game.is_over and len(res.moves) < cap:
        color = game.to_play
        mv = random_move(game, rng)
        before = sum(game.captures.values())
        game.play(mv)
        one_captured = sum(game.captures.values()) == before + 1  # only then can a ko arise
        res.moves.append(f"{color} {mv}")
        checks.append((len(cmds), "move", (len(res.moves), mv, board_stones(game))))
        cmds.extend([f"play {color} {mv}", "list_stones black", "list_stones white"])
        if not game.is_over and (one_captured or len(res.moves) % legality_every == 0):
            add_legality(len(res.moves))
    res.ended_by_passes = game.is_over

    answers = gg.send(cmds)
    for a in answers[:setup_n]:
        a.value()  # a refused boardsize/komi is a harness problem, not a rules mismatch

    def bad(nmoves: int, kind: str, detail: str) -> None:
        res.mismatches.append(Mismatch(seed, size, komi, nmoves, kind, detail, res.moves[:nmoves]))

    diverged = False
    for start, kind, payload in checks:
        if kind == "move":
            nmoves, mv, (black, white) = payload
            played = answers[start]
            if not played.ok:
                bad(nmoves, "play", f"GNU Go rejects {res.moves[nmoves - 1]} that we allow: {played.text}")
                diverged = True
                break
            gb, gw = parse_vertices(answers[start + 1].value()), parse_vertices(answers[start + 2].value())
            res.stone_checks += 1
            if gb != black or gw != white:
                parts = []
                for name, ours_, theirs in (("black", black, gb), ("white", white, gw)):
                    if ours_ - theirs:
                        parts.append(f"{name} only in ours: {sorted(ours_ - theirs)}")
                    if theirs - ours_:
                        parts.append(f"{name} only in GNU Go: {sorted(theirs - ours_)}")
                bad(nmoves, "stones", f"after {res.moves[nmoves - 1]}: " + "; ".join(parts))
                diverged = True
                break
        else:
            nmoves, color, pts, ours = payload
            wrong = []
            for k, (v, ok) in enumerate(zip(pts, ours, strict=False)):
                theirs = answers[start + k].value().strip()
                if theirs not in ("0", "1"):
                    raise GnuGoError(f"is_legal answered {theirs!r}")
                res.legality_checks += 1
                if ok != (theirs == "1"):
                    wrong.append(f"{v}: ours {'legal' if ok else 'illegal'}, GNU Go {'legal' if theirs == '1' else 'illegal'}")
            if wrong:
                bad(nmoves, "legality", f"{color} to play: " + "; ".join(wrong))

    if diverged:
        res.score_skipped = "diverged"
    elif not res.ended_by_passes:
        res.score_skipped = "move cap"
    else:
        dead = gg.send(["final_status_list dead"])[0].value()
        if dead.split():
            res.score_skipped = "dead stones"
        else:
            theirs = parse_score(gg.command("final_score"))
            ours = game.score()
            res.score_compared = True
            if abs(theirs - ours) > 1e-9:
                bad(len(res.moves), "score", f"area score ours {ours:+g}, GNU Go final_score {theirs:+g}")
    return res


@dataclass
class Summary:
    games: int = 0
    size: int = 0
    moves_checked: int = 0
    legality_checks: int = 0
    illegal_ko: int = 0
    illegal_suicide: int = 0
    score_compared: int = 0
    score_skipped_dead: int = 0
    score_skipped_cap: int = 0
    score_skipped_diverged: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, r: GameResult) -> None:
        self.games += 1
        self.moves_checked += r.stone_checks
        self.legality_checks += r.legality_checks
        self.illegal_ko += r.illegal_ko
        self.illegal_suicide += r.illegal_suicide
        self.score_compared += r.score_compared
        self.score_skipped_dead += r.score_skipped == "dead stones"
        self.score_skipped_cap += r.score_skipped == "move cap"
        self.score_skipped_diverged += r.score_skipped == "diverged"
        self.mismatches.extend(r.mismatches)

    def as_dict(self) -> dict:
        return {"games": self.games, "size": self.size, "moves_checked": self.moves_checked,
                "legality_checks": self.legality_checks, "illegal_ko_points": self.illegal_ko,
                "illegal_suicide_points": self.illegal_suicide, "score_comparisons": self.score_compared,
                "score_skipped_dead_stones": self.score_skipped_dead, "score_skipped_move_cap": self.score_skipped_cap,
                "score_skipped_diverged": self.score_skipped_diverged, "mismatches": len(self.mismatches),
                "seconds": round(self.seconds, 2)}


def run_games(size: int, seeds: Iterable[int], workers: int = 2, binary: str | None = None,
              legality_every: int = 5, timeout: float = 120.0) -> Summary:
    """Play the games ``seeds`` on ``workers`` threads, each with its own GNU Go process."""
    seeds = list(seeds)
    summary = Summary(size=size)
    t0 = time.perf_counter()
    lock = threading.Lock()
    results: list[GameResult] = []
    it = iter(seeds)

    def worker() -> None:
        with GnuGo(binary, timeout=timeout) as gg:
            while True:
                with lock:
                    seed = next(it, None)
                if seed is None:
                    return
                r = play_random_game(gg, size, seed, legality_every=legality_every)
                with lock:
                    results.append(r)

    n = max(1, min(workers, len(seeds)))
    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(worker) for _ in range(n)]
        for f in futures:
            f.result()
    for r in sorted(results, key=lambda r: r.seed):
        summary.add(r)
    summary.seconds = time.perf_counter() - t0
    return summary


def _main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import json
    import sys

    ap = argparse.ArgumentParser(description="Replay one differential game against GNU Go, or check many.")
    ap.add_argument("size", type=int)
    ap.add_argument("seed", type=int, help="the game's seed; with --games, game k has seed SEED * 1_000_000 + k")
    ap.add_argument("--games", type=int, default=None, help="check this many games and print a JSON summary")
    ap.add_argument("--workers", type=int, default=2, help="GNU Go processes (threads) in parallel")
    ap.add_argument("--legality-every", type=int, default=5, help="compare all legal points every N moves")
    ap.add_argument("--gnugo", default=None, help="path of the gnugo binary (default: $GNUGO, PATH, /usr/games)")
    ap.add_argument("--show", type=int, default=20, help="print at most this many mismatches")
    args = ap.parse_args(argv)
    binary = args.gnugo or find_gnugo()
    if binary is None:
        print("GNU Go not found: install it (apt-get install gnugo) or pass --gnugo PATH", file=sys.stderr)
        return 2
    if args.games is not None:
        seeds = range(args.seed * 1_000_000, args.seed * 1_000_000 + args.games)
        s = run_games(args.size, seeds, workers=args.workers, binary=binary, legality_every=args.legality_every)
        for m in s.mismatches[: args.show]:
            print(m, file=sys.stderr)
        if len(s.mismatches) > args.show:
            print(f"... and {len(s.mismatches) - args.show} more mismatches", file=sys.stderr)
        out = s.as_dict()
        out["games_per_s"] = round(s.games / s.seconds, 2) if s.seconds else None
        print(json.dumps(out))
        return 1 if s.mismatches else 0
    with GnuGo(binary) as gg:
        r = play_random_game(gg, args.size, args.seed, legality_every=args.legality_every)
    print(f"size {r.size} seed {r.seed} komi {r.komi:g}: {len(r.moves)} moves, "
          f"{'ended by two passes' if r.ended_by_passes else 'stopped at the move cap'}, "
          f"score {'compared' if r.score_compared else 'skipped: ' + r.score_skipped}")
    print("moves:", " ".join(r.moves))
    for m in r.mismatches:
        print(m)
    return 1 if r.mismatches else 0


if __name__ == "__main__":
    raise SystemExit(_main())
