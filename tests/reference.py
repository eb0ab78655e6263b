"""A slow, plain reference Go board for cross-checking ``go_engine``.

Everything here is done the obvious way so that it can be trusted by reading it:

- the board is a list of lists ``grid[row][col]`` (row 0 = GTP row 1) holding
  0 (empty), 1 (black) or 2 (white);
- every question about chains and liberties is answered by a fresh flood fill;
- a move is tried on a full copy of the grid, and kept only if it is legal;
- superko keeps the list of every earlier position with the player to move;
- the Zobrist hash is recomputed from scratch from ``go_engine.kernels.ZOBRIST``;
- undo pops a stack of complete copies of the state.

It shares no algorithm with the engine: only the rule-set descriptions
(``go_engine.rules``) and the table of Zobrist keys.

Conventions (the engine's documented ones): single-stone suicide is never legal;
the simple-ko ban (the capturer's opponent may not retake a single-stone ko on
the very next move) holds under every ko rule, superko adding to it; a pass or
a setup step lifts it; positions before a setup step count for superko; the
game ends after two passes in a row.
"""

from __future__ import annotations

import numpy as np

from go_engine.kernels import ZOBRIST
from go_engine.rules import Rules, get_rules

EMPTY, BLACK, WHITE = 0, 1, 2
COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
PASS = "pass"

# why a move is refused, in the order the checks are made
OCCUPIED, KO, SUICIDE, SUPERKO, OVER = "occupied", "ko", "suicide", "superko", "over"


def other(color: int) -> int:
    return 3 - color


def color_letter(color: int) -> str:
    return "B" if color == BLACK else "W"


def vertex_of(point: tuple[int, int]) -> str:
    row, col = point
    return f"{COLUMNS[col]}{row + 1}"


def point_of(vertex: str, size: int) -> tuple[int, int]:
    """(row, col) of a GTP vertex such as ``"D4"`` (the reference only needs well-formed ones)."""
    col = COLUMNS.index(vertex[0].upper())
    row = int(vertex[1:]) - 1
    if not (0 <= row < size and 0 <= col < size):
        raise ValueError(f"{vertex} is off the board")
    return row, col


class RefGo:
    """Reference Go position with history, for one rule set of ``go_engine.rules``."""

    def __init__(self, size: int, rules: str | Rules = "chinese") -> None:
        r = get_rules(rules)
        self.size = size
        self.ko_rule = r.ko  # "simple", "positional" or "situational"
        self.suicide_allowed = r.suicide  # multi-stone suicide only
        self.grid = [[EMPTY] * size for _ in range(size)]
        self.to_play = BLACK
        self.captures = {BLACK: 0, WHITE: 0}  # prisoners taken by each colour
        self.ko_ban: tuple[tuple[int, int], int] | None = None  # (point, colour that may not play it)
        self.passes = 0
        # every position so far as (board, player to move), oldest first
        self.history: list[tuple[tuple, int]] = [(self.frozen(self.grid), BLACK)]
        self.stack: list[dict] = []

    # ------------------------------------------------------------ helpers
    @staticmethod
    def frozen(grid) -> tuple:
        return tuple(tuple(row) for row in grid)

    def points(self):
        """All points in the engine's board order (A1, B1, ..., then row 2...)."""
        for row in range(self.size):
            for col in range(self.size):
                yield row, col

    def neighbours(self, point):
        row, col = point
        for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
            if 0 <= r < self.size and 0 <= c < self.size:
                yield r, c

    def chain(self, grid, point):
        """Flood fill: the stones of the chain at ``point`` and its liberties."""
        color = grid[point[0]][point[1]]
        stones = {point}
        liberties = set()
        todo = [point]
        while todo:
            p = todo.pop()
            for q in self.neighbours(p):
                qc = grid[q[0]][q[1]]
                if qc == color and q not in stones:
                    stones.add(q)
                    todo.append(q)
                elif qc == EMPTY:
                    liberties.add(q)
        return stones, liberties

    # ------------------------------------------------------------ state
    @property
    def is_over(self) -> bool:
        return self.passes >= 2

    def board_array(self) -> np.ndarray:
        out = np.zeros((self.size, self.size), dtype=np.int8)
        for row, col in self.points():
            v = self.grid[row][col]
            out[row, col] = 1 if v == BLACK else -1 if v == WHITE else 0
        return out

    def zobrist(self) -> int:
        h = 0
        n = self.size + 2
        for row, col in self.points():
            v = self.grid[row][col]
            if v != EMPTY:
                h ^= int(ZOBRIST[v, (row + 1) * n + col + 1])
        return h

    def prisoners(self) -> dict[str, int]:
        return {"B": self.captures[BLACK], "W": self.captures[WHITE]}

    def ko_vertex(self) -> str | None:
        """The point the player to move may not take because of simple ko."""
        if self.ko_ban is not None and self.ko_ban[1] == self.to_play:
            return vertex_of(self.ko_ban[0])
        return None

    # ------------------------------------------------------------ moves
    def seen_positions(self):
        """The earlier boards, and the earlier (board, player to move) pairs, as sets."""
        return {board for board, _ in self.history}, set(self.history)

    def try_move(self, point, color, seen=None):
        """Play ``color`` at ``point`` on a copy of the board.

        ``seen`` is ``seen_positions()``, passed in to save recomputing it.
        Returns ``(reason, None)`` for an illegal move, else
        ``(None, (grid, captured, suicided, ko_ban))``."""
        if self.is_over:
            return OVER, None
        row, col = point
        if self.grid[row][col] != EMPTY:
            return OCCUPIED, None
        if self.ko_ban == (point, color):
            return KO, None
        grid = [r[:] for r in self.grid]
        grid[row][col] = color
        captured = []
        for q in self.neighbours(point):
            if grid[q[0]][q[1]] == other(color):
                stones, libs = self.chain(grid, q)
                if not libs:
                    for s in stones:
                        grid[s[0]][s[1]] = EMPTY
                    captured.extend(stones)
        own, own_libs = self.chain(grid, point)
        suicided = 0
        if not own_libs:
            if len(own) == 1 or not self.suicide_allowed:
                return SUICIDE, None
            for s in own:
                grid[s[0]][s[1]] = EMPTY
            suicided = len(own)
        if self.ko_rule != "simple":
            boards, pairs = self.seen_positions() if seen is None else seen
            key = self.frozen(grid)
            if self.ko_rule == "positional":
                repeated = key in boards
            else:  # situational: same board with the same player to move
                repeated = (key, other(color)) in pairs
            if repeated:
                return SUPERKO, None
        ko_ban = None
        if len(captured) == 1 and suicided == 0 and len(own) == 1 and len(own_libs) == 1:
            ko_ban = (captured[0], other(color))
        return None, (grid, len(captured), suicided, ko_ban)

    def why_illegal(self, vertex: str, color: int | None = None) -> str | None:
        color = self.to_play if color is None else color
        if vertex == PASS:
            return OVER if self.is_over else None
        return self.try_move(point_of(vertex, self.size), color)[0]

    def reasons(self, color: int | None = None) -> dict[str, str | None]:
        """Every point's vertex mapped to why ``color`` may not play there (None if it may)."""
        color = self.to_play if color is None else color
        seen = self.seen_positions()
        return {vertex_of(p): self.try_move(p, color, seen)[0] for p in self.points()}

    def legal_moves(self, color: int | None = None) -> list[str]:
        if self.is_over:
            return []
        return [v for v, why in self.reasons(color).items() if why is None] + [PASS]

    def _save(self) -> None:
        # a full copy (positions in the history are immutable tuples)
        self.stack.append({
            "grid": [row[:] for row in self.grid], "to_play": self.to_play,
            "captures": dict(self.captures), "ko_ban": self.ko_ban, "passes": self.passes,
            "history": list(self.history),
        })

    def play(self, vertex: str, color: int | None = None) -> None:
        color = self.to_play if color is None else color
        if vertex == PASS:
            if self.is_over:
                raise ValueError("the game is over")
            self._save()
            self.passes += 1
            self.ko_ban = None
            self.to_play = other(color)
            self.history.append((self.frozen(self.grid), self.to_play))
            return
        reason, result = self.try_move(point_of(vertex, self.size), color)
        if reason is not None:
            raise ValueError(f"illegal {vertex}: {reason}")
        self._save()
        grid, captured, suicided, ko_ban = result
        self.grid = grid
        self.captures[color] += captured
        self.captures[other(color)] += suicided
        self.ko_ban = ko_ban
        self.passes = 0
        self.to_play = other(color)
        self.history.append((self.frozen(self.grid), self.to_play))

    def setup(self, black=(), white=(), empty=(), to_play: int | None = None) -> None:
        """Place stones directly (one undo step); refuses a chain without liberties."""
        grid = [r[:] for r in self.grid]
        for verts, c in ((empty, EMPTY), (black, BLACK), (white, WHITE)):
            for v in verts:
                row, col = point_of(v, self.size)
                grid[row][col] = c
        for p in self.points():
            if grid[p[0]][p[1]] != EMPTY and not self.chain(grid, p)[1]:
                raise ValueError(f"chain at {vertex_of(p)} has no liberties")
        self._save()
        self.grid = grid
        self.ko_ban = None
        self.passes = 0
        if to_play is not None:
            self.to_play = to_play
        self.history.append((self.frozen(self.grid), self.to_play))

    def undo(self) -> None:
        if not self.stack:
            raise IndexError("nothing to undo")
        state = self.stack.pop()
        self.grid = state["grid"]
        self.to_play = state["to_play"]
        self.captures = state["captures"]
        self.ko_ban = state["ko_ban"]
        self.passes = state["passes"]
        self.history = state["history"]

    # ------------------------------------------------------------ scoring
    def area(self) -> int:
        """Tromp-Taylor area of black minus white: stones plus empty regions reaching one colour."""
        total = 0
        seen = set()
        for p in self.points():
            v = self.grid[p[0]][p[1]]
            if v == BLACK:
                total += 1
            elif v == WHITE:
                total -= 1
            elif p not in seen:
                region, _ = self.chain(self.grid, p)  # flood fill over empty points
                seen |= region
                border = {self.grid[q[0]][q[1]] for s in region for q in self.neighbours(s)} - {EMPTY}
                if border == {BLACK}:
                    total += len(region)
                elif border == {WHITE}:
                    total -= len(region)
        return total
