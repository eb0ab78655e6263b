"""The standard GTP commands: identity, board, moves, handicap, records and genmove."""

from __future__ import annotations

import json
import math
from importlib.metadata import PackageNotFoundError, version

from go_engine.coords import COLUMNS, PASS, parse_vertex
from go_engine.game import handicap_vertices, parse_color
from go_engine.rules import katago_json, katago_rules

from ..protocol import GtpError, GtpProtocol
from ..state import EngineState, ready_to_move

NAME = "Tengen"
# Lizzie takes the first word of the version answer as Leela Zero's "0.MINOR" and refuses a MINOR below 15
# (the release that brought lz-analyze) with a dialog that stops it until clicked. Tengen speaks Leela Zero
# 0.17's lz-analyze (with lcb and order), so it answers as that release does, then names its own version.
LEELA_ZERO_VERSION = "0.17"


def _package_version() -> str:
    try:
        return version("tengen")  # pyproject.toml's, as installed
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown"


VERSION = f"{LEELA_ZERO_VERSION} (Tengen {_package_version()})"


class CoreCommands(EngineState):
    protocol: GtpProtocol  # the engine's, for known_command, list_commands and quit

    def cmd_protocol_version(self):
        return "2"

    def cmd_name(self):
        return NAME

    def cmd_version(self):
        return VERSION

    def cmd_known_command(self, name):
        return "true" if self.protocol.command(name) is not None else "false"

    def cmd_list_commands(self):
        return "\n".join(self.protocol.command_names())

    def cmd_quit(self):
        self.protocol.quit()
        return ""

    def cmd_boardsize(self, n):
        try:
            s = int(n)
        except ValueError:
            raise GtpError("boardsize is not an integer") from None
        if not 2 <= s <= 25:
            raise GtpError("unacceptable size")
        self.size = s
        self.new_game()
        return ""

    def cmd_clear_board(self):
        self.new_game()
        return ""

    def cmd_komi(self, k):
        try:
            v = float(k)
        except ValueError:
            raise GtpError("komi is not a number") from None
        if not math.isfinite(v):
            raise GtpError("komi is not a number")
        self.set_komi(v)
        return ""

    def cmd_kata_set_rules(self, *spec):
        """A KataGo rules name (``chinese``, ``tromp-taylor``, ``new-zealand``, ...) or its JSON object."""
        if not spec:
            raise GtpError("kata-set-rules takes a rules name or a JSON object")
        rules, warnings = katago_rules(" ".join(spec))
        for w in warnings:
            self.log(f"kata-set-rules: {w}")
        self.set_rules(rules)
        return ""

    def cmd_kata_set_rule(self, key, value):
        """One field of KataGo's rules JSON (``kata-set-rule ko POSITIONAL``), the others kept."""
        spec = katago_json(self.game.rules)
        if key not in spec:
            raise GtpError(f"unknown rule {key!r}; expected one of {', '.join(spec)}")
        spec[key] = {"true": True, "false": False}.get(value.lower(), value) if isinstance(spec[key], bool) else value
        return self.cmd_kata_set_rules(json.dumps(spec))

    def cmd_kata_get_rules(self):
        return json.dumps(katago_json(self.game.rules), separators=(",", ":"))

    def cmd_play(self, color, vertex):
        c = parse_color(color)
        g = self.game
        try:
            p = parse_vertex(vertex, g.size)
        except ValueError as e:
            raise GtpError(f"invalid vertex: {e}") from None
        ready_to_move(g)
        why = g.why_illegal(vertex, c)
        if why is not None:
            raise GtpError(f"illegal move: {why}")
        g.play("pass" if p == PASS else vertex, c)
        return ""

    def cmd_undo(self):
        try:
            self.game.undo()
        except IndexError:
            raise GtpError("cannot undo") from None
        return ""

    def cmd_genmove(self, color):
        return self.genmove(color)

    def cmd_reg_genmove(self, color):
        c = parse_color(color)
        saved, self.game = self.game, self.game.copy()
        try:
            return self.genmove(c, play=False)
        finally:
            self.game = saved

    # -- handicap
    def _check_empty(self) -> None:
        if self.game.history or self.game.board.any():
            raise GtpError("board not empty")

    def cmd_fixed_handicap(self, n):
        self._check_empty()
        try:
            verts = self.game.place_handicap(int(n))
        except ValueError as e:
            raise GtpError(f"invalid number of stones: {e}") from None
        return " ".join(verts)

    def cmd_place_free_handicap(self, n):
        self._check_empty()
        k = int(n)
        size = self.size
        if k < 2 or k >= size * size:
            raise GtpError("invalid number of stones")
        try:
            verts = handicap_vertices(size, k)
        except ValueError:
            verts = []
            cand = []
            for r in range(size):
                for c in range(size):
                    d = min(abs(r - e) for e in (2, size // 2, size - 3)) + min(abs(c - e) for e in (2, size // 2, size - 3))
                    cand.append((d, r, c))
            taken: set = set()
            for _, r, c in sorted(cand):
                if len(verts) == k:
                    break
                if any(abs(r - a) + abs(c - b) <= 1 for a, b in taken) and len(taken) < (size * size) // 3:
                    continue
                taken.add((r, c))
                verts.append(f"{COLUMNS[c]}{r + 1}")
        self.game.setup(black=verts, to_play="W")
        self.game.handicap = k
        return " ".join(verts)

    def cmd_set_free_handicap(self, *verts):
        self._check_empty()
        if len(verts) < 2 or len(set(v.upper() for v in verts)) != len(verts):
            raise GtpError("bad handicap stones")
        for v in verts:
            try:
                if parse_vertex(v, self.game.size) == PASS:
                    raise GtpError("bad vertex")
            except ValueError as e:
                raise GtpError(f"invalid vertex: {e}") from None
        self.game.setup(black=list(verts), to_play="W")
        self.game.handicap = len(verts)
        return ""

    # -- the board and records
    def cmd_showboard(self):
        return "\n" + str(self.game)

    def cmd_printsgf(self, *path):
        from go_engine.sgf import write_sgf

        text = write_sgf(self.game, result="").strip()
        if path:
            with open(path[0], "w", encoding="utf-8") as f:
                f.write(text + "\n")
            return ""
        return "\n".join(l for l in text.splitlines() if l.strip())

    def cmd_loadsgf(self, path, *move):
        from go_engine.sgf import parse_sgf

        try:
            with open(path, "rb") as f:
                data = f.read()
            games = parse_sgf(data, path)
        except (OSError, ValueError) as e:
            raise GtpError(f"cannot load file: {e}") from None
        if not games:
            raise GtpError("cannot load file: no game")
        moves = None
        if move:
            moves = max(0, int(move[0]) - 1)
        self.load(games[0].replay(moves=moves))
        return ""
