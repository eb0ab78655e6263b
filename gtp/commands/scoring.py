"""The result and the status of stones: final_score and final_status_list.

A chain is dead when the opponent owns its points on average in the engine's
``final_ownership`` (random playouts, or a short search's ownership with
``dead_stones = "network"``) and it is not in seki; in seki when neither player
can take any of its liberties, one of them shared with the opponent
(``go_engine.deadstones.seki_chains``)."""

from __future__ import annotations

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
        seki = {chain[0] for chain in deadstones.seki_chains(g)}
        lines = []
        for chain in deadstones.chains(g.board):
            verts = [f"{COLUMNS[c]}{r + 1}" for r, c in chain]
            st = "dead" if verts[0] in dead else "seki" if chain[0] in seki else "alive"
            if st == status:
                lines.append(" ".join(verts))
        return "\n".join(lines)
