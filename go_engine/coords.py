"""Board coordinates: GTP vertices, (row, col) pairs and padded flat indices.

Row 0 is GTP row 1 (the bottom edge as GUIs draw it) and column 0 is column A.
GTP column letters skip ``I``. Internally a board of side ``size`` is a flat
array of ``(size + 2) ** 2`` points with a one-point border all round, so the
point ``(row, col)`` lives at ``(row + 1) * (size + 2) + col + 1``.
"""

from __future__ import annotations

from functools import lru_cache

MIN_SIZE = 2
MAX_SIZE = 25
COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # 25 letters, no I
PASS = -1  # flat index used for a pass


def check_size(size: object) -> int:
    """Return ``size`` as an int, or raise ``ValueError`` naming the bad value."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValueError(f"board size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"board size must be from {MIN_SIZE} to {MAX_SIZE}, got {size}")
    return size


def stride(size: int) -> int:
    """Width of the padded board array."""
    return size + 2


def to_index(row: int, col: int, size: int) -> int:
    """Flat padded index of ``(row, col)``."""
    return (row + 1) * (size + 2) + col + 1


def to_rc(index: int, size: int) -> tuple[int, int]:
    """``(row, col)`` of a flat padded index."""
    r, c = divmod(index, size + 2)
    return r - 1, c - 1


def move_index(index: int, size: int) -> int:
    """The move's index in network outputs: ``row * size + col`` of a padded index, ``size * size``
    for a pass (``PASS``)."""
    if index == PASS:
        return size * size
    r, c = divmod(index, size + 2)
    return (r - 1) * size + c - 1


def rc_to_vertex(row: int, col: int) -> str:
    """GTP vertex of ``(row, col)``, e.g. ``(3, 3) -> "D4"``."""
    return f"{COLUMNS[col]}{row + 1}"


@lru_cache(maxsize=None)
def vertex_table(size: int) -> dict[str, int]:
    """Every spelling of every vertex on a board of ``size``, mapped to its flat index.

    Upper and lower case vertices and ``pass`` in any case are present; the table
    is built once per size so that parsing a move is one dict lookup.
    """
    table: dict[str, int] = {}
    for row in range(size):
        for col in range(size):
            v = rc_to_vertex(row, col)
            idx = to_index(row, col, size)
            table[v] = idx
            table[v.lower()] = idx
    for p in ("pass", "PASS", "Pass"):
        table[p] = PASS
    return table


@lru_cache(maxsize=None)
def index_names(size: int) -> tuple[str, ...]:
    """GTP vertex for every flat index ('' on the border)."""
    n = size + 2
    names = [""] * (n * n)
    for row in range(size):
        for col in range(size):
            names[to_index(row, col, size)] = rc_to_vertex(row, col)
    return tuple(names)


def parse_vertex(vertex: object, size: int) -> int:
    """Flat index of a GTP vertex, or ``PASS``; raise ``ValueError`` naming a bad vertex."""
    if isinstance(vertex, str):
        idx = vertex_table(size).get(vertex)
        if idx is not None:
            return idx
        v = vertex.strip()
        idx = vertex_table(size).get(v.upper()) if v.lower() != "pass" else PASS
        if idx is not None:
            return idx
        if len(v) >= 2 and v[0].upper() in COLUMNS and v[1:].isdigit():
            raise ValueError(f"vertex {vertex!r} is off the {size}x{size} board")
        if v[:1].upper() == "I" and v[1:].isdigit():
            raise ValueError(f"vertex {vertex!r}: GTP columns skip the letter I")
    raise ValueError(f"malformed vertex {vertex!r}: expected a GTP vertex such as 'D4' or 'pass'")


def vertex_name(index: int, size: int) -> str:
    """GTP vertex of a flat index (``"pass"`` for ``PASS``)."""
    if index == PASS:
        return "pass"
    return index_names(size)[index]
