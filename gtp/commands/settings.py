"""The search's settings and state: KataGo's kata-list-params, kata-get-param, kata-set-param, clear_cache
and stop, and GoGui's parameter dialog (tengen-param).

Parameters take KataGo's names where KataGo has the same setting: ``maxVisits``
(visits per move, the subtree kept from the last move counted), ``maxTime``
(seconds per move without a clock; 0: no limit), ``cpuctExploration``,
``fpuReductionMax``, ``rootFpuReductionMax``, ``lcbStdevs`` and
``minVisitPropForLCB``; ``minVisitsForLCB`` is Tengen's own (the visits a move
needs before its LCB can choose it). A change applies from the next visit on,
to the tree being searched too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import GtpError, number_arg
from ..state import EngineState


@dataclass(frozen=True)
class Param:
    """A parameter: the field ``name`` of the engine state (``owner`` ""), its options or its search
    config, a whole number or not, and its bounds."""

    owner: str
    name: str
    whole: bool
    least: int | float
    most: int | float


PARAMS = {
    "maxVisits": Param("", "visits", True, 1, 10 ** 9),
    "maxTime": Param("options", "move_seconds", False, 0, 10 ** 6),
    "cpuctExploration": Param("search_cfg", "c_puct", False, 0, 100),
    "fpuReductionMax": Param("search_cfg", "fpu_reduction", False, 0, 2),
    "rootFpuReductionMax": Param("search_cfg", "fpu_root_reduction", False, 0, 2),
    "lcbStdevs": Param("search_cfg", "lcb_z", False, 0, 12),
    "minVisitPropForLCB": Param("search_cfg", "lcb_min_fraction", False, 0, 1),
    "minVisitsForLCB": Param("search_cfg", "lcb_min_visits", True, 1, 10 ** 9),
    "dynamicScoreUtilityFactor": Param("search_cfg", "score_utility", False, 0, 10),
    "dynamicScoreCenterScale": Param("search_cfg", "score_scale", False, 0.01, 100),
    "nnPolicyTemperature": Param("search_cfg", "policy_temperature", False, 0.1, 10),
}


class SettingsCommands(EngineState):
    def _param(self, key: str) -> tuple[object, Param]:
        p = PARAMS.get(key)
        if p is None:
            raise GtpError(f"unknown parameter {key!r}; kata-list-params lists them")
        return (getattr(self, p.owner) if p.owner else self), p

    def get_param(self, key: str) -> float:
        target, p = self._param(key)
        value = getattr(target, p.name)
        if value is None:  # maxTime without a limit; rootFpuReductionMax the same as fpuReductionMax
            return 0 if key == "maxTime" else self.search_cfg.fpu_reduction
        return value

    def set_param(self, key: str, text: str) -> None:
        target, p = self._param(key)
        x = number_arg(text, key)
        if not p.least <= x <= p.most or (p.whole and x != int(x)):
            kind = "a whole number" if p.whole else "a number"
            raise GtpError(f"{key} must be {kind} from {p.least} to {p.most}, got {text!r}")
        value = int(x) if p.whole else x
        setattr(target, p.name, None if key == "maxTime" and value == 0 else value)

    def cmd_kata_list_params(self):
        return " ".join(PARAMS)

    def cmd_kata_get_param(self, key):
        return f"{self.get_param(key):g}"

    def cmd_kata_set_param(self, key, value):
        self.set_param(key, value)
        return ""

    def cmd_tengen_param(self, *args):
        """GoGui's ``param`` type: every parameter and its value a line, or set one (``key value``)."""
        if not args:
            return "\n".join(f"{key} {self.get_param(key):g}" for key in PARAMS)
        if len(args) != 2:
            raise GtpError("tengen-param takes no arguments or a parameter and its value")
        self.set_param(*args)
        return ""

    def cmd_clear_cache(self):
        """Forget the search tree, the network's cache and the dead stones: the next search starts afresh."""
        self.player.reset()
        clear = getattr(self.evaluator, "clear_cache", None)
        if clear is not None:
            clear()
        self._dead_cache = None
        return ""

    def cmd_stop(self):
        """Stop pondering or a streaming analysis: every request does, this one does nothing else."""
        return ""
