"""The clock of a GTP game and the time budget of a move (as Leela Zero's TimeControl).

A time system is ``none``, ``absolute`` (main time only), ``byoyomi`` (main
time, then periods of ``byo_time`` seconds, one move each) or ``canadian``
(main time, then ``byo_stones`` moves in every ``byo_time`` seconds). GTP's
``time_settings`` and KGS's ``kgs-time_settings`` choose one; ``time_left``
reports a player's clock during the game. ``budget`` spends the main time
evenly over the moves a game of this many empty points still has, plus half a
byo-yomi period, and in byo-yomi a period (or its share of the stones), always
keeping a reserve for the answer's way back.
"""

from __future__ import annotations

MODES = ("none", "absolute", "byoyomi", "canadian")
RESERVE = 0.5  # seconds kept back from a budget for the answer's way back to the server
LEAST = 0.05  # seconds: the shortest budget


class TimeControl:
    """One game's time system and each player's time left."""

    def __init__(self) -> None:
        self.mode = "none"
        self.main_time = 0.0
        self.byo_time = 0.0
        self.byo_stones = 0
        self.left: dict[str, tuple[float, int]] = {}  # colour -> (seconds, stones) of its last time_left

    def set(self, mode: str, main_time: float = 0.0, byo_time: float = 0.0, byo_stones: int = 0) -> None:
        """Choose a time system (``mode`` in ``MODES``); forgets the times left. ``ValueError`` for an
        unknown system or a negative time."""
        if mode not in MODES:
            raise ValueError(f"unknown time system {mode!r}")
        if main_time < 0 or byo_time < 0 or byo_stones < 0:
            raise ValueError("negative time")
        self.mode = mode
        if mode != "none":
            self.main_time, self.byo_time, self.byo_stones = main_time, byo_time, byo_stones
        self.left = {}

    def set_gtp(self, main_time: float, byo_time: float, byo_stones: int) -> None:
        """GTP ``time_settings``: main time, then Canadian byo-yomi. Without byo-yomi (no time or no
        stones) it is absolute time, and without main time either, no limit."""
        if main_time < 0 or byo_time < 0 or byo_stones < 0:
            raise ValueError("negative time")
        if byo_time == 0 or byo_stones == 0:
            mode = "absolute" if main_time > 0 else "none"
        else:
            mode = "canadian"
        self.mode, self.main_time, self.byo_time, self.byo_stones = mode, main_time, byo_time, byo_stones
        self.left = {}

    def time_left(self, color: str, seconds: float, stones: int) -> None:
        """GTP ``time_left``: ``color`` has ``seconds`` left (for ``stones`` moves in byo-yomi, 0 in main time)."""
        self.left[color] = (seconds, stones)

    def new_game(self) -> None:
        """A new game: the clocks start again from the settings."""
        self.left = {}

    def budget(self, color: str, empty_points: int) -> float | None:
        """Seconds for ``color``'s next move on a board with ``empty_points`` empty points, or None
        without a clock."""
        if self.mode == "none":
            return None
        t, stones = self.left.get(color, (self.main_time, 0))
        if stones > 0 or t <= 0:  # in byo-yomi
            if self.mode == "byoyomi":
                per = t if stones > 0 else self.byo_time
            elif self.mode == "canadian":
                per = (t if stones > 0 else self.byo_time) / max(1, stones or self.byo_stones)
            else:
                per = t / 10
            # keep a reserve for the answer's way back: half a second, less for short periods
            return max(LEAST, per - min(RESERVE, 0.1 + 0.1 * per))
        b = t / max(10, empty_points // 2)
        if self.mode in ("byoyomi", "canadian") and self.byo_time > 0:
            period = self.byo_time / max(1, self.byo_stones if self.mode == "canadian" else 1)
            b += 0.5 * max(0.0, period - RESERVE)
        return max(LEAST, min(b, t - RESERVE) if t > RESERVE + LEAST else LEAST)
