"""KataGo's JSON analysis engine on stdin/stdout: ``tengen analysis``.

Each input line is one JSON query; each output line one JSON response, as in
KataGo's ``analysis`` command, so that tools written for it (KaTrain, review
scripts) can drive Tengen. A query names a game (``moves``, ``initialStones``,
``rules``, ``komi``, board size) and the turns to analyse; every turn becomes a
search, and the searches of every query in flight share the network calls
(``selfplay.search.search_round``): positions from different turns and queries
go to the network in one batch. A query's consecutive turns run as chains (up
to ``positions`` of them side by side): a turn's search goes on from the subtree
of the move played in the turn before, as ``tengen gtp`` keeps its tree after
``play``, so its visits include those, like the GTP engine's (KataGo's analysis
engine searches each turn afresh). Responses come when a search is done, in any
order, each with ``id`` and ``turnNumber``; every turn ends with exactly one
response whose ``isDuringSearch`` is false.

Supported query fields: ``id``, ``moves``, ``initialStones``, ``initialPlayer``,
``rules`` (a name or KataGo's JSON), ``komi``, ``whiteHandicapBonus``,
``boardXSize``/``boardYSize`` (square boards, 2 to 25), ``analyzeTurns``,
``maxVisits``, ``analysisPVLen``, ``rootFpuReductionMax``, ``includeOwnership``,
``includeOwnershipStdev``, ``includeMovesOwnership``, ``includePolicy``,
``includePVVisits``, ``reportDuringSearchEvery``, ``priority``/``priorities``,
``avoidMoves``/``allowMoves`` (they bind the move at the root: the first ply),
``overrideSettings`` (``reportAnalysisWinratesAs``, ``maxVisits``,
``maxPlayouts``, ``maxTime``, ``cpuctExploration``, ``fpuReductionMax``,
``rootFpuReductionMax``, ``analysisPVLen``); actions ``query_version``,
``clear_cache``, ``terminate`` and ``terminate_all``. A field or setting Tengen
does not know or does not play gets a ``warning`` and the query goes on; a bad
line, a bad value or an illegal move gets an ``error`` naming the field, and the
engine reads on. At the end of input the queries in flight are finished first.

Differences from KataGo, by necessity: one score head, so ``scoreMean``,
``scoreLead`` and ``scoreSelfplay`` are the same number and ``scoreStdev`` is
the spread of the search's leaf scores (see ``selfplay.search``); ``utility`` is
the mean value (-1..1), Tengen's search having no score utility.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import math
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

import numpy as np

from go_engine.coords import COLUMNS, MAX_SIZE, MIN_SIZE, PASS, parse_vertex, vertex_name
from go_engine.game import Game, IllegalMove
from go_engine.rules import HANDICAP_BONUS, katago_rules
from selfplay.search import Search, SearchConfig, search_round

from .state import EngineOptions

VERSION = "1.15.3"  # the KataGo analysis protocol version whose fields Tengen answers with
DEFAULT_PV_LEN = 15  # moves after the first, KataGo's analysisPVLen
DEFAULT_CACHE = 1 << 15  # positions whose network answers are kept (about 100 MB on 19x19)
_REPORT_AS = ("BLACK", "WHITE", "SIDETOMOVE")
_UNSUPPORTED = ("rootPolicyTemperature", "rootPolicyTemperatureEarly", "includeNoResultValue",
                "includeMovesOwnershipStdev", "humanSLProfile")


class QueryError(ValueError):
    """A query field with a bad value: the query gets ``{"id", "field", "error"}``."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass
class Query:
    """What every turn of one query shares."""

    id: str
    max_visits: int
    max_time: float | None
    pv_len: int
    report_as: str  # BLACK, WHITE or SIDETOMOVE
    report_every: float | None
    ownership: bool
    ownership_stdev: bool
    moves_ownership: bool
    policy: bool
    pv_visits: bool
    config: SearchConfig
    avoid: dict[str, set[int]]  # player -> root moves kept out of the search
    allow: tuple[str, set[int]] | None


@dataclass(eq=False)
class Task:
    """One turn of a query: a position to search."""

    query: Query
    turn: int
    game: Game
    priority: int
    seq: int
    search: Search | None = None
    successor: Task | None = None  # the query's next turn, searched from this turn's tree when it waits
    move: int = PASS  # the move from this turn to the successor's (a flat point)
    started: float = 0.0
    last_report: float = 0.0
    terminated: bool = False

    def __lt__(self, other: "Task") -> bool:  # the heap's order: higher priority, then earlier
        return (-self.priority, self.seq) < (-other.priority, other.seq)


@dataclass
class _Fields:
    """Reads the fields of one query, noting which were read (the rest get a warning)."""

    data: dict
    seen: set = field(default_factory=set)

    def has(self, key: str) -> bool:
        self.seen.add(key)
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.add(key)
        return self.data.get(key, default)

    def integer(self, key: str, default: int | None, lo: int, hi: int) -> int | None:
        if not self.has(key):
            return default
        return _integer(self.data[key], key, lo, hi)

    def number(self, key: str, default: float | None, lo: float, hi: float) -> float | None:
        if not self.has(key):
            return default
        return _number(self.data[key], key, lo, hi)

    def boolean(self, key: str) -> bool:
        value = self.get(key, False)
        if not isinstance(value, bool):
            raise QueryError(key, "must be true or false")
        return value


def _integer(value: Any, key: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise QueryError(key, f"must be an integer from {lo} to {hi}, got {json.dumps(value)}")
    return value


def _number(value: Any, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not lo <= value <= hi:
        raise QueryError(key, f"must be a number from {lo:g} to {hi:g}, got {json.dumps(value)}")
    return float(value)


def _player(value: Any, key: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if text in ("b", "black"):
        return "B"
    if text in ("w", "white"):
        return "W"
    raise QueryError(key, f'must be "B" or "W", got {json.dumps(value)}')


def parse_location(text: Any, size: int, key: str) -> int:
    """A point as KataGo writes it: a GTP vertex (``"Q16"``, ``"pass"``) or ``"(x,y)"`` with x the
    column and y the row from the top, both from 0. Returns the flat point (``PASS`` for a pass)."""
    if isinstance(text, str) and text.strip().startswith("("):
        try:
            x, y = (int(v) for v in text.strip()[1:-1].split(","))
        except ValueError:
            raise QueryError(key, f"could not parse board location {text!r}") from None
        if not (0 <= x < size and 0 <= y < size) or not text.strip().endswith(")"):
            raise QueryError(key, f"board location {text!r} is off the {size}x{size} board")
        text = f"{COLUMNS[x]}{size - y}"
    if not isinstance(text, str):
        raise QueryError(key, f"a board location must be a string, got {json.dumps(text)}")
    try:
        return parse_vertex(text, size)
    except ValueError as e:
        raise QueryError(key, f"could not parse board location: {e}") from None


def _pairs(value: Any, key: str, size: int, allow_pass: bool) -> list[tuple[str, int]]:
    """``[[player, location], ...]`` as (player, point) pairs."""
    if not isinstance(value, list):
        raise QueryError(key, 'must be an array of pairs of the form ["B" or "W", GTP board vertex]')
    out = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise QueryError(key, 'must be an array of pairs of the form ["B" or "W", GTP board vertex]')
        point = parse_location(item[1], size, key)
        if point == PASS and not allow_pass:
            raise QueryError(key, "a pass cannot be a stone")
        out.append((_player(item[0], key), point))
    return out


def _top_down(a: np.ndarray) -> list[float]:
    """A [size, size] array (row 0 = GTP row 1) in KataGo's order: row-major from the top left (A19)."""
    return [round(float(x), 6) for x in np.flipud(a).ravel()]


class AnalysisEngine:
    """Queries in, responses out; ``submit`` a line, ``step`` the searches, or ``run`` on streams.

    ``max_visits``: visits per position when a query names none; ``positions``: searches in flight
    at once; ``leaves``: leaves each search adds to a network call (under virtual loss);
    ``report_as``: whose view winrates, scores and ownership take when a query does not say
    (KataGo's ``reportAnalysisWinratesAs``)."""

    def __init__(self, evaluator, *, max_visits: int = 500, positions: int = 32, leaves: int = 4,
                 report_as: str = "SIDETOMOVE", config: SearchConfig | None = None, seed: int = 0,
                 emit: Callable[[dict], None] | None = None, log: TextIO | None = None) -> None:
        if report_as not in _REPORT_AS:
            raise ValueError(f"report_as must be one of {', '.join(_REPORT_AS)}, got {report_as!r}")
        self.evaluator = evaluator
        self.max_visits = max_visits
        self.positions = max(1, positions)
        self.leaves = max(1, leaves)
        self.report_as = report_as
        self.config = config or SearchConfig()
        self.seed = seed
        self.emit = emit or (lambda obj: None)
        self.log_file = log if log is not None else sys.stderr
        self.waiting: list[Task] = []  # a heap
        self.active: list[Task] = []
        self._seq = itertools.count()

    def log(self, msg: str) -> None:
        print(msg, file=self.log_file, flush=True)

    @property
    def busy(self) -> bool:
        return bool(self.waiting or self.active)

    def warm_up(self, size: int = 19) -> float:
        """Make ready what searches on ``size`` x ``size`` boards run (the network's batch shapes up to
        ``positions * leaves`` leaves, which OpenVINO compiles one by one, and the search kernels), so
        that the first queries do not pay for them; returns the seconds it took."""
        t0 = time.monotonic()
        warm = getattr(self.evaluator, "warm_up", None)
        if warm is not None:
            warm(size, self.positions * self.leaves)
        search_round([Search(Game(size), self.config, seed=self.seed)], [self.leaves], self.evaluator)
        return time.monotonic() - t0

    # ----------------------------------------------------------------- input
    def submit(self, line: str) -> None:
        """Read one input line: answer an action, or queue the turns of a query (errors and warnings
        are emitted at once)."""
        line = line.strip()
        if not line:
            return
        try:
            data = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as e:
            self.emit({"error": f"could not parse input line as json request: {e}"})
            return
        if not isinstance(data, dict):
            self.emit({"error": "request line was valid json but not an object, ignoring"})
            return
        qid = data.get("id")
        if not isinstance(qid, str):
            self.emit({"error": 'request must have a string "id" field'})
            return
        try:
            if "action" in data:
                self._action(data)
            else:
                self._query(data)
        except QueryError as e:
            self.emit({"id": qid, "field": e.field, "error": str(e)})
        except Exception as e:  # never die on a request
            self.log(f"internal error on query {qid}: {e!r}")
            self.emit({"id": qid, "error": f"internal error: {e}"})

    def _action(self, data: dict) -> None:
        action = data["action"]
        if action == "query_version":
            self.emit({**data, "version": VERSION, "git_hash": "<omitted>"})
        elif action == "clear_cache":
            clear = getattr(self.evaluator, "clear_cache", None)
            if clear is not None:
                clear()
            self.emit(data)
        elif action in ("terminate", "terminate_all"):
            target = None
            if action == "terminate":
                target = data.get("terminateId")
                if not isinstance(target, str):
                    raise QueryError("terminateId", 'must be a string: the "id" of the query to terminate')
            turns = data.get("turnNumbers")
            if turns is not None and (not isinstance(turns, list) or
                                      not all(isinstance(t, int) and not isinstance(t, bool) for t in turns)):
                raise QueryError("turnNumbers", "must be an array of integers")
            self.emit(data)
            self._terminate(target, None if turns is None else set(turns))
        else:
            raise QueryError("action", f"unknown action {json.dumps(action)}: expected query_version, "
                                       "clear_cache, terminate or terminate_all")

    def _terminate(self, target: str | None, turns: set[int] | None) -> None:
        def hit(t: Task) -> bool:
            return (target is None or t.query.id == target) and (turns is None or t.turn in turns)

        for t in self.active:
            if hit(t):
                t.terminated = True
        dropped = [t for t in self.waiting if hit(t)]
        if dropped:
            self.waiting = [t for t in self.waiting if not hit(t)]
            heapq.heapify(self.waiting)
            for t in sorted(dropped, key=lambda t: t.seq):
                self.emit(_no_results(t))

    def _query(self, data: dict) -> None:
        f = _Fields(data, {"id"})
        warnings: list[tuple[str, str]] = []
        size = self._board_size(f)
        rules, notes = self._rules(f)
        warnings += [("rules", n) for n in notes]
        komi = f.number("komi", 7.5 if rules.scoring == "area" else 6.5, -150.0, 150.0)
        if komi * 2 != int(komi * 2):
            raise QueryError("komi", "must be an integer or half-integer from -150 to 150")
        setup = _pairs(f.get("initialStones", []), "initialStones", size, False)
        if not f.has("moves"):
            raise QueryError("moves", "must specify an array of [player, location] pairs")
        moves = _pairs(f.get("moves"), "moves", size, True)
        first = _player(f.get("initialPlayer"), "initialPlayer") if f.has("initialPlayer") else None
        turns = self._turns(f, len(moves))
        priorities = self._priorities(f, turns)
        query = self._settings(f, size, warnings)
        games = _turn_games(size, komi, rules, setup, first, moves, set(turns))
        for key in sorted(set(data) - f.seen):
            note = "not supported by Tengen, ignored" if key in _UNSUPPORTED else "unknown field, ignored"
            warnings.append((key, note))
        for key, note in warnings:
            self.emit({"id": query.id, "field": key, "warning": note})
        self._queue(query, turns, priorities, games, moves)

    def _queue(self, query: Query, turns: list[int], priorities: list[int], games: dict[int, Game],
               moves: list[tuple[str, int]]) -> None:
        """Queue the turns as up to ``positions`` chains of consecutive turns: the chains' first turns
        start first, and each later turn is searched from the tree of the turn before it (the subtree
        of the move played, as ``tengen gtp`` keeps it after ``play``), unless a query restricts root
        moves or the two turns differ in priority."""
        tasks = [Task(query, turn, games[turn], prio, 0) for turn, prio in zip(turns, priorities, strict=True)]
        length = -(-len(tasks) // self.positions)  # turns per chain
        base = next(self._seq)
        for j, t in enumerate(tasks):  # the heap's order: every chain's first turn, then every chain's second...
            t.seq = base + (j % length) * self.positions + j // length
        self._seq = itertools.count(base + length * self.positions)
        chain = not query.avoid and query.allow is None
        for a, b in itertools.pairwise(tasks):
            if chain and b.turn == a.turn + 1 and b.priority == a.priority:
                a.successor, a.move = b, moves[a.turn][1]
        for t in tasks:
            heapq.heappush(self.waiting, t)

    def _board_size(self, f: _Fields) -> int:
        sizes = []
        for key in ("boardXSize", "boardYSize"):
            if not f.has(key):
                raise QueryError(key, f"must provide an integer from {MIN_SIZE} to {MAX_SIZE}")
            sizes.append(f.integer(key, None, MIN_SIZE, MAX_SIZE))
        if sizes[0] != sizes[1]:
            raise QueryError("boardYSize", f"Tengen plays square boards only, got {sizes[0]}x{sizes[1]}")
        return sizes[0]

    def _rules(self, f: _Fields):
        if not f.has("rules"):
            raise QueryError("rules", 'must specify rules: a name such as "chinese" or "tromp-taylor", '
                                      "or a JSON object with detailed rules parameters")
        try:
            rules, notes = katago_rules(f.get("rules"))
        except ValueError as e:
            raise QueryError("rules", str(e)) from None
        if f.has("whiteHandicapBonus"):
            bonus = f.get("whiteHandicapBonus")
            if bonus not in HANDICAP_BONUS:
                raise QueryError("whiteHandicapBonus", f"must be one of {', '.join(HANDICAP_BONUS)}")
            if bonus != rules.handicap_bonus:
                rules = dataclasses.replace(rules, name="custom", handicap_bonus=bonus)
        return rules, notes

    def _turns(self, f: _Fields, n_moves: int) -> list[int]:
        if not f.has("analyzeTurns"):
            return [n_moves]
        turns = f.get("analyzeTurns")
        if not isinstance(turns, list):
            raise QueryError("analyzeTurns", "must specify an array of integers indicating turns to analyze")
        for t in turns:
            _integer(t, "analyzeTurns", 0, n_moves)
        return sorted(set(turns))

    def _priorities(self, f: _Fields, turns: list[int]) -> list[int]:
        lim = 2 ** 31 - 1
        if f.has("priorities"):
            values = f.get("priorities")
            raw = f.data.get("analyzeTurns")
            if not isinstance(values, list) or not isinstance(raw, list) or len(values) != len(raw):
                raise QueryError("priorities", "must be an array of integers as long as analyzeTurns")
            by_turn = {t: _integer(p, "priorities", -lim, lim) for t, p in zip(raw, values, strict=False)}
            return [by_turn[t] for t in turns]
        return [f.integer("priority", 0, -lim, lim)] * len(turns)

    def _settings(self, f: _Fields, size: int, warnings: list) -> Query:
        cfg = dataclasses.replace(self.config)
        max_visits = f.integer("maxVisits", None, 1, 2 ** 50)
        pv_len = f.integer("analysisPVLen", None, 1, 1000)
        cfg.fpu_root_reduction = f.number("rootFpuReductionMax", cfg.fpu_root_reduction, 0.0, 2.0)
        report_as, max_time = self.report_as, None
        settings = f.get("overrideSettings", {})
        if not isinstance(settings, dict):
            raise QueryError("overrideSettings", "must be an object")
        for key, value in settings.items():
            name = f"overrideSettings.{key}"
            if key == "reportAnalysisWinratesAs":
                report_as = str(value).upper()
                if report_as not in _REPORT_AS:
                    raise QueryError(name, f"must be one of {', '.join(_REPORT_AS)}")
            elif key in ("maxVisits", "maxPlayouts"):
                max_visits = _integer(value, name, 1, 2 ** 50) if max_visits is None else max_visits
            elif key == "maxTime":
                max_time = _number(value, name, 0.0, 1e9) or None
            elif key == "cpuctExploration":
                cfg.c_puct = _number(value, name, 0.0, 100.0)
            elif key == "fpuReductionMax":
                cfg.fpu_reduction = _number(value, name, 0.0, 2.0)
            elif key == "rootFpuReductionMax":
                cfg.fpu_root_reduction = _number(value, name, 0.0, 2.0)
            elif key == "dynamicScoreUtilityFactor":
                cfg.score_utility = _number(value, name, 0.0, 10.0)
            elif key == "dynamicScoreCenterScale":
                cfg.score_scale = _number(value, name, 0.01, 100.0)
            elif key == "nnPolicyTemperature":
                cfg.policy_temperature = _number(value, name, 0.1, 10.0)
            elif key == "analysisPVLen":
                pv_len = _integer(value, name, 1, 1000) if pv_len is None else pv_len
            else:
                warnings.append(("overrideSettings", f"{key} is not supported by Tengen, ignored"))
        report_every = f.number("reportDuringSearchEvery", None, 0.001, 1e6)
        avoid, allow = self._avoid_allow(f, size, warnings)
        return Query(f.data["id"], max_visits or self.max_visits, max_time, (pv_len or DEFAULT_PV_LEN) + 1,
                     report_as, report_every, f.boolean("includeOwnership"), f.boolean("includeOwnershipStdev"),
                     f.boolean("includeMovesOwnership"), f.boolean("includePolicy"), f.boolean("includePVVisits"),
                     cfg, avoid, allow)

    def _avoid_allow(self, f: _Fields, size: int, warnings: list):
        avoid: dict[str, set[int]] = {}
        allow = None
        has_avoid, has_allow = f.has("avoidMoves"), f.has("allowMoves")
        if has_avoid and has_allow:
            raise QueryError("allowMoves", "cannot specify both allowMoves and avoidMoves")
        key = "allowMoves" if has_allow else "avoidMoves"
        entries = f.get(key, [])
        shape = "must be a list of objects with fields 'player', 'moves', 'untilDepth'"
        if not isinstance(entries, list):
            raise QueryError(key, shape)
        if has_allow and len(entries) > 1:
            raise QueryError(key, "allowMoves takes one entry")
        for entry in entries:
            if not isinstance(entry, dict) or not {"player", "moves", "untilDepth"} <= set(entry):
                raise QueryError(key, shape)
            player = _player(entry["player"], key)
            if not isinstance(entry["moves"], list):
                raise QueryError(key, "moves: must be an array of GTP board vertices")
            points = {parse_location(m, size, key) for m in entry["moves"]}
            depth = _integer(entry["untilDepth"], key, 1, 10 ** 9)
            if depth > 1:
                warnings.append((key, f"only the move at the root is restricted (untilDepth {depth} is taken as 1)"))
            if has_allow:
                allow = (player, points)
            else:
                avoid.setdefault(player, set()).update(points)
        return avoid, allow

    # ----------------------------------------------------------------- searching
    def _start(self, t: Task, previous: Task | None = None) -> None:
        """Start ``t``'s search: from ``previous``'s tree (the turn before, done) where the move between
        them leads to ``t``'s position, else from scratch."""
        q = t.query
        s = _continued(previous, t) if previous is not None else None
        if s is None:
            s = Search(t.game, q.config, seed=self.seed + t.seq, track_ownership=q.ownership or q.ownership_stdev)
            player = t.game.to_play
            out = set(q.avoid.get(player, ()))
            if q.allow is not None and q.allow[0] == player:
                out |= {t.game._point(v) for v in t.game.legal_moves()} - q.allow[1]
            if out:
                s.exclude_root_moves(out)
        t.search = s
        t.started = t.last_report = time.monotonic()

    def step(self) -> bool:
        """Start waiting turns while there is room, give every search in flight one batch of leaves
        (one network call per board size and rule set), and emit what is due. Returns whether work
        is left."""
        while self.waiting and len(self.active) < self.positions:
            t = heapq.heappop(self.waiting)
            self._start(t)
            self.active.append(t)
        run = [t for t in self.active if not t.terminated]
        want = [max(0, min(self.leaves, t.query.max_visits - t.search.root_visits)) for t in run]
        try:
            search_round([t.search for t in run], want, self.evaluator)
        except Exception as e:  # the evaluator failed: these searches end with an error
            self.log(f"search failed: {e!r}")
            for t in run:
                self.emit({"id": t.query.id, "turnNumber": t.turn, "error": f"search failed: {e}"})
            self.active = [t for t in self.active if t.terminated]
        now = time.monotonic()
        still = []
        for t in self.active:
            q = t.query
            if t.terminated or t.search.root_visits >= q.max_visits or \
                    (q.max_time is not None and now - t.started >= q.max_time):
                self.emit(self._response(t, False) if t.search.root_visits else _no_results(t))
                nxt = t.successor
                at = next((i for i, w in enumerate(self.waiting) if w is nxt), None) if not t.terminated else None
                if nxt is not None and at is not None:  # the next turn goes on from this tree, in this one's place
                    self.waiting.pop(at)
                    heapq.heapify(self.waiting)
                    self._start(nxt, t)
                    still.append(nxt)
            else:
                if q.report_every is not None and now - t.last_report >= q.report_every:
                    self.emit(self._response(t, True))
                    t.last_report = now
                still.append(t)
        self.active = still
        return self.busy

    # ----------------------------------------------------------------- output
    def _response(self, t: Task, during: bool) -> dict:
        q, s = t.query, t.search
        flip = q.report_as == {"B": "WHITE", "W": "BLACK"}[t.game.to_play]  # the other player's view
        sign = -1.0 if flip else 1.0
        infos = []
        for a in s.analysis(pv_len=q.pv_len, moves_ownership=q.moves_ownership):
            if not q.pv_visits:
                del a["pvVisits"]
            if "ownership" in a:
                a["ownership"] = _top_down(sign * a["ownership"])
            infos.append(_turned(a, flip))
        root = _turned(s.root_info(), flip)
        out = {"id": q.id, "isDuringSearch": during, "turnNumber": t.turn, "moveInfos": infos, "rootInfo": root}
        own = s.root_ownership() if q.ownership or q.ownership_stdev else None
        if own is not None:
            if q.ownership:
                out["ownership"] = _top_down(sign * own.mean)
            if q.ownership_stdev:
                out["ownershipStdev"] = _top_down(own.stdev)
        policy = s.root_policy() if q.policy else None
        if policy is not None:
            size = t.game.size
            out["policy"] = _top_down(policy[:-1].reshape(size, size)) + [round(float(policy[-1]), 6)]
        return out

    # ----------------------------------------------------------------- streams
    def run(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
        """Serve the protocol until the end of input, then finish the queries in flight."""
        stdin = stdin or sys.stdin
        stdout = stdout or sys.stdout

        def write(obj: dict) -> None:
            try:
                text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
            except ValueError as e:
                text = json.dumps({"id": obj.get("id"), "error": f"internal error: {e}"})
            stdout.write(text + "\n")
            stdout.flush()

        self.emit = write
        lines: queue.Queue = queue.Queue()

        def reader() -> None:
            try:
                for line in iter(stdin.readline, ""):
                    lines.put(line)
            except (OSError, ValueError):
                pass
            lines.put(None)

        threading.Thread(target=reader, daemon=True).start()
        open_input = True
        while open_input or self.busy:
            while open_input:
                try:
                    line = lines.get(block=not self.busy)
                except queue.Empty:
                    break
                if line is None:
                    open_input = False
                else:
                    self.submit(line)
            if self.busy:
                self.step()
        return 0


_TURN_SIGN = ("winrate", "lcb")  # reported as 1 - x from the other player's view
_NEGATE = ("scoreLead", "scoreMean", "scoreSelfplay", "utility", "utilityLcb")


def _turned(info: dict, flip: bool) -> dict:
    """``info`` (for the player to move) from the other player's view when ``flip``."""
    if flip:
        for k in _TURN_SIGN:
            if k in info:
                info[k] = 1.0 - info[k]
        for k in _NEGATE:
            if k in info:
                info[k] = -info[k]
    return info


def _continued(previous: Task, t: Task) -> Search | None:
    """``previous``'s tree advanced by the move between the two turns, if that leads to ``t``'s position
    (the tree plays it for its player to move: two moves of one colour in a row do not)."""
    s = previous.search
    try:
        s.advance(previous.move)
    except IllegalMove:
        return None
    same = (s.game.hash, s.game.to_play, s.game.passes) == (t.game.hash, t.game.to_play, t.game.passes)
    return s if same else None


def _no_results(t: Task) -> dict:
    return {"id": t.query.id, "isDuringSearch": False, "noResults": True, "turnNumber": t.turn}


def _turn_games(size: int, komi: float, rules, setup: list[tuple[str, int]], first: str | None,
                moves: list[tuple[str, int]], turns: set[int]) -> dict[int, Game]:
    """The position at each of ``turns`` (0: after the setup stones), play resumed after two passes
    as KataGo does; an illegal move is a ``QueryError`` naming its turn."""
    g = Game(size, komi, rules)
    black = [vertex_name(p, size) for c, p in setup if c == "B"]
    white = [vertex_name(p, size) for c, p in setup if c == "W"]
    if first is None:
        first = moves[0][0] if moves else ("W" if black and not white else "B")
    if setup:
        try:
            g.setup(black=black, white=white, to_play=first)
        except ValueError as e:
            raise QueryError("initialStones", str(e)) from None
        if len(black) >= 2 and not white:
            g.handicap = len(black)
    else:
        g.to_play = first
    out = {}
    for turn in range(len(moves) + 1):
        if turn in turns:
            out[turn] = g.copy()
            if out[turn].passes >= 2:
                out[turn].resume()
        if turn == len(moves):
            break
        color, point = moves[turn]
        if g.passes >= 2:
            g.resume()
        try:
            g.play(vertex_name(point, size), color)
        except IllegalMove:
            raise QueryError("moves", f"Illegal move {turn}: {vertex_name(point, size)}") from None
    return out


def run_analysis(model: str | None = None, device: str = "cpu", threads: int | None = None,
                 playouts: int = 4, cache: int = DEFAULT_CACHE, backend: str = EngineOptions.backend,
                 precision: str = EngineOptions.precision, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, **options) -> int:
    """Entry point of ``tengen analysis``: load the network (``"none"``: random playouts) on ``backend``
    in ``precision`` (``selfplay.evaluators.BACKENDS``, ``PRECISIONS``), with a cache of ``cache``
    positions, and serve."""
    from selfplay.evaluators import load_evaluator

    if threads:
        import torch

        torch.set_num_threads(threads)
    evaluator = load_evaluator(model, device, playouts=playouts, cache_size=cache, backend=backend,
                               precision=precision)
    engine = AnalysisEngine(evaluator, **options)
    seconds = engine.warm_up()
    engine.log(f"Tengen analysis engine ready (warmed up in {seconds:.1f}s): one JSON query per line")
    return engine.run(stdin, stdout)
