"""KGS's extensions (rules, cleanup, game over) and the clock: time_settings, kgs-time_settings, time_left."""

from __future__ import annotations

from go_engine.game import parse_color

from ..protocol import GtpError, number_arg, whole_arg
from ..state import EngineState

# kgsGtp's names; KGS plays Chinese rules with positional superko, as KataGo maps them (chinese-kgs)
_KGS_RULES = {"chinese": "chinese-kgs", "japanese": "japanese", "aga": "aga", "new_zealand": "nz"}


def _times(args, seconds: tuple[str, ...], stones: str | None = None) -> list:
    """The arguments of a clock command: finite numbers of ``seconds``, then a whole number of ``stones``."""
    names = seconds + ((stones,) if stones else ())
    if len(args) != len(names):
        raise GtpError(f"expected {len(names)} arguments ({' '.join(names)}), got {len(args)}")
    out: list = [number_arg(a, n) for a, n in zip(args, seconds, strict=False)]
    return out + [whole_arg(args[-1], stones, 0)] if stones else out


class KgsTimeCommands(EngineState):
    def cmd_time_settings(self, *args):
        self.clock.set_gtp(*_times(args, ("main_time", "byo_yomi_time"), "byo_yomi_stones"))
        return ""

    def cmd_kgs_time_settings(self, mode, *args):
        mode = mode.lower()
        if mode == "none":
            self.clock.set("none")
        elif mode == "absolute":
            self.clock.set("absolute", *_times(args, ("main_time",)))
        elif mode == "byoyomi":
            self.clock.set(mode, *_times(args, ("main_time", "byo_yomi_time"), "byo_yomi_periods"))
        elif mode == "canadian":
            self.clock.set(mode, *_times(args, ("main_time", "byo_yomi_time"), "byo_yomi_stones"))
        else:
            raise GtpError(f"unknown time system {mode!r}")
        return ""

    def cmd_time_left(self, color, *args):
        self.clock.time_left(parse_color(color), *_times(args, ("time",), "stones"))
        return ""

    def cmd_kgs_rules(self, name):
        if name.lower() not in _KGS_RULES:
            raise GtpError(f"unknown rules {name!r}")
        self.set_rules(_KGS_RULES[name.lower()])
        return ""

    def cmd_kgs_genmove_cleanup(self, color):
        return self.genmove(color, cleanup=True)

    def cmd_kgs_game_over(self):
        self.log("game over")
        return ""
