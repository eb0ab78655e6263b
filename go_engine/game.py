"""The ``Game`` object: a Go position with its history, rules, undo and scoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from . import kernels as K
from .coords import PASS, check_size, index_names, parse_vertex, rc_to_vertex, to_rc, vertex_name, vertex_table
from .rules import Rules, get_rules

_COLOR_NAMES = {"b": "B", "black": "B", "w": "W", "white": "W"}
_COLOR_CODES = {"B": K.BLACK, "W": K.WHITE}
_REASONS = {
    K.OCCUPIED: "the point is occupied",
    K.KO: "it retakes a ko immediately",
    K.SUICIDE: "it is suicide",
    K.SUPERKO: "it repeats an earlier position (superko)",
}


MAX_POINTS = 1000.0  # |komi| and |score margin| beyond this are no real game's (the largest board has 625 points)


def check_komi(komi: object) -> float:
    """``komi`` as a float, or ``ValueError`` unless it is a finite number of at most ``MAX_POINTS``
    either way (a komi of 1e308 would reach the network as infinity and come back as NaN)."""
    try:
        k = float(komi)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"komi must be a number, got {komi!r}") from None
    if not abs(k) <= MAX_POINTS:  # NaN fails this too
        raise ValueError(f"komi must be a finite number from {-MAX_POINTS:g} to {MAX_POINTS:g}, got {komi!r}")
    return k


_HANDICAP_STEP = (0, -3)  # the setup step of place_handicap in Game._history (other setup steps are (0, -2))
CYCLE_REPEATS = 3  # a position that stands this often with no pass between has cycled: no result


class IllegalMove(ValueError):
    """A move the rules forbid; the message says which move and why."""


def parse_color(color: object) -> str:
    """``"B"`` or ``"W"`` from ``"B"``, ``"w"``, ``"black"``...; ``ValueError`` otherwise."""
    if isinstance(color, str):
        c = _COLOR_NAMES.get(color.strip().lower())
        if c is not None:
            return c
    raise ValueError(f"unknown colour {color!r}: expected 'B' or 'W'")


def color_name(c: int) -> str:
    """``"B"`` or ``"W"``."""
    return "B" if c == K.BLACK else "W"


_RESULT_LETTERS = {"resignation": "R", "time": "T", "forfeit": "F"}
NO_RESULT = "cycle"  # the Outcome reason of a game that cycled (Game.cycled): neither player wins


@dataclass(frozen=True)
class Outcome:
    """How a finished game ended. ``winner`` is ``"B"``, ``"W"`` or ``None`` (a draw, or no result)."""

    winner: str | None
    reason: str  # "score", "resignation", "time" (a loss on time), "forfeit" (an illegal move, a crash) or "cycle"
    margin: float | None = None  # points, for reason == "score"

    @classmethod
    def from_score(cls, score: float) -> "Outcome":
        """The outcome of a count: ``score`` is Black's points minus White's, komi included."""
        return cls(None if score == 0 else ("B" if score > 0 else "W"), "score", abs(score))

    @property
    def score(self) -> float | None:
        """Black's points minus White's after a count; ``None`` for a game that ended otherwise."""
        if self.reason != "score" or self.margin is None:
            return None
        return 0.0 if self.winner is None else (self.margin if self.winner == "B" else -self.margin)

    def result(self) -> str:
        """The SGF ``RE`` value: ``B+3.5``, ``W+R``, ``B+T``, ``W+F``, ``0``, ``Void`` (no result); the one
        place it is spelt."""
        if self.reason == NO_RESULT:
            return "Void"
        if self.winner is None:
            return "0"
        if self.reason == "score":
            return f"{self.winner}+{self.margin:g}"
        return f"{self.winner}+{_RESULT_LETTERS[self.reason]}"


def handicap_vertices(size: int, stones: int) -> list[str]:
    """The points of GTP ``fixed_handicap``, in the order the GTP specification gives them."""
    check_size(size)
    top = 4 if size % 2 == 0 or size == 7 else 9
    if size < 7 or not 2 <= stones <= top:
        raise ValueError(f"a fixed handicap of {stones} stones is not defined on a {size}x{size} board "
                         f"(2 to {top if size >= 7 else 0} stones)")
    e = 2 if size < 13 else 3
    lo, mid, hi = e, size // 2, size - 1 - e
    pts = [(lo, lo), (hi, hi), (hi, lo), (lo, hi)][: min(stones, 4)]
    if stones >= 6:
        pts += [(mid, lo), (mid, hi)]
    if stones >= 8:
        pts += [(lo, mid), (hi, mid)]
    if stones in (5, 7, 9):
        pts.append((mid, mid))
    return [rc_to_vertex(r, c) for r, c in pts]


class Game:
    """A game of Go on a square board from 2x2 to 25x25.

    >>> g = Game(size=9, komi=7.0, rules="chinese")
    >>> g.play("E5"); g.to_play
    'W'

    Moves are GTP vertices (``"D4"``, ``"pass"``; columns skip I). ``play`` raises
    ``IllegalMove`` naming the reason and leaves the position unchanged; ``undo``
    takes back moves, passes and setup steps one at a time.
    """

    def __init__(self, size: int = 19, komi: float = 7.5, rules: str | Rules = "chinese") -> None:
        self.size = check_size(size)
        self.komi = check_komi(komi)
        self.rules = get_rules(rules)
        self.handicap = 0
        n = size + 2
        self._L = n * n
        self._S = np.zeros((K.NROWS, self._L), dtype=np.int32)
        self._meta = np.zeros(K.NMETA, dtype=np.int64)
        K.k_init(self._S, self._meta, size, self.rules.ko_code, int(self.rules.suicide))
        cap = 2 * size * size + 16
        self._hist = np.zeros((cap + 1, 2), dtype=np.uint64)
        self._hist[0, 1] = K.BLACK
        self._meta[K.M_NHIST] = 1
        self._undo = np.zeros((cap, K.UW), dtype=np.int32)
        self._capbuf = np.zeros(cap + 2 * self._L, dtype=np.int32)
        self._history: list[tuple[int, int]] = []  # (colour, point); colour 0 marks a setup step
        self._resigned = 0  # colour that resigned
        self._table = vertex_table(size)

    # ----------------------------------------------------------------- state
    @property
    def to_play(self) -> str:
        """The player to move, ``"B"`` or ``"W"``."""
        return "B" if self._meta[K.M_TOMOVE] == K.BLACK else "W"

    @to_play.setter
    def to_play(self, color: str) -> None:
        c = _COLOR_CODES[parse_color(color)]
        self._meta[K.M_TOMOVE] = c
        self._hist[self._meta[K.M_NHIST] - 1, 1] = c  # situational superko compares the player to move

    @property
    def board(self) -> np.ndarray:
        """Stones as int8 ``[row, col]`` (row 0 = GTP row 1): 1 black, -1 white, 0 empty."""
        n = self.size + 2
        col = self._S[K.COLOR].reshape(n, n)[1:-1, 1:-1]
        out = np.zeros((self.size, self.size), dtype=np.int8)
        out[col == K.BLACK] = 1
        out[col == K.WHITE] = -1
        return out

    @property
    def moves(self) -> list[tuple[str, str]]:
        """Moves and passes played, as ``(colour, vertex)``; setup steps are left out."""
        return [(color_name(c), vertex_name(p, self.size)) for c, p in self._history if c]

    @property
    def history(self) -> list[tuple[int, int]]:
        """Every step so far as kernel ``(colour, point)`` pairs, setup steps (colour 0) included; read only."""
        return self._history

    @property
    def resigned(self) -> str | None:
        """The player who resigned, or ``None``."""
        return color_name(self._resigned) if self._resigned else None

    @property
    def captures(self) -> dict[str, int]:
        """Stones captured so far by each player (prisoners)."""
        return {"B": int(self._meta[K.M_CAPB]), "W": int(self._meta[K.M_CAPW])}

    @property
    def ko(self) -> str | None:
        """The point the player to move may not take because of simple ko, if any."""
        ko = int(self._meta[K.M_KO])
        if ko < 0 or self._meta[K.M_KOCOLOR] != self._meta[K.M_TOMOVE]:
            return None
        return vertex_name(ko, self.size)

    @property
    def hash(self) -> int:
        """64-bit Zobrist hash of the stones on the board."""
        return int(self._hist[self._meta[K.M_NHIST] - 1, 0])

    @property
    def passes(self) -> int:
        """Consecutive passes just played."""
        return int(self._meta[K.M_PASSES])

    @property
    def is_over(self) -> bool:
        """Whether the game ended by two passes in a row or a resignation."""
        return bool(self._resigned) or self._meta[K.M_PASSES] >= 2

    @property
    def finished(self) -> bool:
        """Whether play stops here: the game is over (``is_over``) or has ``cycled`` (no result). Unlike
        ``is_over``, a cycled game still takes moves: the rules allow them, a referee ends the game."""
        return self.is_over or self.cycled

    @property
    def cycled(self) -> bool:
        """Whether the game has cycled: the position (stones and player to move) stands for the third time
        (``CYCLE_REPEATS``) with no pass or setup step since it first stood. Only simple ko lets a game do
        that (triple ko, sending two returning one, eternal life), and such rules leave the game without a
        result, as the search scores a repetition (a draw); ``outcome()`` then says so. A cycle with a pass
        in it does not count: a side that passes has stopped fighting."""
        n = int(self._meta[K.M_NHIST])
        h = self._hist[:n]
        same = np.flatnonzero((h[:-1, 0] == h[-1, 0]) & (h[:-1, 1] == h[-1, 1]))
        if len(same) < CYCLE_REPEATS - 1:
            return False
        first = int(same[-(CYCLE_REPEATS - 1)])  # step k leads from position k to position k + 1
        return all(p >= 0 for _, p in self._history[first:])

    # ----------------------------------------------------------------- moves
    def _color(self, color: str | None) -> int:
        return int(self._meta[K.M_TOMOVE]) if color is None else _COLOR_CODES[parse_color(color)]

    def _point(self, move: str) -> int:
        p = self._table.get(move) if isinstance(move, str) else None
        return parse_vertex(move, self.size) if p is None else p

    def _reserve(self) -> None:
        m = self._meta
        if m[K.M_NUNDO] + 2 >= self._undo.shape[0] or m[K.M_NCAP] + self._L >= self._capbuf.shape[0]:
            self.reserve(self._undo.shape[0])

    def reserve(self, moves: int) -> None:
        """Make room for ``moves`` more moves, so that kernels may play them without checks."""
        m = self._meta
        cap = int(m[K.M_NUNDO]) + moves + 2
        if cap > self._undo.shape[0]:
            self._undo = np.concatenate([self._undo, np.zeros((cap - self._undo.shape[0], K.UW), np.int32)])
            self._hist = np.concatenate([self._hist, np.zeros((cap + 1 - self._hist.shape[0], 2), np.uint64)])
        need = int(m[K.M_NCAP]) + moves + 2 * self._L
        if need > self._capbuf.shape[0]:
            self._capbuf = np.concatenate([self._capbuf, np.zeros(need - self._capbuf.shape[0], np.int32)])

    def play(self, move: str, color: str | None = None) -> None:
        """Play ``move`` (a GTP vertex or ``"pass"``) for ``color`` (default: the player to move)."""
        p = self._point(move)
        c = self._color(color)
        if self._resigned or self._meta[K.M_PASSES] >= 2:
            raise IllegalMove(f"cannot play {move}: the game is over")
        self._reserve()
        code = K.k_play(self._S, self._meta, self._hist, self._undo, self._capbuf, p, c)
        if code > K.OK_SUICIDE:
            raise IllegalMove(f"illegal move {color_name(c)} {move}: {_REASONS[code]}")
        self._history.append((c, p))

    def is_legal(self, move: str, color: str | None = None) -> bool:
        """Whether ``play(move, color)`` would succeed."""
        return self.why_illegal(move, color) is None

    def fills_own_eye(self, move: str, color: str | None = None) -> bool:
        """Whether ``move`` would fill an eye of ``color`` (an empty point all of whose neighbours,
        and enough diagonals, are ``color``'s): the move random playouts never make."""
        p = self._point(move)
        return p != PASS and self._S[K.COLOR, p] == K.EMPTY and bool(K.k_is_eye(self._S, self._meta, p, self._color(color)))

    def why_illegal(self, move: str, color: str | None = None) -> str | None:
        """Why ``move`` is illegal for ``color``, or ``None`` when it is legal."""
        p = self._point(move)
        c = self._color(color)
        if self.is_over:
            return "the game is over"
        if p == PASS:
            return None
        code = K.k_legal(self._S, self._meta, self._hist, p, c)
        return _REASONS.get(code)

    def legal_moves(self, color: str | None = None) -> list[str]:
        """Every legal move for ``color`` as GTP vertices in board order, ``"pass"`` last.

        Empty once the game is over."""
        if self.is_over:
            return []
        out = np.empty(self._L, dtype=np.int32)
        k = K.k_legal_moves(self._S, self._meta, self._hist, self._color(color), out)
        names = index_names(self.size)
        return [names[p] for p in out[:k]] + ["pass"]

    def resume(self) -> None:
        """Let play go on after two passes (a dispute, or a server that resumes the game)."""
        if self._resigned:
            raise IllegalMove("cannot resume: the game ended by resignation")
        self._meta[K.M_PASSES] = 0

    def resign(self, color: str | None = None) -> None:
        """``color`` (default: the player to move) resigns; the game is over."""
        if self.is_over:
            raise IllegalMove("cannot resign: the game is over")
        self._resigned = self._color(color)

    def undo(self) -> None:
        """Take back the last move, pass, setup step or resignation; ``IndexError`` if none."""
        if self._resigned:
            self._resigned = 0
            return
        if not K.k_undo(self._S, self._meta, self._hist, self._undo, self._capbuf):
            raise IndexError("nothing to undo")
        if self._history.pop() == _HANDICAP_STEP:
            self.handicap = 0

    def setup(self, black: Iterable[str] = (), white: Iterable[str] = (), empty: Iterable[str] = (),
              to_play: str | None = None) -> None:
        """Place or remove stones without playing moves (SGF AB/AW/AE, free handicap), as one undo step.

        Raises ``ValueError`` if a chain would be left without liberties (nothing changes then)."""
        pts: list[int] = []
        cols: list[int] = []
        for verts, c in ((empty, K.EMPTY), (black, K.BLACK), (white, K.WHITE)):
            for v in verts:
                p = self._point(v)
                if p == PASS:
                    raise ValueError(f"cannot set up a stone at {v!r}")
                pts.append(p)
                cols.append(c)
        if self.is_over:
            raise IllegalMove("cannot set up stones: the game is over")
        tm = self._color(to_play)
        self._reserve()
        while self._meta[K.M_NCAP] + len(pts) >= self._capbuf.shape[0]:
            self._capbuf = np.concatenate([self._capbuf, np.zeros_like(self._capbuf)])
        bad = K.k_setup(self._S, self._meta, self._hist, self._undo, self._capbuf,
                        np.array(pts, dtype=np.int32), np.array(cols, dtype=np.int32), tm)
        self._history.append((0, -2))
        if bad >= 0:
            self.undo()
            raise ValueError(f"setup leaves the chain at {vertex_name(bad, self.size)} without liberties")

    def place_handicap(self, stones: int) -> list[str]:
        """Put ``stones`` fixed handicap stones on an empty board; White moves next."""
        if np.any(self._S[K.COLOR] == K.BLACK) or np.any(self._S[K.COLOR] == K.WHITE) or self._history:
            raise ValueError("handicap stones go on an empty board at the start of the game")
        verts = handicap_vertices(self.size, stones)
        self.setup(black=verts, to_play="W")
        self._history[-1] = _HANDICAP_STEP  # so that undoing the stones takes the handicap back too
        self.handicap = stones
        return verts

    # ----------------------------------------------------------------- scoring
    def _dead_points(self, dead: Iterable[str]) -> list[int]:
        """Flat points of the ``dead`` vertices, each once; ``ValueError`` for a point without a stone."""
        points: list[int] = []
        for v in dead:
            p = self._point(v)
            if p == PASS or self._S[K.COLOR, p] == K.EMPTY:
                raise ValueError(f"no stone at {v!r} to mark dead")
            if p not in points:
                points.append(p)
        return points

    def ownership(self, dead: Iterable[str] = ()) -> np.ndarray:
        """Tromp-Taylor owner of each point after removing ``dead`` stones: int8 ``[row, col]``, 1/-1/0."""
        color = self._S[K.COLOR].copy()
        color[self._dead_points(dead)] = K.EMPTY
        n = self.size + 2
        owner = np.empty(n * n, dtype=np.int8)
        K.k_owner(color, n, owner)
        o = owner.reshape(n, n)[1:-1, 1:-1]
        return np.where(o == K.BLACK, 1, np.where(o == K.WHITE, -1, 0)).astype(np.int8)

    def score(self, dead: Iterable[str] = ()) -> float:
        """Area score: black's stones and territory minus white's, minus komi and any handicap bonus.

        ``dead`` stones are removed first; empty regions that reach both colours are neutral."""
        dead = list(dead)
        if dead:
            area = int(self.ownership(dead).sum())
        else:
            area = int(K.k_area_score(self._S, self._meta))
        return area - self.komi - self.rules.bonus(self.handicap)

    def territory_score(self, dead: Iterable[str] = ()) -> float:
        """Territory score: empty points surrounded by one colour plus prisoners, black minus white, minus komi.

        ``dead`` stones count as prisoners of the other side and their points as its territory."""
        dead = list(dead)
        own = self.ownership(dead)
        stones = self.board
        dead_mask = np.zeros_like(stones, dtype=bool)
        for p in self._dead_points(dead):
            dead_mask[to_rc(p, self.size)] = True
        territory = int(own[(stones == 0) | dead_mask].sum())
        prisoners = self.captures["B"] - self.captures["W"] + int(-stones[dead_mask].sum())
        return float(territory + prisoners) - self.komi

    def final_score(self, dead: Iterable[str] = ()) -> float:
        """The score under the game's own scoring rule (area or territory)."""
        return self.score(dead) if self.rules.scoring == "area" else self.territory_score(dead)

    def outcome(self, dead: Iterable[str] = ()) -> Outcome | None:
        """The result of a finished game (no result once it has ``cycled``), or ``None`` while it goes on."""
        if self._resigned:
            return Outcome(color_name(3 - self._resigned), "resignation")
        if self.cycled:  # never after two passes: a cycle has no pass in it
            return Outcome(None, NO_RESULT)
        if not self.is_over:
            return None
        return Outcome.from_score(self.final_score(dead))

    # ----------------------------------------------------------------- utilities
    def copy(self) -> "Game":
        """An independent copy with the same position, history and undo."""
        g = Game.__new__(Game)
        g.__dict__.update(self.__dict__)
        g._S = self._S.copy()
        g._meta = self._meta.copy()
        g._hist = self._hist.copy()
        g._undo = self._undo.copy()
        g._capbuf = self._capbuf.copy()
        g._history = list(self._history)
        return g

    @classmethod
    def from_diagram(cls, diagram: str | Sequence[str], to_play: str = "B", komi: float = 7.5,
                     rules: str | Rules = "chinese") -> "Game":
        """A game set up from an ASCII board: one line per row, top row first; ``X`` black,
        ``O`` white, ``.`` (or ``+``) empty; spaces are ignored."""
        lines = diagram.strip().splitlines() if isinstance(diagram, str) else list(diagram)
        rows = [ln.replace(" ", "") for ln in lines if ln.strip()]
        size = len(rows)
        if any(len(r) != size for r in rows):
            raise ValueError(f"diagram must be square: {size} rows of lengths {[len(r) for r in rows]}")
        g = cls(size=size, komi=komi, rules=rules)
        black, white = [], []
        for i, row in enumerate(rows):
            for j, ch in enumerate(row):
                v = f"{'ABCDEFGHJKLMNOPQRSTUVWXYZ'[j]}{size - i}"
                if ch in "Xx#@":
                    black.append(v)
                elif ch in "Oo":
                    white.append(v)
                elif ch not in ".+":
                    raise ValueError(f"diagram has unknown character {ch!r} in row {i + 1}")
        g.setup(black=black, white=white, to_play=to_play)
        return g

    def __str__(self) -> str:
        b = self.board
        letters = "ABCDEFGHJKLMNOPQRSTUVWXYZ"[: self.size]
        rows = []
        for r in range(self.size - 1, -1, -1):
            cells = " ".join("X" if v == 1 else "O" if v == -1 else "." for v in b[r])
            rows.append(f"{r + 1:2d} {cells}")
        rows.append("   " + " ".join(letters))
        return "\n".join(rows)

    def __repr__(self) -> str:
        return f"Game(size={self.size}, komi={self.komi}, rules={self.rules.name!r}, moves={len(self.moves)})"


__all__ = ["CYCLE_REPEATS", "NO_RESULT", "Game", "IllegalMove", "Outcome", "handicap_vertices", "parse_color",
           "color_name"]
