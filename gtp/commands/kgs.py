"""KGS's extensions (rules, cleanup, game over) and the clock: time_settings, kgs-time_settings, time_left."""

from __future__ import annotations

from go_engine.game import parse_color

from ..protocol import GtpError
from ..state import EngineState

# kgsGtp's names; KGS plays Chinese rules with positional superko, as KataGo maps them (chinese-kgs)
_KGS_RULES = {"chinese": "chinese-kgs", "japanese": "japanese", "aga": "aga", "new_zealand": "nz"}


class KgsTimeCommands(EngineState):
    def cmd_time_settings(self, main, byo, stones):
        self.clock.set_gtp(float(main), float(byo), int(stones))
        return ""

    def cmd_kgs_time_settings(self, mode, *args):
        mode = mode.lower()
        if mode == "none":
            self.clock.set("none")
        elif mode == "absolute":
            self.clock.set("absolute", float(args[0]))
        elif mode in ("byoyomi", "canadian"):
            self.clock.set(mode, float(args[0]), float(args[1]), int(args[2]))
        else:
            raise GtpError(f"unknown time system {mode!r}")
        return ""

    def cmd_time_left(self, color, t, stones):
        self.clock.time_left(parse_color(color), float(t), int(stones))
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
