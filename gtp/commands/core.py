"""The standard GTP commands: identity, board, moves, handicap, records and genmove."""

from __future__ import annotations

import json
import re
from pathlib import Path

from go_engine import __version__
from go_engine.atomic import atomic_write_bytes
from go_engine.coords import COLUMNS, MAX_SIZE, MIN_SIZE, PASS, parse_vertex
from go_engine.game import handicap_vertices, parse_color
from go_engine.rules import katago_json, katago_rules

from ..protocol import GtpError, GtpProtocol, number_arg, whole_arg
from ..state import EngineState, ready_to_move

NAME = "Tengen"
LOADSGF_MAX_BYTES = 16 << 20  # a GUI's game record is kilobytes; anything larger is not one to play on

# Lizzie takes the first word of the version answer as Leela Zero's "0.MINOR" and refuses a MINOR below 15
# (the release that brought lz-analyze) with a dialog that stops it until clicked. Tengen speaks Leela Zero
# 0.17's lz-analyze (with lcb and order), so it answers as that release does, then names its own version.
LEELA_ZERO_VERSION = "0.17"
VERSION = f"{LEELA_ZERO_VERSION} (Tengen {__version__})"


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
        if not re.fullmatch(r"[0-9]+", n):
            raise GtpError("boardsize is not an integer")
        s = int(n) if len(n) <= 9 else 0
        if not MIN_SIZE <= s <= MAX_SIZE:
            raise GtpError("unacceptable size")
        self.size = s
        self.new_game()
        return ""

    def cmd_clear_board(self):
        self.new_game()
        return ""

    def cmd_komi(self, k):
        self.set_komi(number_arg(k, "komi"))  # and within MAX_POINTS
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
        probe = g  # after two passes the move resumes the game, but a refused one must leave it over
        if g.passes >= 2 and g.resigned is None:
            probe = ready_to_move(g.copy())
        why = probe.why_illegal(vertex, c)
        if why is not None:
            raise GtpError(f"illegal move: {why}")
        ready_to_move(g)
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
            verts = self.game.place_handicap(whole_arg(n, "number of stones", 0))
        except ValueError as e:
            raise GtpError(f"invalid number of stones: {e}") from None
        return " ".join(verts)

    def cmd_place_free_handicap(self, n):
        self._check_empty()
        k = whole_arg(n, "number of stones", 0)
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

    def _file_commands(self, name: str) -> None:
        if not self.options.file_commands:
            raise GtpError(f"{name} is disabled: this engine reads and writes no files (--no-file-commands)")

    def cmd_printsgf(self, *path):
        from go_engine.sgf import write_sgf

        text = write_sgf(self.game, result="").strip()
        if not path:
            return text
        if len(path) > 1:
            raise GtpError("printsgf takes one file name")
        self._file_commands("printsgf FILE")
        try:
            atomic_write_bytes(Path(path[0]), (text + "\n").encode())
        except OSError as e:
            raise GtpError(f"cannot write {path[0]!r}: {e.strerror or e}") from None
        return ""

    def cmd_loadsgf(self, path, *move):
        from go_engine.sgf import SgfError, read_sgf_file

        self._file_commands("loadsgf")
        if len(move) > 1:
            raise GtpError("loadsgf takes a file name and a move number")
        moves = max(0, whole_arg(move[0], "move number", 0) - 1) if move else None  # the position before it
        try:
            games = read_sgf_file(path, max_bytes=LOADSGF_MAX_BYTES)
            if not games:
                raise GtpError(f"cannot load {path}: no game in the file")
            game = games[0].replay(moves=moves)
        except SgfError as e:  # it names the file
            raise GtpError(f"cannot load {e}") from None
        self.load(game)
        return ""
