"""The GTP command handlers, one module per group, each a mixin over ``gtp.state.EngineState``.

A command ``foo-bar`` is the method ``cmd_foo_bar`` of one of these classes (see
``gtp.protocol``): ``core`` (the standard commands: board, moves, handicap,
records, genmove, KataGo's rules), ``kgs`` (KGS's extensions and the clock),
``analysis`` (Leela Zero's and KataGo's streaming analysis, the network's raw
answer, GoGui's analysis commands), ``settings`` (the search's parameters, its
cache) and ``scoring`` (the result and the status of stones). To add a command,
add a method to the group it belongs to.
"""

from .analysis import AnalysisCommands
from .core import CoreCommands
from .kgs import KgsTimeCommands
from .scoring import ScoringCommands
from .settings import SettingsCommands

__all__ = ["AnalysisCommands", "CoreCommands", "KgsTimeCommands", "ScoringCommands", "SettingsCommands"]
