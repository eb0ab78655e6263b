"""The result and the status of stones: final_score and final_status_list.

A chain is dead when the opponent owns its points on average in the engine's
``final_ownership`` (random playouts, or a short search's ownership with
``dead_stones = "network"``), in seki when neither side owns them clearly."""

from __future__ import annotations

import numpy as np

from go_engine import deadstones
from go_engine.coords import COLUMNS
from go_engine.game import Outcome

from ..protocol import GtpError
from ..state import EngineState


class ScoringCommands(EngineState):
    def cmd_final_score(self):
        return Outcome.from_score(self.game.final_score(self.dead_stones())).result()

    def cmd_final_status_list(self, status):
        status = status.lower()
        if status not in ("alive", "dead", "seki"):
            raise GtpError("invalid status")
        g = self.game
        dead = set(self.dead_stones())
        own = self.final_ownership(g)
        lines = []
        for chain in deadstones.chains(g.board):
            verts = [f"{COLUMNS[c]}{r + 1}" for r, c in chain]
            is_dead = verts[0] in dead
            seki = not is_dead and abs(float(np.mean([own[p] for p in chain]))) < 0.2
            st = "dead" if is_dead else "seki" if seki else "alive"
            if st == status:
                lines.append(" ".join(verts))
        return "\n".join(lines)
