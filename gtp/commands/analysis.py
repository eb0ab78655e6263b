"""Leela Zero's and KataGo's analysis: lz-analyze, kata-analyze and their genmove_analyze variants.

An analysis streams ``info`` lines (each root move's visits, win rate, prior,
LCB and principal variation; KataGo's also a score lead and, on request, the
ownership) every ``interval`` centiseconds until the next request arrives.
``avoid``/``allow`` keep moves out of the search at the root.
"""

from __future__ import annotations

import re
import time

from go_engine import deadstones
from go_engine.coords import parse_vertex
from go_engine.game import Game, parse_color
from selfplay.search import Search

from ..protocol import STREAMED, GtpError, GtpProtocol, number_arg, streaming, whole_arg
from ..state import EngineState, ready_to_move


class AnalysisCommands(EngineState):
    protocol: GtpProtocol  # the engine's: its answers are streamed while requests are read

    def _parse_analyze(self, args) -> tuple[str | None, float, dict]:
        """``[color] [interval] [key value]...`` of lz-analyze and kata-analyze: the colour, the interval
        in seconds, and the output options (``ownership``, ``minmoves``, ``maxmoves``)."""
        args = list(args)
        color = None
        interval = self.options.analysis_interval
        opts = {"ownership": False, "min_moves": 0, "max_moves": None, "avoid": [], "allow": None}
        if args and args[0].lower() in ("b", "w", "black", "white"):
            color = parse_color(args.pop(0))
        if args and re.fullmatch(r"[0-9]+(\.[0-9]+)?", args[0]):
            interval = number_arg(args.pop(0), "interval") / 100
        while args:
            key = args.pop(0).lower()
            if key == "interval" and args:
                interval = number_arg(args.pop(0), key) / 100
            elif key == "ownership" and args:
                opts["ownership"] = args.pop(0).lower() == "true"
            elif key in ("minmoves", "maxmoves") and args:
                least = 1 if key == "maxmoves" else 0  # maxmoves 0 would stream empty info lines: an early end
                opts["min_moves" if key == "minmoves" else "max_moves"] = whole_arg(args.pop(0), key, least)
            elif key in ("pvvisits", "movesownership", "rootinfo", "ownershipstdev") and args:
                args.pop(0)
            elif key in ("avoid", "allow") and len(args) >= 3:
                player, vertices, depth = args[:3]
                del args[:3]
                whole_arg(depth, f"{key}: the depth", 1)  # checked; only the move at the root is bound
                try:
                    points = {parse_vertex(v, self.game.size) for v in vertices.split(",") if v}
                except ValueError as e:
                    raise GtpError(f"{key}: invalid vertex: {e}") from None
                if key == "avoid":
                    opts["avoid"].append((parse_color(player), points))
                elif opts["allow"] is not None:
                    raise GtpError("allow may be given once")
                else:
                    opts["allow"] = (parse_color(player), points)
                if opts["avoid"] and opts["allow"] is not None:
                    raise GtpError("avoid and allow cannot be combined")
            else:
                raise GtpError(f"unknown analyze argument {key!r}")
        return color, interval, opts

    def _info(self, s: Search, kata: bool, opts: dict) -> str:
        out = []
        lead = None
        for a in s.analysis(opts["max_moves"], opts["min_moves"]):
            pv = " ".join(a["pv"])
            if kata:
                if lead is None:
                    lead = self._score_lead(s.game)
                wr = a["winrate"]
                out.append(f"info move {a['move']} visits {a['visits']} utility {2 * wr - 1:.4f} winrate {wr:.4f} "
                           f"scoreMean {lead:.2f} scoreLead {lead:.2f} prior {a['prior']:.4f} "
                           f"lcb {a['lcb']:.4f} order {a['order']} pv {pv}")
            else:
                out.append(f"info move {a['move']} visits {a['visits']} winrate {round(a['winrate'] * 10000)} "
                           f"prior {round(a['prior'] * 10000)} lcb {round(a['lcb'] * 10000)} "
                           f"order {a['order']} pv {pv}")
        line = " ".join(out)
        if kata and opts["ownership"]:
            own = deadstones.playout_ownership(s.game, 64, seed=7)
            if s.game.to_play == "W":
                own = -own
            vals = [f"{own[r, c]:.3f}" for r in range(s.game.size - 1, -1, -1) for c in range(s.game.size)]
            line += " ownership " + " ".join(vals)
        return line

    def _score_lead(self, g: Game) -> float:
        sc = deadstones.playable_playouts(g, 32, seed=3).mean_score - g.komi - g.rules.bonus(g.handicap)
        return sc if g.to_play == "B" else -sc

    def _analyze(self, args, cid: str, kata: bool):
        color, interval, opts = self._parse_analyze(args)
        g = ready_to_move(self.game.copy(), color)
        s = Search(g, self.search_cfg, seed=self.player.seed)
        s.exclude_root_moves(_excluded_moves(g, opts))
        self.protocol.write(f"={cid}\n")
        last = -1.0
        emitted = False
        total = 0
        while True:
            s.run(8, self.evaluator, batch_size=8)
            total += 8
            now = time.monotonic()
            if not s.analysis():
                if total > 10_000 or self.protocol.pending():
                    break
                continue
            if now - last >= interval or self.protocol.pending():
                self.protocol.write(self._info(s, kata, opts) + "\n")
                last = now
                emitted = True
            if emitted and self.protocol.pending():
                break
            if not self.protocol.serving:
                break
        self.protocol.write("\n")
        return STREAMED

    @streaming
    def cmd_lz_analyze(self, *args, cid=""):
        return self._analyze(args, cid, kata=False)

    @streaming
    def cmd_kata_analyze(self, *args, cid=""):
        return self._analyze(args, cid, kata=True)

    def _genmove_analyze(self, args, cid: str, kata: bool):
        if not args:
            raise GtpError("missing color")
        c = parse_color(args[0])
        _, interval, opts = self._parse_analyze(args[1:])
        self.protocol.write(f"={cid}\n")
        state = {"last": time.monotonic(), "emitted": False}

        def on_chunk(s: Search) -> None:
            now = time.monotonic()
            if now - state["last"] >= interval and s.analysis():
                self.protocol.write(self._info(s, kata, opts) + "\n")
                state["last"] = now
                state["emitted"] = True

        move = self.genmove(c, on_chunk=on_chunk)
        if not state["emitted"] and self.search is not None and self.search.analysis():
            self.protocol.write(self._info(self.search, kata, opts) + "\n")
        self.protocol.write(f"play {move}\n\n")
        return STREAMED

    @streaming
    def cmd_lz_genmove_analyze(self, *args, cid=""):
        return self._genmove_analyze(args, cid, kata=False)

    @streaming
    def cmd_kata_genmove_analyze(self, *args, cid=""):
        return self._genmove_analyze(args, cid, kata=True)


def _excluded_moves(game: Game, opts: dict) -> set[int]:
    """Root moves that analysis ``avoid``/``allow`` keep out of the search. They act on the move at
    the root only: clauses for the other player, which would bind deeper moves, have no effect."""
    out = set()
    for color, points in opts["avoid"]:
        if color == game.to_play:
            out |= points
    if opts["allow"] is not None and opts["allow"][0] == game.to_play:
        every = {parse_vertex(v, game.size) for v in game.legal_moves()}
        out |= every - opts["allow"][1]
    return out
