"""Writing SGF: ``write_sgf`` turns a ``go_engine.Game`` (setup steps, moves, resignation) and its
game information into FF[4] text."""

from __future__ import annotations

import re

from ..coords import COLUMNS
from ..game import Game, Outcome
from .values import LINEBREAK, RU_NAMES, Result, Setup, escape_text, format_number, sgf_point_table


def _sgf_point(vertex: str, size: int) -> str:
    return sgf_point_table(size)[vertex]


def _history_setups(game: Game) -> dict[int, Setup]:
    """The stones of each setup step in ``game``'s history, by step index."""
    hist = game.history  # (colour, point); colour 0 marks a setup step
    steps = [i for i, (c, _) in enumerate(hist) if c == 0]
    if not steps:
        return {}
    g = game.copy()
    if g.resigned:
        g.undo()
    out: dict[int, Setup] = {}
    first = steps[0]
    for i in range(len(hist) - 1, first - 1, -1):
        if hist[i][0] != 0:
            g.undo()
            continue
        after, to_play = g.board, g.to_play
        g.undo()
        before = g.board
        s = Setup(to_play=to_play)
        for r, c in zip(*(after != before).nonzero(), strict=True):
            v = f"{COLUMNS[c]}{r + 1}"
            a = after[r, c]
            (s.black if a == 1 else s.white if a == -1 else s.empty).append(v)
        out[i] = s
    return out


def _setup_props(s: Setup, size: int) -> str:
    out = []
    for prop, verts in (("AB", s.black), ("AW", s.white), ("AE", s.empty)):
        if verts:
            points = sorted(_sgf_point(v, size) for v in verts)
            out.append(prop + "".join(f"[{p}]" for p in points))
    if s.to_play:
        out.append(f"PL[{s.to_play}]")
    return "".join(out)


def write_sgf(game: Game, *, result: str | Outcome | Result | None = None, black: str | None = None,
              white: str | None = None, black_rank: str | None = None, white_rank: str | None = None,
              date: str | None = None, event: str | None = None, name: str | None = None,
              place: str | None = None, comments: dict[int, str] | None = None, handicap: int | None = None,
              rules: str | None = None, properties: dict[str, str | list[str]] | None = None,
              move_properties: dict[int, dict[str, str]] | None = None,
              application: str | None = "Tengen") -> str:
    """The game as FF[4] SGF text (write it as UTF-8: it says ``CA[UTF-8]``).

    Setup steps become ``AB``/``AW``/``AE``/``PL`` (in the root when they come before
    the first move), moves ``B[..]``/``W[..]`` with ``B[]`` for a pass. ``result``
    defaults to the game's outcome when it is over (resignation, or the score
    after two passes with every stone alive); pass ``""`` to leave ``RE`` out.
    ``comments`` maps move numbers (0: the game comment) to text. ``properties``
    adds other root properties (values are escaped), ``move_properties`` properties
    of move nodes by move number (annotations such as ``BM``, ``TE``, ``MA``).
    ``rules`` is the ``RU`` text (default: the game's rule set by its usual SGF name)."""
    size = game.size
    root: dict[str, str] = {"FF": "[4]", "CA": "[UTF-8]", "GM": "[1]"}
    if application:
        root["AP"] = f"[{escape_text(application)}]"
    root["SZ"] = f"[{size}]"
    komi = format_number(game.komi)
    if abs(game.komi) >= 100 and "." not in komi:
        komi += ".0"  # else it would read as Fox's komi times 100
    root["KM"] = f"[{komi}]"
    ru = rules if rules is not None else RU_NAMES.get(game.rules.name, game.rules.name)
    root["RU"] = f"[{escape_text(ru)}]"
    ha = game.handicap if handicap is None else handicap
    if ha:
        root["HA"] = f"[{int(ha)}]"
    if result is None and game.finished:
        result = game.outcome()
    if isinstance(result, Outcome):
        result = result.result()
    elif isinstance(result, Result):
        result = result.raw
    for prop, value in (("PB", black), ("BR", black_rank), ("PW", white), ("WR", white_rank), ("DT", date),
                        ("EV", event), ("GN", name), ("PC", place), ("RE", result)):
        if value:  # SimpleText: line breaks would be read back as spaces, so write them so
            root[prop] = f"[{escape_text(LINEBREAK.sub(' ', str(value)).replace(chr(10), ' '))}]"
    for prop, given in (properties or {}).items():
        if not re.fullmatch(r"[A-Z]{1,8}", prop):
            raise ValueError(f"{prop!r} is not an SGF property identifier")
        if prop in ("B", "W", "AB", "AW", "AE", "PL", "C"):
            raise ValueError(f"{prop} is written from the game and its comments, not from properties")
        values = [given] if isinstance(given, str) else list(given)
        root[prop] = "".join(f"[{escape_text(str(v))}]" for v in values)
    comments = dict(comments or {})
    moves = game.moves
    for k in comments:
        if not isinstance(k, int) or not 0 <= k <= len(moves):
            raise ValueError(f"comment key {k!r} is not a move number from 0 to {len(moves)}")
    node_props: dict[int, str] = {}
    for k, props in (move_properties or {}).items():
        if not isinstance(k, int) or not 1 <= k <= len(moves):
            raise ValueError(f"move property key {k!r} is not a move number from 1 to {len(moves)}")
        for prop in props:
            if not re.fullmatch(r"[A-Z]{1,8}", prop) or prop in ("B", "W", "C", "AB", "AW", "AE", "PL"):
                raise ValueError(f"{prop!r} cannot be written as a move property")
        node_props[k] = "".join(f"{prop}[{escape_text(str(v))}]" for prop, v in props.items())
    setups = _history_setups(game)
    parts = ["(;" + "".join(p + v for p, v in root.items())]
    if 0 in comments:
        parts.append(f"C[{escape_text(comments[0])}]")
    first_setup_in_root = True
    k = 0
    line_moves = 0
    for i, (c, _) in enumerate(game.history):
        if c == 0:
            setup = _setup_props(setups[i], size)
            if first_setup_in_root and k == 0:
                parts.append(setup)  # the root holds the first setup, later ones get nodes
            else:
                parts.append("\n;" + setup)
            first_setup_in_root = False
            continue
        if k == 0:
            parts.append("\n")
        k += 1
        colour, vertex = moves[k - 1]
        parts.append(f";{colour}[{'' if vertex == 'pass' else _sgf_point(vertex, size)}]{node_props.get(k, '')}")
        if k in comments:
            parts.append(f"C[{escape_text(comments[k])}]\n")
            line_moves = 0
        else:
            line_moves += 1
            if line_moves == 10:
                parts.append("\n")
                line_moves = 0
    text = "".join(parts).rstrip("\n") + ")\n"
    return text
