"""A GTP (version 2) engine over stdin/stdout: ``tengen gtp``.

Every command ``foo-bar`` is handled by the method ``GtpEngine.cmd_foo_bar``,
which takes the argument strings and returns the response text (or raises
``GtpError`` for a ``?`` answer). ``run`` reads requests through a reader
thread and a queue, so that a streaming analysis command (``lz-analyze``,
``kata-analyze``) keeps searching until the next request arrives.

Without a network, moves come from the PUCT search with ``PlayoutEvaluator``:
uniform priors over the legal moves that do not fill one's own eye, and a value
from a few random playouts of the leaf.
"""

from __future__ import annotations

import math
import queue
import re
import sys
import threading
import time
from typing import TextIO

import numpy as np

from go_engine import kernels as K
from go_engine.coords import COLUMNS, PASS
from go_engine.game import Game, IllegalMove, handicap_vertices
from go_engine import deadstones
from go_engine.rules import get_rules
from selfplay.evaluators import NetworkEvaluator, PlayoutEvaluator
from selfplay.search import Search, SearchConfig

NAME = "Tengen"
VERSION = "0.1"
_CTRL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_KGS_RULES = {"chinese": "chinese", "japanese": "japanese", "aga": "aga", "new_zealand": "nz"}


class GtpError(Exception):
    """A request that gets a ``?`` answer."""


def parse_color(s: str) -> str:
    c = s.lower()
    if c in ("b", "black"):
        return "B"
    if c in ("w", "white"):
        return "W"
    raise GtpError(f"invalid color {s!r}")


def fmt_score(s: float) -> str:
    if s == 0:
        return "0"
    return f"{'B' if s > 0 else 'W'}+{abs(s):g}"


class GtpEngine:
    def __init__(self, model=None, visits: int = 32, resign_threshold: float = 0.1, playouts: int = 4,
                 size: int = 19, komi: float = 7.5, rules: str = "chinese", seed: int | None = None,
                 device: str = "cpu", analysis_interval: float = 0.1, ponder: bool = False,
                 ponder_visits: int = 100_000, move_seconds: float | None = None, random_moves: int = 0,
                 log: TextIO | None = None) -> None:
        self.log_file = log if log is not None else sys.stderr
        self.visits = max(1, int(visits))
        self.move_seconds = move_seconds  # per move when no clock is set (with the visit cap)
        self.resign_threshold = resign_threshold
        self.seed = 0 if seed is None else seed  # the searches' seeds
        self.random_moves = max(0, int(random_moves))  # opening moves drawn by visits
        self.move_rng = np.random.default_rng(seed)
        self.analysis_interval = analysis_interval
        self.ponder = ponder
        self.ponder_visits = ponder_visits
        self.evaluator = NetworkEvaluator(model, device) if model is not None else PlayoutEvaluator(playouts, self.seed)
        self.cfg = SearchConfig()
        self.size, self.komi, self.rules = size, float(komi), rules
        self.game = Game(size, komi, rules)
        self.search: Search | None = None
        self.low: dict[str, int] = {"B": 0, "W": 0}
        self.time_mode = "none"  # none, absolute, byoyomi, canadian
        self.main_time = 0.0
        self.byo_time = 0.0
        self.byo_stones = 0
        self.left: dict[str, tuple[float, int]] = {}
        self._dead_cache: tuple | None = None
        self._queue: queue.Queue | None = None
        self._out: TextIO | None = None

    # ----------------------------------------------------------------- plumbing
    def log(self, msg: str) -> None:
        print(msg, file=self.log_file, flush=True)

    def _handler(self, name: str):
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            return None
        return getattr(self, "cmd_" + name.replace("-", "_"), None)

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
        fn = self._handler(name)
        if fn is None:
            return f"?{cid} unknown command\n\n", False, cid
        try:
            result = fn(*args, _cid=cid) if name in self._STREAMING else fn(*args)
        except GtpError as e:
            return f"?{cid} {e}\n\n", False, cid
        except (ValueError, IllegalMove, IndexError) as e:
            return f"?{cid} {e}\n\n", False, cid
        except TypeError as e:
            return f"?{cid} wrong number of arguments ({e})\n\n", False, cid
        except Exception as e:  # never die on a request
            self.log(f"internal error in {name}: {e!r}")
            return f"?{cid} internal error: {e}\n\n", False, cid
        if result is _STREAMED:
            return "", True, cid
        result = "" if result is None else str(result)
        return f"={cid} {result}".rstrip(" ") + "\n\n", True, cid

    _STREAMING = ("lz-analyze", "kata-analyze", "lz-genmove_analyze", "kata-genmove_analyze")

    def run(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
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
            if self.ponder and q.empty():
                self._ponder()
            line = q.get()
            if line is None:
                return
            resp, ok, _ = self.handle(line)
            if resp:
                stdout.write(resp)
                stdout.flush()
            if ok and resp is not None and self._quit:
                return

    _quit = False

    def _write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def _pending(self) -> bool:
        return self._queue is not None and not self._queue.empty()

    def warm_up(self) -> float:
        """Load the compiled kernels and run the network once, before the first request, so that the
        first genmove under a clock does not pay for them; returns the seconds it took."""
        t0 = time.monotonic()
        s = Search(Game(self.size, self.komi, self.rules), self.cfg, seed=self.seed)
        s.run(16, self.evaluator, batch_size=8)
        s.advance(s.choose_vertex())  # tree reuse, as after every move of a game
        s.run(8, self.evaluator, batch_size=8)
        s.analysis()
        self.dead_stones(s.game)  # the playouts that run once the opponent passes
        self._dead_cache = None
        return time.monotonic() - t0

    def _ponder(self) -> None:
        """Search the position after our last move until a request arrives (the opponent's time).

        The tree is kept: when the opponent plays, the next genmove starts from its subtree."""
        if self.search is None or self.game.is_over:
            return
        s = self._sync(self.game)
        start = s.root_visits
        while not self._pending() and s.root_visits < self.ponder_visits:
            s.run(8, self.evaluator, batch_size=8)
        self.log(f"pondered {s.root_visits - start} visits")

    # ----------------------------------------------------------------- basic commands
    def cmd_protocol_version(self):
        return "2"

    def cmd_name(self):
        return NAME

    def cmd_version(self):
        return VERSION

    def cmd_known_command(self, name):
        return "true" if self._handler(name) is not None else "false"

    def cmd_list_commands(self):
        names = []
        for n in dir(self):
            if n.startswith("cmd_"):
                base = n[4:]
                for pre in ("kgs_", "kata_", "lz_"):
                    if base.startswith(pre):
                        base = pre[:-1] + "-" + base[len(pre):]
                        if base in ("kata-set_rules", "kata-get_rules"):
                            base = base.replace("_", "-")
                        break
                names.append(base)
        return "\n".join(sorted(names))

    def cmd_quit(self):
        self._quit = True
        return ""

    def _new_game(self) -> None:
        self.game = Game(self.size, self.komi, self.rules)
        self.search = None
        self.low = {"B": 0, "W": 0}
        self.left = {}

    def cmd_boardsize(self, n):
        try:
            s = int(n)
        except ValueError:
            raise GtpError("boardsize is not an integer") from None
        if not 2 <= s <= 25:
            raise GtpError("unacceptable size")
        self.size = s
        self._new_game()
        return ""

    def cmd_clear_board(self):
        self._new_game()
        return ""

    def cmd_komi(self, k):
        try:
            v = float(k)
        except ValueError:
            raise GtpError("komi is not a number") from None
        if not math.isfinite(v):
            raise GtpError("komi is not a number")
        self.komi = v
        self.game.komi = v
        self.search = None
        return ""

    def _set_rules(self, name: str) -> None:
        rules = get_rules(name)
        g = self.game
        if g.history:
            if any(c == 0 for c, _ in g.history):
                raise GtpError("cannot change rules after setup stones")
            ng = Game(g.size, g.komi, rules)
            for c, v in g.moves:
                ng.play(v, c)
            self.game = ng
        else:
            self.game = Game(g.size, g.komi, rules)
        self.rules = rules.name
        self.search = None

    def cmd_kata_set_rules(self, name):
        self._set_rules(name)
        return ""

    def cmd_kata_get_rules(self):
        r = self.game.rules
        return f'{{"ko":"{r.ko.upper()}","scoring":"{r.scoring.upper()}","suicide":{str(r.suicide).lower()}}}'

    def cmd_kgs_rules(self, name):
        if name.lower() not in _KGS_RULES:
            raise GtpError(f"unknown rules {name!r}")
        self._set_rules(_KGS_RULES[name.lower()])
        return ""

    def cmd_play(self, color, vertex):
        c = parse_color(color)
        g = self.game
        try:
            p = g._point(vertex)
        except ValueError as e:
            raise GtpError(f"invalid vertex: {e}") from None
        _ready_to_move(g)
        why = g.why_illegal(vertex, c)
        if why is not None:
            raise GtpError(f"illegal move: {why}")
        g.play("pass" if p == PASS else vertex, c)
        return ""

    def cmd_undo(self):
        try:
            self.game.undo()
        except IndexError:
            raise GtpError("cannot undo") from None
        return ""

    def _check_empty(self) -> None:
        if self.game.history or self.game.board.any():
            raise GtpError("board not empty")

    def cmd_fixed_handicap(self, n):
        self._check_empty()
        try:
            verts = self.game.place_handicap(int(n))
        except ValueError as e:
            raise GtpError(f"invalid number of stones: {e}") from None
        return " ".join(verts)

    def cmd_place_free_handicap(self, n):
        self._check_empty()
        k = int(n)
        size = self.size
        if k < 2 or k >= size * size:
            raise GtpError("invalid number of stones")
        try:
            verts = handicap_vertices(size, k)
        except ValueError:
            verts = []
            cand = []
            for r in range(size):
                for c in range(size):
                    d = min(abs(r - e) for e in (2, size // 2, size - 3)) + min(abs(c - e) for e in (2, size // 2, size - 3))
                    cand.append((d, r, c))
            taken: set = set()
            for _, r, c in sorted(cand):
                if len(verts) == k:
                    break
                if any(abs(r - a) + abs(c - b) <= 1 for a, b in taken) and len(taken) < (size * size) // 3:
                    continue
                taken.add((r, c))
                verts.append(f"{COLUMNS[c]}{r + 1}")
        self.game.setup(black=verts, to_play="W")
        self.game.handicap = k
        return " ".join(verts)

    def cmd_set_free_handicap(self, *verts):
        self._check_empty()
        if len(verts) < 2 or len(set(v.upper() for v in verts)) != len(verts):
            raise GtpError("bad handicap stones")
        for v in verts:
            try:
                if self.game._point(v) == PASS:
                    raise GtpError("bad vertex")
            except ValueError as e:
                raise GtpError(f"invalid vertex: {e}") from None
        self.game.setup(black=list(verts), to_play="W")
        self.game.handicap = len(verts)
        return ""

    def cmd_showboard(self):
        return "\n" + str(self.game)

    def cmd_printsgf(self, *path):
        from go_engine.sgf import write_sgf

        text = write_sgf(self.game, result="").strip()
        if path:
            with open(path[0], "w", encoding="utf-8") as f:
                f.write(text + "\n")
            return ""
        return "\n".join(l for l in text.splitlines() if l.strip())

    def cmd_loadsgf(self, path, *move):
        from go_engine.sgf import parse_sgf

        try:
            with open(path, "rb") as f:
                data = f.read()
            games = parse_sgf(data, path)
        except (OSError, ValueError) as e:
            raise GtpError(f"cannot load file: {e}") from None
        if not games:
            raise GtpError("cannot load file: no game")
        moves = None
        if move:
            moves = max(0, int(move[0]) - 1)
        g = games[0].replay(moves=moves)
        self.game = g
        self.size, self.komi = g.size, g.komi
        self.search = None
        return ""

    def cmd_kgs_game_over(self):
        self.log("game over")
        return ""

    # ----------------------------------------------------------------- time
    def cmd_time_settings(self, main, byo, stones):
        m, b, s = float(main), float(byo), int(stones)
        if m < 0 or b < 0 or s < 0:
            raise GtpError("negative time")
        self.main_time, self.byo_time, self.byo_stones = m, b, s
        self.time_mode = "none" if m == 0 and b > 0 and s == 0 else ("absolute" if b == 0 or s == 0 else "canadian")
        if m == 0 and b == 0:
            self.time_mode = "none"
        self.left = {}
        return ""

    def cmd_kgs_time_settings(self, mode, *args):
        mode = mode.lower()
        if mode == "none":
            self.time_mode = "none"
        elif mode == "absolute":
            self.time_mode, self.main_time, self.byo_time, self.byo_stones = "absolute", float(args[0]), 0.0, 0
        elif mode == "byoyomi":
            self.time_mode, self.main_time, self.byo_time = "byoyomi", float(args[0]), float(args[1])
            self.byo_stones = int(args[2])
        elif mode == "canadian":
            self.time_mode, self.main_time, self.byo_time = "canadian", float(args[0]), float(args[1])
            self.byo_stones = int(args[2])
        else:
            raise GtpError(f"unknown time system {mode!r}")
        self.left = {}
        return ""

    def cmd_time_left(self, color, t, stones):
        self.left[parse_color(color)] = (float(t), int(stones))
        return ""

    def budget(self, color: str) -> float | None:
        """Seconds to spend on this move, or None for no clock."""
        if self.time_mode == "none":
            return self.move_seconds
        reserve = 0.5
        t, stones = self.left.get(color, (self.main_time, 0))
        if stones > 0 or t <= 0:
            if self.time_mode == "byoyomi":
                per = t if stones > 0 else self.byo_time
            elif self.time_mode == "canadian":
                per = (t if stones > 0 else self.byo_time) / max(1, stones or self.byo_stones)
            else:
                per = t / 10
            # keep a reserve for the answer's way back: half a second, less for short periods
            return max(0.05, per - min(reserve, 0.1 + 0.1 * per))
        empties = int((self.game.board == 0).sum())
        est = max(10, empties // 2)
        b = t / est
        if self.time_mode in ("byoyomi", "canadian") and self.byo_time > 0:
            b += 0.5 * max(0.0, self.byo_time / max(1, self.byo_stones if self.time_mode == "canadian" else 1) - reserve)
        return max(0.05, min(b, t - reserve) if t > reserve + 0.05 else 0.05)

    # ----------------------------------------------------------------- search
    def _sync(self, game: Game) -> Search:
        """The search tree of ``game``: the current tree advanced along the moves played since
        (keeping the subtree), or a new one."""
        s = self.search
        if s is not None and s.game.komi == game.komi and s.game.rules == game.rules:
            h, sh = game.history, s.game.history
            if h[:len(sh)] == sh:
                for color, point in h[len(sh):]:
                    if s.game.is_over or color != (K.BLACK if s.game.to_play == "B" else K.WHITE):
                        break
                    s.advance(point)
                if s.game.history == h and s.game.hash == game.hash and s.game.to_play == game.to_play:
                    return s
        self.seed += 1
        self.search = Search(game, self.cfg, seed=self.seed)
        return self.search

    def _search(self, game: Game, color: str, visits: int, deadline: float | None, on_chunk=None) -> Search:
        """Search until the root has ``visits`` visits, those of a reused subtree included (as Leela Zero's
        and KataGo's visit limits count), or until ``deadline``."""
        s = self._sync(game)
        while s.root_visits < visits:
            s.run(min(8, visits - s.root_visits), self.evaluator, batch_size=8)
            if on_chunk is not None:
                on_chunk(s)
            if deadline is not None and time.monotonic() >= deadline:
                break
        if s.root_visits == 0 or not s.analysis():
            s.run(2, self.evaluator, batch_size=1)
        return s

    def _position_for(self, color: str) -> Game:
        return _ready_to_move(self.game, color)

    def dead_stones(self, game: Game | None = None) -> list[str]:
        """Stones whose chain is owned by the opponent in most random playouts of the position."""
        g = game or self.game
        key = (g.hash, g.to_play, len(g.history), g.komi)
        if self._dead_cache and self._dead_cache[0] == key:
            return self._dead_cache[1]
        dead = deadstones.dead_stones(g)
        self._dead_cache = (key, dead)
        return dead

    def _genmove(self, color: str, cleanup: bool = False, play: bool = True, on_chunk=None) -> str:
        c = parse_color(color)
        g = self._position_for(c)
        budget = self.budget(c)
        t0 = time.monotonic()
        deadline = None if budget is None else t0 + budget
        raw = self.visits <= 1 and deadline is None  # no search: the network's favourite legal move
        s = self._search(g, c, 1 if raw else self.visits, deadline, on_chunk)
        if len(g.moves) < self.random_moves and not raw:
            move = s.choose_vertex(temperature=1.0, rng=self.move_rng)
        else:
            move = s.choose_vertex(by_prior=raw)
        winrate = (s.root_value() + 1) / 2
        nmoves = len(g.moves)
        if self.resign_threshold > 0 and not cleanup:
            self.low[c] = self.low[c] + 1 if winrate < self.resign_threshold else 0
            if self.low[c] >= 3 and nmoves >= g.size * g.size / 4:
                self.log(f"resigning at winrate {winrate:.3f}")
                return "resign"
        last_pass = bool(g.moves) and g.moves[-1][1] == "pass"
        dead = None
        if cleanup:
            opp = 1 if c == "W" else -1
            dead = [v for v in self.dead_stones(g) if g.board[int(v[1:]) - 1, COLUMNS.index(v[0])] == opp]
            if move == "pass" and dead:
                move = self._cleanup_move(g, c, s, dead)
        elif move != "pass" and last_pass:
            # The opponent passed: pass back if that wins. Under area scoring the win must not hang
            # on our estimate of dead stones: while the opponent's dead stones stand in our area,
            # capture them first (it costs nothing there), so that any scorer agrees.
            sign = 1 if c == "B" else -1
            dead = self.dead_stones(g)
            if sign * g.final_score(dead) > 0:
                theirs = [v for v in dead if g.board[int(v[1:]) - 1, COLUMNS.index(v[0])] == -sign]
                if g.rules.scoring == "territory" or not theirs or sign * g.score() > 0:
                    move = "pass"
                else:
                    move = self._cleanup_move(g, c, s, theirs)
        self.log(f"genmove {c}: {move} winrate {winrate:.3f} visits {s.root_visits}"
                 f" in {time.monotonic() - t0:.2f}s")
        if play:
            g.play(move, c)
        return move

    def _cleanup_move(self, g: Game, c: str, s: Search, dead: list[str]) -> str:
        """A move that attacks the ``dead`` stones (a liberty of theirs, the search's favourite of
        those first), else the search's best move other than a pass."""
        legal = set(g.legal_moves(c))
        libs = []
        for v in dead:
            r, col = int(v[1:]) - 1, COLUMNS.index(v[0])
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, col + dc
                if 0 <= rr < g.size and 0 <= cc < g.size:
                    nv = f"{COLUMNS[cc]}{rr + 1}"
                    if nv in legal and nv not in libs:
                        libs.append(nv)
        ranked = [a["move"] for a in s.analysis() if a["move"] != "pass"]
        for m in ranked:
            if m in libs:
                return m
        return libs[0] if libs else ranked[0] if ranked else "pass"

    def best_moves(self, n: int = 3) -> list[dict]:
        """The search's best moves for the player to move, without playing (``tengen play``'s hint)."""
        g = self.game
        budget = self.budget(g.to_play)
        s = self._search(g, g.to_play, self.visits, None if budget is None else time.monotonic() + budget)
        return s.analysis(n)

    def cmd_genmove(self, color):
        return self._genmove(color)

    def cmd_kgs_genmove_cleanup(self, color):
        return self._genmove(color, cleanup=True)

    def cmd_reg_genmove(self, color):
        c = parse_color(color)
        saved, self.game = self.game, self.game.copy()
        try:
            return self._genmove(c, play=False)
        finally:
            self.game = saved

    # ----------------------------------------------------------------- scoring
    def cmd_final_score(self):
        return fmt_score(self.game.final_score(self.dead_stones()))

    def cmd_final_status_list(self, status):
        status = status.lower()
        if status not in ("alive", "dead", "seki"):
            raise GtpError("invalid status")
        g = self.game
        dead = set(self.dead_stones())
        own = deadstones.playout_ownership(g)
        lines = []
        for chain in deadstones.chains(g.board):
            verts = [f"{COLUMNS[c]}{r + 1}" for r, c in chain]
            is_dead = verts[0] in dead
            seki = not is_dead and abs(float(np.mean([own[p] for p in chain]))) < 0.2
            st = "dead" if is_dead else "seki" if seki else "alive"
            if st == status:
                lines.append(" ".join(verts))
        return "\n".join(lines)

    # ----------------------------------------------------------------- analysis
    def _parse_analyze(self, args) -> tuple[str | None, float, dict]:
        """``[color] [interval] [key value]...`` of lz-analyze and kata-analyze: the colour, the interval
        in seconds, and the output options (``ownership``, ``minmoves``, ``maxmoves``)."""
        args = list(args)
        color = None
        interval = self.analysis_interval
        opts = {"ownership": False, "min_moves": 0, "max_moves": None, "avoid": [], "allow": None}
        if args and args[0].lower() in ("b", "w", "black", "white"):
            color = parse_color(args.pop(0))
        if args and re.fullmatch(r"\d+(\.\d+)?", args[0]):
            interval = float(args.pop(0)) / 100
        while args:
            key = args.pop(0).lower()
            if key == "interval" and args:
                interval = _number(args.pop(0), key) / 100
            elif key == "ownership" and args:
                opts["ownership"] = args.pop(0).lower() == "true"
            elif key in ("minmoves", "maxmoves") and args:
                opts["min_moves" if key == "minmoves" else "max_moves"] = _whole(args.pop(0), key, 0)
            elif key in ("pvvisits", "movesownership", "rootinfo", "ownershipstdev") and args:
                args.pop(0)
            elif key in ("avoid", "allow") and len(args) >= 3:
                player, vertices, depth = args[:3]
                del args[:3]
                _whole(depth, f"{key}: the depth", 1)  # checked; only the move at the root is bound
                try:
                    points = {self.game._point(v) for v in vertices.split(",") if v}
                except ValueError as e:
                    raise GtpError(f"{key}: invalid vertex: {e}") from None
                if key == "avoid":
                    opts["avoid"].append((parse_color(player), points))
                elif opts["allow"] is not None:
                    raise GtpError("allow may be given once")
                else:
                    opts["allow"] = (parse_color(player), points)
                if opts["avoid"] and opts["allow"] is not None:
                    raise GtpError("avoid and allow cannot be combined")
            else:
                raise GtpError(f"unknown analyze argument {key!r}")
        return color, interval, opts

    def _info(self, s: Search, kata: bool, opts: dict) -> str:
        out = []
        lead = None
        for a in s.analysis(opts["max_moves"], opts["min_moves"]):
            pv = " ".join(a["pv"])
            if kata:
                if lead is None:
                    lead = self._score_lead(s.game)
                wr = a["winrate"]
                out.append(f"info move {a['move']} visits {a['visits']} utility {2 * wr - 1:.4f} winrate {wr:.4f} "
                           f"scoreMean {lead:.2f} scoreLead {lead:.2f} prior {a['prior']:.4f} "
                           f"lcb {a['lcb']:.4f} order {a['order']} pv {pv}")
            else:
                out.append(f"info move {a['move']} visits {a['visits']} winrate {round(a['winrate'] * 10000)} "
                           f"prior {round(a['prior'] * 10000)} lcb {round(a['lcb'] * 10000)} "
                           f"order {a['order']} pv {pv}")
        line = " ".join(out)
        if kata and opts["ownership"]:
            own = deadstones.playout_ownership(s.game, 64, seed=7)
            if s.game.to_play == "W":
                own = -own
            vals = [f"{own[r, c]:.3f}" for r in range(s.game.size - 1, -1, -1) for c in range(s.game.size)]
            line += " ownership " + " ".join(vals)
        return line

    def _score_lead(self, g: Game) -> float:
        sc = deadstones.playable_playouts(g, 32, seed=3).mean_score - g.komi - g.rules.bonus(g.handicap)
        return sc if g.to_play == "B" else -sc

    def _analyze(self, args, cid: str, kata: bool):
        color, interval, opts = self._parse_analyze(args)
        g = _ready_to_move(self.game.copy(), color)
        s = Search(g, self.cfg, seed=self.seed)
        s.exclude_root_moves(_excluded_moves(g, opts))
        self._write(f"={cid}\n")
        last = -1.0
        emitted = False
        total = 0
        while True:
            s.run(8, self.evaluator, batch_size=8)
            total += 8
            now = time.monotonic()
            if not s.analysis():
                if total > 10_000 or self._pending():
                    break
                continue
            if now - last >= interval or self._pending():
                self._write(self._info(s, kata, opts) + "\n")
                last = now
                emitted = True
            if emitted and self._pending():
                break
            if self._queue is None:
                break
        self._write("\n")
        return _STREAMED

    def cmd_lz_analyze(self, *args, _cid=""):
        return self._analyze(args, _cid, kata=False)

    def cmd_kata_analyze(self, *args, _cid=""):
        return self._analyze(args, _cid, kata=True)

    def _genmove_analyze(self, args, cid: str, kata: bool):
        if not args:
            raise GtpError("missing color")
        c = parse_color(args[0])
        _, interval, opts = self._parse_analyze(args[1:])
        self._write(f"={cid}\n")
        state = {"last": time.monotonic(), "emitted": False}

        def on_chunk(s: Search) -> None:
            now = time.monotonic()
            if now - state["last"] >= interval and s.analysis():
                self._write(self._info(s, kata, opts) + "\n")
                state["last"] = now
                state["emitted"] = True

        move = self._genmove(c, on_chunk=on_chunk)
        if not state["emitted"] and self.search is not None and self.search.analysis():
            self._write(self._info(self.search, kata, opts) + "\n")
        self._write(f"play {move}\n\n")
        return _STREAMED

    def cmd_lz_genmove_analyze(self, *args, _cid=""):
        return self._genmove_analyze(args, _cid, kata=False)

    def cmd_kata_genmove_analyze(self, *args, _cid=""):
        return self._genmove_analyze(args, _cid, kata=True)


_STREAMED = object()


def _number(text: str, what: str) -> float:
    """A finite number argument of a GTP command, or a GtpError naming ``what`` was wrong."""
    try:
        x = float(text)
    except ValueError:
        x = float("nan")
    if not math.isfinite(x):
        raise GtpError(f"{what}: expected a number, got {text!r}")
    return x


def _whole(text: str, what: str, least: int) -> int:
    """A whole-number argument of at least ``least``, or a GtpError naming ``what`` was wrong."""
    x = _number(text, what)
    if x < least or x != int(x):
        raise GtpError(f"{what} must be a whole number >= {least}, got {text!r}")
    return int(x)


def _excluded_moves(game: Game, opts: dict) -> set[int]:
    """Root moves that analysis ``avoid``/``allow`` keep out of the search. They act on the move at
    the root only: clauses for the other player, which would bind deeper moves, have no effect."""
    out = set()
    for color, points in opts["avoid"]:
        if color == game.to_play:
            out |= points
    if opts["allow"] is not None and opts["allow"][0] == game.to_play:
        every = {game._point(v) for v in game.legal_moves()}
        out |= every - opts["allow"][1]
    return out


def _ready_to_move(game: Game, color: str | None = None) -> Game:
    """``game`` itself, with play resumed after two passes (GTP lets moves and analysis follow them)
    and ``color`` to move if given."""
    if game.passes >= 2 and game.resigned is None:
        game.resume()
    if color is not None and game.to_play != color:
        game.to_play = color
    return game


def build_engine(model: str | None = None, device: str = "cpu", threads: int | None = None,
                 **options) -> GtpEngine:
    """A ``GtpEngine`` on ``model`` (default: the bundled network; ``"none"``: random playouts)."""
    from policy.modelfile import load_model, resolve_model

    if threads:
        import torch

        torch.set_num_threads(threads)
    net = None
    model = resolve_model(model)
    if model:
        net, _info = load_model(model, device)
        print(f"loaded model {model}", file=sys.stderr, flush=True)
    else:
        print("no model: the search values positions by random playouts", file=sys.stderr, flush=True)
    return GtpEngine(net, device=device, **options)


def run_gtp(model: str | None = None, device: str = "cpu", threads: int | None = None,
            stdin: TextIO | None = None, stdout: TextIO | None = None, **options) -> int:
    """Entry point of ``tengen gtp``: serve GTP on stdin/stdout until ``quit`` or end of input."""
    engine = build_engine(model, device, threads, **options)
    engine.log(f"warmed up in {engine.warm_up():.2f}s")
    engine.run(stdin or sys.stdin, stdout or sys.stdout)
    return 0
