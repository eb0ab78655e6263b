"""The game record: ``SgfGame`` (game information, setup, main-line moves, comments, every node)
built from a parsed game tree, and its replay to a ``go_engine.Game``."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Iterable, Union, cast

from ..coords import COLUMNS, MAX_SIZE, MIN_SIZE
from ..game import Game, IllegalMove, handicap_vertices
from ..rules import Rules
from .errors import ReplayError, SgfError
from .values import (
    PL_COLOURS,
    Result,
    Setup,
    move_pairs,
    move_table,
    parse_komi,
    parse_result,
    rules_preset,
    stone_table,
    unescape_text,
)

_GAME_INFO = {"PB": "black", "PW": "white", "BR": "black_rank", "WR": "white_rank", "DT": "date",
              "EV": "event", "GN": "name", "PC": "place", "RO": "round", "BT": "black_team", "WT": "white_team"}


# A node of a game tree: property identifier -> raw values, or a move-only node kept as
# (colour, value) until someone asks for its properties (far fewer objects for the garbage collector).
RawNode = Union[dict[str, list[str]], tuple[str, str]]

_DATE_RE = re.compile(r"(?<!\d)(\d{4})(?:[-./](\d{1,2})(?:[-./](\d{1,2}))?)?(?!\d)")


class SgfGame:
    """One game tree of an SGF file, read.

    Attributes:
      ``source``, ``number`` (game tree in the file, from 1), ``encoding`` used to decode it;
      ``size``; ``komi`` (points; ``komi_raw`` as written, ``None`` if absent); ``handicap`` (``HA``, 0 if absent);
      ``rules`` (a ``go_engine.rules`` preset name; ``chinese`` when ``RU`` is absent or unknown),
      ``rules_raw`` (``RU`` as written) and ``rules_known``;
      ``result`` (a ``Result`` or ``None``); ``black``, ``white``, ``black_rank``, ``white_rank``, ``date``,
      ``event``, ``name``, ``place``, ``round``, ``black_team``, ``white_team`` (text or ``None``;
      ``played_on`` reads ``date``);
      ``root``: the root node's properties as raw values (identifier -> list of str);
      ``setup``: the stones set up before the first move (root and following nodes, merged) and ``PL``;
      ``later_setups``: ``[(moves_played_before, Setup)]`` for setup nodes after the first move;
      ``moves``: the main line as ``[(colour, vertex)]``, ``vertex`` a GTP vertex or ``"pass"``;
      ``comments``: ``{move number: text}``, 0 for comments before the first move;
      ``nodes`` and ``parents``: every node of the tree (raw properties) in document order, with the
      index of its parent; the main line is ``nodes[:main_length]``;
      ``warnings``: what was odd but could be read (an empty list for a clean record).
    """

    # Set by build_record, the one place a record is made.
    source: str
    number: int
    encoding: str
    ff: int | None
    size: int
    komi: float
    komi_raw: str | None
    handicap: int
    rules: str
    rules_raw: str | None
    rules_known: bool
    result: Result | None
    black: str | None
    white: str | None
    black_rank: str | None
    white_rank: str | None
    date: str | None
    event: str | None
    name: str | None
    place: str | None
    round: str | None
    black_team: str | None
    white_team: str | None
    root: dict[str, list[str]]
    setup: Setup
    later_setups: list[tuple[int, Setup]]
    moves: list[tuple[str, str]]
    comments: dict[int, str]
    parents: list[int]
    main_length: int
    warnings: list[str]
    _nodes: list[RawNode]  # move-only nodes stay (colour, value) tuples until ``nodes`` is read
    _materialized = False

    @property
    def nodes(self) -> list[dict[str, list[str]]]:
        """Every node of the game tree (variations included) in document order, as
        dicts of property identifier -> raw values; ``parents[i]`` is node i's parent."""
        nodes = self._nodes
        if not self._materialized:
            for i, n in enumerate(nodes):
                if type(n) is tuple:
                    nodes[i] = {n[0]: [n[1]]}
            self._materialized = True
        return cast("list[dict[str, list[str]]]", nodes)  # no tuple is left

    def children(self, index: int) -> list[int]:
        """Indices of the children of node ``index``, first child (main line) first."""
        return [i for i in range(index + 1, len(self.parents)) if self.parents[i] == index]

    def get(self, prop: str, default: str | None = None) -> str | None:
        """The first value of root property ``prop`` as text (escapes removed), or ``default``."""
        vals = self.root.get(prop)
        if not vals:
            return default
        return unescape_text(vals[0], simple=prop not in ("C", "GC"))

    @property
    def played_on(self) -> datetime.date | None:
        """The first date of ``DT`` (``2003-09-25``, ``2003.09.25``, ``2003/9/25``; ``2003-09`` and
        ``2003`` give the first day), or ``None`` when there is none that can be read."""
        m = _DATE_RE.search(self.date or "")
        if not m:
            return None
        try:
            return datetime.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
        except ValueError:
            return None

    @property
    def to_play(self) -> str:
        """Who moves first after the setup: ``PL``, else the colour of the first move, else
        White when there are handicap stones, else Black."""
        if self.setup.to_play:
            return self.setup.to_play
        if self.moves:
            return self.moves[0][0]
        return "W" if self.setup.black and not self.setup.white else "B"

    def info(self) -> dict:
        """Keyword arguments for ``write_sgf`` that carry this record's game information over."""
        out = {k: getattr(self, k) for k in ("black", "white", "black_rank", "white_rank", "date", "event",
                                             "name", "place") if getattr(self, k) is not None}
        if self.result is not None:
            out["result"] = self.result.raw
        if self.comments:
            out["comments"] = dict(self.comments)
        return out

    def replay(self, rules: str | Rules | None = None, komi: float | None = None, *, moves: int | None = None,
               after_two_passes: str = "continue") -> Game:
        """A ``Game`` with the setup and the main-line moves played.

        ``rules`` and ``komi`` default to the record's. ``moves`` stops after that many moves.
        ``after_two_passes`` says what to do with moves recorded after two passes in a row
        (play resumed, as servers allow): ``"continue"`` plays them, ``"stop"`` returns the
        game at the two passes, ``"error"`` raises. Raises ``ReplayError`` naming the move
        number for a move (or setup) the rules forbid."""
        if after_two_passes not in ("continue", "stop", "error"):
            raise ValueError(f"after_two_passes must be 'continue', 'stop' or 'error', not {after_two_passes!r}")
        try:
            game = Game(self.size, self.komi if komi is None else komi, self.rules if rules is None else rules)
        except ValueError as e:
            raise self._error(str(e)) from None
        s = self.setup
        if s:
            try:
                game.setup(black=s.black, white=s.white, empty=s.empty, to_play=self.to_play)
            except ValueError as e:
                raise self._error(f"illegal setup: {e}") from None
        game.handicap = self.handicap
        later = self.later_setups
        li = 0
        limit = len(self.moves) if moves is None else min(moves, len(self.moves))
        play = game.play
        for i in range(limit):
            while li < len(later) and later[li][0] <= i:
                self._apply_setup(game, later[li][1], i + 1)
                li += 1
            c, v = self.moves[i]
            if game.passes >= 2:  # the game's own count: a setup step between passes restarts it
                if after_two_passes == "stop":
                    return game
                if after_two_passes == "error":
                    raise self._error(f"{c} {v} is played after the game ended by two passes", move=i + 1)
                _resume(game)
            try:
                play(v, c)
            except IllegalMove as e:
                raise self._error(str(e), move=i + 1) from None
        if moves is None or moves >= len(self.moves):
            while li < len(later):
                self._apply_setup(game, later[li][1], len(self.moves) + 1)
                li += 1
        return game

    def _apply_setup(self, game: Game, s: Setup, move: int) -> None:
        if game.is_over:
            _resume(game)
        try:
            game.setup(black=s.black, white=s.white, empty=s.empty, to_play=s.to_play)
        except ValueError as e:
            raise self._error(f"illegal setup before move {move}: {e}") from None

    def _error(self, reason: str, move: int | None = None) -> ReplayError:
        return ReplayError(reason, source=self.source, game=self.number, move=move)

    def __repr__(self) -> str:
        return (f"SgfGame(source={self.source!r}, number={self.number}, size={self.size}, komi={self.komi}, "
                f"handicap={self.handicap}, rules={self.rules!r}, moves={len(self.moves)})")


def _resume(game: Game) -> None:
    """Let play go on after two passes (records where play resumed after a pass-pass)."""
    game.resume()


def _points(values: Iterable[str], size: int, prop: str) -> list[str]:
    """GTP vertices of an SGF point list (compressed ``aa:cc`` rectangles allowed)."""
    table = move_table(size)
    out = []
    for raw in values:
        v = raw.strip()
        if not v:
            continue
        if ":" in v:
            a, _, b = v.partition(":")
            st = stone_table(size)
            pa, pb = st.get(a.strip()), st.get(b.strip())
            if pa is None or pb is None:
                raise SgfError(f"{prop}[{raw}]: not a rectangle of points on the {size}x{size} board")
            for c in range(min(pa[0], pb[0]), max(pa[0], pb[0]) + 1):
                for r in range(min(pa[1], pb[1]), max(pa[1], pb[1]) + 1):
                    out.append(f"{COLUMNS[c]}{size - r}")
            continue
        vertex = table.get(v)
        if vertex is None or vertex == "pass":
            raise SgfError(f"{prop}[{raw}] is not a point on the {size}x{size} board")
        out.append(vertex)
    return out


def _bad_move(colour: str, raw: str, size: int) -> str:
    if len(raw) == 2 and raw.isalpha():
        return f"{colour}[{raw}] is off the {size}x{size} board"
    return f"{colour}[{raw}] is not a move"


def _fixed_handicap(size: int, stones: int, moves: list[tuple[str, str]]) -> list[str]:
    """The fixed handicap stones of a record that gives HA but no AB: the GTP points,
    except that for 6 and 7 stones the side points may be the top and bottom ones
    (K16, K4: Fox's placement) instead of the left and right ones (D10, Q10). The
    layout whose points the moves of the game leave alone is taken."""
    try:
        verts = handicap_vertices(size, stones)
    except ValueError:
        return []
    if stones in (6, 7):
        mid, lo, hi = size // 2, (2 if size < 13 else 3), size - 1 - (2 if size < 13 else 3)
        sides = {f"{COLUMNS[lo]}{mid + 1}": f"{COLUMNS[mid]}{hi + 1}",  # D10 -> K16
                 f"{COLUMNS[hi]}{mid + 1}": f"{COLUMNS[mid]}{lo + 1}"}  # Q10 -> K4
        alt = [sides.get(v, v) for v in verts]
        played = {v for _, v in moves}
        if sum(v in played for v in verts) > sum(v in played for v in alt):
            verts = alt
    return verts


def _read_size(root: dict[str, list[str]]) -> int:
    vals = root.get("SZ")
    if not vals:
        return 19
    raw = vals[0].strip()
    a, colon, b = raw.partition(":")
    try:
        cols = int(a)
        rows = int(b) if colon else cols
    except ValueError:
        raise SgfError(f"SZ[{raw}] is not a board size") from None
    if cols != rows:
        raise SgfError(f"SZ[{raw}]: rectangular boards are not supported")
    if not MIN_SIZE <= cols <= MAX_SIZE:
        raise SgfError(f"SZ[{raw}]: board size must be from {MIN_SIZE} to {MAX_SIZE}")
    return cols


@dataclass
class RawTree:
    """One game tree as the tokenizer found it, before its properties are interpreted."""

    nodes: list[RawNode]  # in document order
    parents: list[int]  # index of each node's parent, -1 for the root
    runs: dict[int, list[str]]  # first node index -> ["B[pd]", ...] for runs of move-only nodes
    warnings: list[str]
    start: int  # offset in the text where the game tree starts
    problems: int = 0  # syntax problems, to choose among guessed encodings
    too_big: bool = False  # more than max_nodes nodes
    garbage: bool = False  # more than _MAX_PROBLEMS syntax problems: not SGF


def build_record(raw: RawTree, source: str, number: int, encoding: str, file_warnings: list[str],
                 strict: bool) -> SgfGame:
    """The record of a parsed game tree: game information from the root, the setup before the
    first move, the main-line moves and comments. Raises ``SgfError`` for what cannot be used."""
    nodes, parents = raw.nodes, raw.parents
    warnings = list(file_warnings) + raw.warnings
    if strict and warnings:
        raise SgfError(warnings[0])
    first = nodes[0]
    root = nodes[0] = {first[0]: [first[1]]} if isinstance(first, tuple) else first
    g = SgfGame()
    g.source, g.number, g.encoding = source, number, encoding
    g.root, g._nodes, g.parents, g.warnings = root, nodes, parents, warnings

    gm = root.get("GM")
    if gm and gm[0].strip() not in ("1", ""):
        if gm[0].strip().isdigit():
            raise SgfError(f"GM[{gm[0].strip()}] is not a game of Go")
        warnings.append(f"GM[{gm[0]}] is not a number")
    ff = root.get("FF")
    g.ff = None
    if ff:
        try:
            g.ff = int(ff[0])
            if not 1 <= g.ff <= 4:
                warnings.append(f"FF[{ff[0]}] is not an SGF version from 1 to 4")
        except ValueError:
            warnings.append(f"FF[{ff[0]}] is not a number")
    size = g.size = _read_size(root)

    km = root.get("KM")
    g.komi_raw = km[0] if km else None
    g.komi = 0.0
    if km:
        k = parse_komi(km[0])
        if k is None:
            warnings.append(f"KM[{km[0]}] is not a number; komi 0 used")
        else:
            g.komi = k
    ha = root.get("HA")
    g.handicap = 0
    if ha:
        try:
            g.handicap = int(ha[0].strip())
        except ValueError:
            warnings.append(f"HA[{ha[0]}] is not a number; handicap 0 used")
        if g.handicap < 0:
            warnings.append(f"HA[{ha[0]}] is negative; handicap 0 used")
            g.handicap = 0
    ru = root.get("RU")
    g.rules_raw = unescape_text(ru[0], simple=True) if ru else None
    preset = rules_preset(g.rules_raw)
    g.rules_known = preset is not None
    g.rules = preset or "chinese"
    re_ = root.get("RE")
    g.result = parse_result(unescape_text(re_[0], simple=True)) if re_ else None
    for prop, attr in _GAME_INFO.items():
        vals = root.get(prop)
        setattr(g, attr, unescape_text(vals[0], simple=True) if vals else None)

    # The main line: nodes[0..n) where each node is the first child of the one before.
    n = 1
    total = len(nodes)
    runs = raw.runs
    while n < total and parents[n] == n - 1:
        keys = runs.get(n)
        n += len(keys) if keys is not None else 1  # inside a run each node is the next's parent
    g.main_length = n

    table = move_table(size)
    move_keys = move_pairs(size)
    moves: list[tuple[str, str]] = []
    comments: dict[int, str] = {}
    setup_board: dict[str, str | None] = {}  # vertex -> "B" / "W" / None, merged setup before the first move
    setup_pl = None
    later: list[tuple[int, Setup]] = []
    append = moves.append
    def read_move(colour: str, vals: list[str]) -> tuple[str, str]:
        v = table.get(vals[0])
        if v is None:
            v = table.get(vals[0].strip())
            if v is None:
                raise SgfError(_bad_move(colour, vals[0], size), move=len(moves) + 1)
        if len(vals) > 1:
            warnings.append(f"move {len(moves) + 1}: {colour} has {len(vals)} values; the first is used")
        return colour, v

    i = 0
    while i < n:
        keys = runs.get(i)
        if keys is not None:
            # A run of move-only nodes; only its last node can hold more properties.
            try:
                moves += list(map(move_keys.__getitem__, keys[:-1]))
            except KeyError:
                for key in keys[:-1]:
                    if key not in move_keys:
                        raise SgfError(_bad_move(key[0], key[2:-1], size), move=len(moves) + 1) from None
                    append(move_keys[key])
            i += len(keys) - 1
        node = cast("dict[str, list[str]]", nodes[i])  # a run's last node, and every other one, is a dict
        if len(node) == 1:
            vals = node.get("B")
            colour = "B"
            if vals is None:
                vals = node.get("W")
                colour = "W"
            if vals is not None:
                append(read_move(colour, vals))
                i += 1
                continue
        i += 1
        # The general case: setup, moves, comments.
        if "AB" in node or "AW" in node or "AE" in node or "PL" in node:
            try:
                black = _points(node.get("AB", ()), size, "AB")
                white = _points(node.get("AW", ()), size, "AW")
                empty = _points(node.get("AE", ()), size, "AE")
            except SgfError as e:
                e.move = len(moves) if moves else None
                raise
            pl = None
            if "PL" in node:
                pl = PL_COLOURS.get(node["PL"][0].strip().lower())
                if pl is None:
                    warnings.append(f"PL[{node['PL'][0]}] is not a colour")
            if not moves:
                for v in empty:
                    setup_board[v] = None
                for v in black:
                    setup_board[v] = "B"
                for v in white:
                    setup_board[v] = "W"
                if pl:
                    setup_pl = pl
            else:
                later.append((len(moves), Setup(black, white, empty, pl)))
        both = 0
        for colour in ("B", "W"):
            vals = node.get(colour)
            if vals is None:
                continue
            both += 1
            append(read_move(colour, vals))
        if both == 2:
            warnings.append(f"moves {len(moves) - 1} and {len(moves)}: B and W in one node; both played")
        c = node.get("C")
        if c:
            text = unescape_text(c[0] if len(c) == 1 else "\n".join(c))
            k = len(moves)
            comments[k] = comments[k] + "\n" + text if k in comments else text
    black = [v for v, c in setup_board.items() if c == "B"]
    white = [v for v, c in setup_board.items() if c == "W"]
    g.setup = Setup(black, white, [], setup_pl)
    if g.handicap >= 2 and not black and not white and moves and moves[0][0] == "W":
        # Fox sometimes leaves the handicap stones out (HA only, White moves first): place them.
        stones = _fixed_handicap(size, g.handicap, moves)
        if stones:
            g.setup.black = stones
            warnings.append(f"HA[{g.handicap}] without AB: the fixed handicap stones are placed")
        else:
            warnings.append(f"HA[{g.handicap}] without AB and no fixed placement on {size}x{size}")
    g.later_setups = later
    g.moves = moves
    g.comments = comments
    if strict and warnings:
        raise SgfError(warnings[0])
    return g

