"""Leela Zero's and KataGo's analysis: lz-analyze, kata-analyze and their genmove_analyze variants.

An analysis streams ``info`` lines every ``interval`` centiseconds until the
next request arrives. It searches the player's own tree, the one ``genmove``
plays from (as Leela Zero and KataGo do), so its ``order 0`` is the move
``genmove`` would play and the visits carry over to it; ``avoid``/``allow``
keep moves out of the search at the root, in a tree of their own.

Leela Zero's lines give each root move's visits, win rate, prior and LCB (x
10000) and principal variation. KataGo's give floats and, per move, the score
(``scoreMean`` = ``scoreLead`` = ``scoreSelfplay``: Tengen has one score head)
and its spread from the move's own subtree, the utility and its LCB; on request
``pvVisits``/``pvEdgeVisits`` (one edge into each node: the same figures),
``movesOwnership``, then ``rootInfo`` and the search-weighted ``ownership`` and
``ownershipStdev`` of the tree (the network's, or the playouts' without one).
Figures are for the player to move; boards run row by row from the top left
(A19), as KataGo writes them.

``kata-raw-nn`` gives the evaluator's answer for the position itself (no
search) in KataGo's layout, for White: ``whiteWin``/``whiteLoss``/``noResult``
(no draws: 0), ``whiteLead`` and ``whiteScoreSelfplay`` (one score head),
``policy`` rows (``NAN`` where illegal), ``policyPass`` and ``whiteOwnership``
rows; the figures KataGo's network has and Tengen's has not (the score's
square, time left, short-term errors) are left out. GoGui's analysis
commands (``gogui-analyze_commands``) draw the network's policy as a heat map
with the percentages of the likely moves (``gfx``) and the ownership that
``final_status_list`` judges by (``dboard``: black squares for Black's points).
"""

from __future__ import annotations

import re
import time

import numpy as np

from go_engine.coords import parse_vertex, rc_to_vertex
from go_engine.game import Game, parse_color
from selfplay.search import Search

from ..protocol import STREAMED, GtpError, GtpProtocol, number_arg, streaming, whole_arg
from ..state import EngineState, ready_to_move

_KATA_FLAGS = {"ownership": "ownership", "ownershipstdev": "ownership_stdev", "movesownership": "moves_ownership",
               "rootinfo": "root_info", "pvvisits": "pv_visits", "pvedgevisits": "pv_edge_visits"}
_BOOLS = {"true": True, "1": True, "false": False, "0": False}


class AnalysisCommands(EngineState):
    protocol: GtpProtocol  # the engine's: its answers are streamed while requests are read

    def _parse_analyze(self, args, kata: bool) -> tuple[str | None, float, dict]:
        """``[color] [interval] [key value]...`` of lz-analyze and kata-analyze: the colour, the interval
        in seconds, and the options (``minmoves``, ``maxmoves``, ``avoid``, ``allow`` and kata-analyze's
        ``ownership``, ``ownershipStdev``, ``movesOwnership``, ``rootInfo``, ``pvVisits``, ``pvEdgeVisits``)."""
        args = list(args)
        color = None
        interval = self.options.analysis_interval
        opts = {"min_moves": 0, "max_moves": None, "avoid": [], "allow": None,
                **{flag: False for flag in _KATA_FLAGS.values()}}
        if args and args[0].lower() in ("b", "w", "black", "white"):
            color = parse_color(args.pop(0))
        if args and re.fullmatch(r"[0-9]+(\.[0-9]+)?", args[0]):
            interval = number_arg(args.pop(0), "interval") / 100
        while args:
            key = args.pop(0).lower()
            if key == "interval" and args:
                interval = number_arg(args.pop(0), key) / 100
            elif key in _KATA_FLAGS and args:
                if not kata:
                    raise GtpError(f"{key} is an option of kata-analyze, not of lz-analyze")
                value = args.pop(0)
                if value.lower() not in _BOOLS:
                    raise GtpError(f"{key}: expected true or false, got {value!r}")
                opts[_KATA_FLAGS[key]] = _BOOLS[value.lower()]
            elif key in ("minmoves", "maxmoves") and args:
                least = 1 if key == "maxmoves" else 0  # maxmoves 0 would stream empty info lines: an early end
                opts["min_moves" if key == "minmoves" else "max_moves"] = whole_arg(args.pop(0), key, least)
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
        """One analysis line of the tree as it stands ("" before a root move has a visit)."""
        moves = s.analysis(opts["max_moves"], opts["min_moves"], moves_ownership=opts["moves_ownership"])
        if not moves:
            return ""
        line = " ".join(_kata_move(a, opts) if kata else _lz_move(a) for a in moves)
        if not kata:
            return line
        if opts["root_info"]:
            r = s.root_info()
            line += (f" rootInfo visits {r['visits']} utility {r['utility']:.6f} winrate {r['winrate']:.6f}"
                     f" scoreMean {r['scoreMean']:.6f} scoreStdev {r['scoreStdev']:.6f}"
                     f" scoreLead {r['scoreLead']:.6f} scoreSelfplay {r['scoreSelfplay']:.6f}")
        own = s.root_ownership() if opts["ownership"] or opts["ownership_stdev"] else None
        if own is not None:
            if opts["ownership"]:
                line += " ownership " + _board(own.mean)
            if opts["ownership_stdev"]:
                line += " ownershipStdev " + _board(own.stdev)
        return line

    def _analysis_search(self, color: str | None, opts: dict) -> Search:
        """The tree to analyse: the player's (the one genmove plays from), or one of its own when
        ``avoid``/``allow`` keep root moves out."""
        g = ready_to_move(self.game.copy(), color)
        excluded = _excluded_moves(g, opts)
        if not excluded:
            return self.player.sync(g)
        s = Search(g, self.search_cfg, seed=self.player.seed, track_ownership=True)
        s.exclude_root_moves(excluded)
        return s

    def _analyze(self, args, cid: str, kata: bool):
        color, interval, opts = self._parse_analyze(args, kata)
        s = self._analysis_search(color, opts)
        self.protocol.write(f"={cid}\n")
        cap = max(1, self.options.ponder_visits)
        last, shown = -float("inf"), -1  # when and at how many visits the last line was written
        while True:
            if s.root_visits < cap:
                s.run(8, self.evaluator, batch_size=8)
            elif self.protocol.serving and not self.protocol.pending():
                time.sleep(0.01)  # the cap is reached: wait for the next request
            stop = self.protocol.pending() or not self.protocol.serving
            now = time.monotonic()
            if (stop or now - last >= interval) and s.root_visits != shown:
                line = self._info(s, kata, opts)
                if line:  # the last line written shows the tree as the analysis leaves it
                    self.protocol.write(line + "\n")
                    last, shown = now, s.root_visits
            if stop and (shown >= 0 or s.root_visits >= min(cap, 10_000)):
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
        _, interval, opts = self._parse_analyze(args[1:], kata)
        self.protocol.write(f"={cid}\n")
        state = {"last": time.monotonic(), "visits": -1}  # when and at how many visits the last line was written

        def on_chunk(s: Search) -> None:
            now = time.monotonic()
            if now - state["last"] >= interval:
                line = self._info(s, kata, opts)
                if line:
                    self.protocol.write(line + "\n")
                    state.update(last=now, visits=s.root_visits)

        move = self.genmove(c, on_chunk=on_chunk)
        line = self._info(self.search, kata, opts) if self.search is not None else ""
        if line and self.search.root_visits != state["visits"]:  # the tree the move came from
            self.protocol.write(line + "\n")
        self.protocol.write(f"play {move}\n\n")
        return STREAMED

    @streaming
    def cmd_lz_genmove_analyze(self, *args, cid=""):
        return self._genmove_analyze(args, cid, kata=False)

    @streaming
    def cmd_kata_genmove_analyze(self, *args, cid=""):
        return self._genmove_analyze(args, cid, kata=True)

    # -- the evaluator's own answer, KataGo's and GoGui's way
    def _evaluated(self, evaluator) -> Search:
        """A one-visit search of the position (play resumed after two passes): the root holds the
        evaluator's policy, value, score and ownership for the player to move."""
        s = Search(ready_to_move(self.game.copy()), self.search_cfg, seed=0, track_ownership=True)
        s.run(1, evaluator, batch_size=1)
        return s

    def cmd_kata_raw_nn(self, which):
        """The network's evaluation under symmetry ``which`` (0..7) or under each (``all``); without a
        network, the playout evaluator's, under symmetry 0 only."""
        turn = getattr(self.evaluator, "with_symmetry", None)
        if which.lower() == "all":
            syms = range(8) if turn is not None else [0]
        else:
            syms = [whole_arg(which, "symmetry", 0)]
            if syms[0] > 7:
                raise GtpError(f"symmetry must be 0 to 7 or all, got {which!r}")
            if syms[0] and turn is None:
                raise GtpError("without a network (--model none) the evaluation has symmetry 0 only")
        out = []
        for sym in syms:
            s = self._evaluated(turn(sym) if turn is not None else self.evaluator)
            root, own = s.root_info(), s.root_ownership()
            white = 1.0 if s.game.to_play == "W" else -1.0
            win = root["winrate"] if white > 0 else 1.0 - root["winrate"]
            lead = white * root["scoreLead"]
            size = s.size
            policy = s.root_policy()
            out += [f"symmetry {sym}", f"whiteWin {win:.6f}", f"whiteLoss {1.0 - win:.6f}", "noResult 0.000000",
                    f"whiteLead {lead:.3f}", f"whiteScoreSelfplay {lead:.3f}", "policy"]
            rows = np.flipud(policy[:-1].reshape(size, size))
            out += [" ".join("NAN" if p < 0 else f"{p:8.6f}" for p in row) for row in rows]
            out.append(f"policyPass {policy[-1]:8.6f}")
            if own is not None:
                out.append("whiteOwnership")
                out += [" ".join(f"{x:9.7f}" for x in row) for row in np.flipud(white * own.mean) + 0.0]
        return "\n".join(out)

    def cmd_gogui_analyze_commands(self):
        return ("gfx/Policy heat map/tengen-policy\ndboard/Ownership (dead stones)/tengen-ownership\n"
                "param/Search parameters/tengen-param")

    def cmd_tengen_policy(self):
        """GoGui ``gfx``: the evaluator's policy as background colours (hotter = likelier, by tenths of the
        likeliest move's prior), the percentage on moves of at least 0.5%, the pass's in the status line."""
        s = self._evaluated(self.evaluator)
        policy = s.root_policy()
        top = max(float(policy.max()), 1e-9)
        shades: dict[int, list[str]] = {}
        labels = []
        for p in range(s.size * s.size):
            v, x = rc_to_vertex(*divmod(p, s.size)), float(policy[p])
            if x >= 0.001:
                shades.setdefault(min(9, int(10 * x / top)), []).append(v)
            if x >= 0.005:
                labels.append(f"{v} {round(100 * x)}")
        lines = [f"COLOR {_heat(level / 9)} {' '.join(points)}" for level, points in sorted(shades.items())]
        if labels:
            lines.append("LABEL " + " ".join(labels))
        lines.append(f"TEXT pass {100 * max(float(policy[-1]), 0.0):.1f}%")
        return "\n".join(lines)

    def cmd_tengen_ownership(self):
        """GoGui ``dboard``: ``final_ownership`` from Black's view, the top row first."""
        own = self.final_ownership()
        return "\n".join(" ".join(f"{x:.3f}" for x in row) for row in np.flipud(own))


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


def _board(a: np.ndarray) -> str:
    """A [size, size] array (row 0 = GTP row 1) as KataGo writes boards: rows from the top (A19)."""
    return " ".join(f"{x:.6f}" for x in np.flipud(a).ravel())


def _lz_move(a: dict) -> str:
    return (f"info move {a['move']} visits {a['visits']} winrate {round(a['winrate'] * 10000)} "
            f"prior {round(a['prior'] * 10000)} lcb {round(a['lcb'] * 10000)} order {a['order']} pv {' '.join(a['pv'])}")


def _kata_move(a: dict, opts: dict) -> str:
    out = (f"info move {a['move']} visits {a['visits']} utility {a['utility']:.6f} winrate {a['winrate']:.6f} "
           f"scoreMean {a['scoreMean']:.6f} scoreStdev {a['scoreStdev']:.6f} scoreLead {a['scoreLead']:.6f} "
           f"scoreSelfplay {a['scoreSelfplay']:.6f} prior {a['prior']:.6f} lcb {a['lcb']:.6f} "
           f"utilityLcb {a['utilityLcb']:.6f} order {a['order']} pv {' '.join(a['pv'])}")
    visits = " ".join(str(v) for v in a["pvVisits"])
    if opts["pv_visits"]:
        out += " pvVisits " + visits
    if opts["pv_edge_visits"]:  # a tree, not a graph: one edge leads into each node
        out += " pvEdgeVisits " + visits
    if opts["moves_ownership"] and "ownership" in a:
        out += " movesOwnership " + _board(a["ownership"])
    return out


def _heat(x: float) -> str:
    """A colour from pale yellow (``x`` 0) to red (1)."""
    return f"#ff{round(0xf0 * (1 - x)):02x}{round(0xa0 * (1 - x)):02x}"
