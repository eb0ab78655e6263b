"""The errors of SGF reading: ``SgfError`` for what cannot be read or used, ``ReplayError`` for
what breaks the rules it is replayed under."""

from __future__ import annotations


class SgfError(ValueError):
    """A record that cannot be read, or a game that cannot be used.

    ``source`` (file name), ``game`` (number of the game tree in the file, from
    1), ``line`` (where that game tree starts), ``move`` (main-line move number,
    from 1) are filled in where known; ``reason`` is the bare explanation.
    ``str()`` joins them:
    ``"kgs.tar.gz:2003/x.sgf: game 1 (line 1): move 57: B[zz] is off the 19x19 board"``.
    """

    def __init__(self, reason: str, source: str | None = None, game: int | None = None,
                 move: int | None = None, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.game = game
        self.move = move
        self.line = line

    def __str__(self) -> str:
        parts = []
        if self.source:
            parts.append(str(self.source))
        if self.game is not None:
            parts.append(f"game {self.game}" + (f" (line {self.line})" if self.line is not None else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.move is not None:
            parts.append(f"move {self.move}")
        parts.append(self.reason)
        return ": ".join(parts)

    def _fill(self, source: str | None = None, game: int | None = None) -> "SgfError":
        if self.source is None:
            self.source = source
        if self.game is None:
            self.game = game
        return self


class ReplayError(SgfError):
    """A record whose setup or moves break the rules it is replayed under."""

