"""The SGF parser: text to game trees, and ``iter_sgf``/``parse_sgf``, which read a file's bytes
into ``SgfGame`` records.

The parser is iterative (no recursion, so deeply nested variations are
fine): the bytes are decoded to text first (see ``decoding``) and a single
regular expression splits the text into tokens. A game tree becomes a flat
list of nodes in document order with the index of each node's parent; the
record (``record.build_record``) then reads the root and the main line.
What does not fit the grammar is skipped and noted as a warning of the game
tree; a tree with too many problems is not SGF.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, Union

from .decoding import decodings
from .errors import SgfError
from .record import RawTree, SgfGame, build_record

DEFAULT_MAX_NODES = 250_000  # nodes in one game tree, variations included

# --------------------------------------------------------------------------- tokenizer and tree reader
_TOKEN = re.compile(r"""
      ((?:;[BW]\[[a-z][a-z]\]|;\s*[BW]\s*\[[a-z]{0,2}\]\s*)+)  # 1: nodes holding one move each: the common case
    | ([A-Z]+)\s*\[([^\\\]]*(?:\\.[^\\\]]*)*)\]          # 2, 3: a property and its first value
    | \[([^\\\]]*(?:\\.[^\\\]]*)*)\]                     # 4: a further value
    | ([A-Za-z]+)                                        # 5: an identifier in old mixed case, or without value
    | ([;()])                                            # 6: node and game-tree delimiters
    | (\S)                                               # 7: anything else
""", re.VERBOSE | re.DOTALL)
_RAW_PAIRS = {f"{c}[{a}{b}]": (c, a + b) for c in "BW"  # every value [a-z]{0,2}
              for a in [""] + list("abcdefghijklmnopqrstuvwxyz") for b in [""] + list("abcdefghijklmnopqrstuvwxyz")}
# The start of a game tree: '(' before a node or a property, or a ';' and a property when the '(' is missing.
_TREE_SEARCH = re.compile(r"\((?=\s*(?:;|[A-Z][A-Za-z]*\s*\[))|;(?=\s*[A-Z][A-Za-z]*\s*\[)")
_LOWER = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")
_MAX_NOTES = 20  # syntax warnings kept per game tree
_MAX_PROBLEMS = 2000  # syntax problems after which a game tree is taken for garbage


class _Lines:
    """Line numbers of offsets in a text, counted incrementally (offsets mostly come in order)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _split_trees(text: str, max_nodes: int) -> list[RawTree]:
    """Split ``text`` into game trees of flat nodes. Never raises: what does
    not fit the grammar is skipped and noted in the tree's warnings."""
    trees: list[RawTree] = []
    lines = _Lines(text)
    pos = 0
    end = len(text)
    while pos < end:
        # Outside any game tree: skip to the next one ('(' or, when the '(' is missing, ';').
        start = _TREE_SEARCH.search(text, pos)
        if start is None:
            break
        tree = RawTree([], [], {}, [], start.start())
        trees.append(tree)
        pos = _read_tree(text, start, tree, lines, max_nodes)
    return [t for t in trees if t.nodes or t.too_big or t.garbage]


def _read_tree(text: str, start: re.Match, tree: RawTree, lines: _Lines, max_nodes: int) -> int:
    """Read one game tree from ``start`` into ``tree``; the offset where it ends."""
    nodes, parents, runs = tree.nodes, tree.parents, tree.runs
    stack: list[int] = []  # node index at each open '('
    cur = -1  # the node new nodes attach to
    node: dict[str, list[str]] | None = None  # the node receiving properties; None right after '(' or ')'
    key: str | None = None  # current property identifier
    vals: list[str] | None = None  # its value list in ``node``, once a value was seen

    def note(pos: int, msg: str) -> None:
        tree.problems += 1
        if tree.problems <= _MAX_NOTES:
            tree.warnings.append(f"line {lines.at(pos)}: {msg}")
        elif tree.problems == _MAX_NOTES + 1:
            tree.warnings.append("more syntax problems follow")

    def new_node(pos: int) -> dict[str, list[str]] | None:
        nonlocal cur
        if len(nodes) >= max_nodes:
            tree.too_big = True
            return None
        if cur < 0 and nodes:
            note(pos, "a second root node; read as a variation of the first")
            cur = 0
        n: dict[str, list[str]] = {}
        parents.append(cur)
        cur = len(nodes)
        nodes.append(n)
        return n

    first = start.end()
    if start.group() == ";":
        note(start.start(), "game tree does not start with '('")
        first = start.start()
    for m in _TOKEN.finditer(text, first):
        t = m.lastindex
        if tree.too_big:  # only look for the end of the tree
            if t == 6:
                d = m.group(6)
                if d == "(":
                    stack.append(cur)
                elif d == ")":
                    if not stack:
                        return m.end()
                    stack.pop()
            elif t == 7 and m.group(7) == "[":
                return len(text)
            continue
        if t == 1:  # ;B[xx];W[yy]...
            if vals is None and key is not None:
                note(m.start(), f"property {key} has no value")
            # "B[pd]" strings (their hashes are kept for the lookups in build_record) and shared
            # (colour, value) tuples: move-only nodes stay tuples until someone asks for them
            # (see SgfGame.nodes), far fewer objects for the garbage collector.
            keys = "".join(m.group(1).split()).split(";")
            del keys[0]
            pairs = list(map(_RAW_PAIRS.__getitem__, keys))
            base = len(nodes)
            if base + len(pairs) > max_nodes:
                tree.too_big = True
                continue
            if cur < 0 and nodes:
                note(m.start(), "a second root node; read as a variation of the first")
                cur = 0
            nodes += pairs
            key, v = pairs[-1]
            vals = [v]
            node = nodes[-1] = {key: vals}
            parents.append(cur)
            parents += range(base, base + len(pairs) - 1)
            runs[base] = keys
            cur = base + len(pairs) - 1
        elif t == 3:  # KEY[value]
            if vals is None and key is not None:
                note(m.start(), f"property {key} has no value")
            key = m.group(2)
            if node is None:
                note(m.start(), f"property {key} outside a node")
                node = new_node(m.start())
                if node is None:
                    continue
            vals = node.get(key)
            if vals is None:
                vals = node[key] = [m.group(3)]
            else:
                vals.append(m.group(3))
        elif t == 4:  # [value]
            if vals is not None:
                vals.append(m.group(4))
            elif key is not None and node is not None:
                vals = node.get(key)
                if vals is None:
                    vals = node[key] = []
                vals.append(m.group(4))
            else:
                note(m.start(), "a value without a property identifier")
        elif t == 5:  # an identifier with lower-case letters (AddBlack = AB), or without a value
            if key is not None and vals is None:
                note(m.start(), f"property {key} has no value")
            raw = m.group(5)
            key = raw.translate(_LOWER)
            vals = None
            if not key:
                note(m.start(), f"{raw[:20]!r} is not a property identifier")
                key = None
            elif node is None:
                note(m.start(), f"property {key} outside a node")
                node = new_node(m.start())
        elif t == 6:
            d = m.group(6)
            if key is not None and vals is None:
                note(m.start(), f"property {key} has no value")
            key = vals = None
            if d == ";":
                node = new_node(m.start())
            elif d == "(":
                stack.append(cur)
                node = None
            else:  # ")"
                node = None
                if not stack:
                    return m.end()
                cur = stack.pop()
        else:  # t == 7: a stray character
            ch = m.group(7)
            if ch == "[":
                # No closing bracket anywhere after this one: the file was cut short.
                note(m.start(), "property value not closed (file cut short?)")
                return len(text)
            note(m.start(), f"unexpected character {ch!r}")
            if tree.problems > _MAX_PROBLEMS:
                tree.garbage = True
                return len(text)
    # The text ended inside the game tree.
    tree.warnings.append(f"game tree not closed: {len(stack) + 1} ')' missing (file cut short?)")
    tree.problems += 1
    return len(text)



# --------------------------------------------------------------------------- bytes to records
def iter_sgf(data: bytes | str, source: str = "<sgf>", *, strict: bool = False,
             max_nodes: int = DEFAULT_MAX_NODES) -> Iterator[Union[SgfGame, SgfError]]:
    """Each game tree of an SGF file as an ``SgfGame``, or an ``SgfError`` for one
    that cannot be read (the others are still read). Never raises for bad input."""
    file_warnings: list[str] = []
    candidates: Iterable[tuple[str, str, str | None]]
    if isinstance(data, str):
        candidates = [(data[1:] if data.startswith("\ufeff") else data, "str", None)]
    else:
        candidates = decodings(bytes(data))
    best: tuple[int, list[RawTree], str, str, str | None] | None = None
    for text, encoding, note in candidates:
        trees = _split_trees(text, max_nodes)
        score = sum(t.problems for t in trees) if trees else 1 << 30
        if best is None or score < best[0]:
            best = (score, trees, encoding, text, note)
        if score == 0:
            break
    assert best is not None, "decodings() yields at least one candidate"
    _, trees, encoding, text, note = best
    if note:
        file_warnings.append(note)
    if not trees:
        raw = bytes(data[:4096], "utf-8") if isinstance(data, str) else bytes(data[:4096])
        binary = sum(1 for b in raw if b < 9 or 13 < b < 32) > len(raw) // 20
        yield SgfError("no SGF game tree found" + (" (binary data)" if binary else ""), source=source)
        return
    lines = _Lines(text)
    for i, raw_tree in enumerate(trees, 1):
        try:
            if raw_tree.too_big:
                raise SgfError(f"game tree has more than {max_nodes} nodes")
            if raw_tree.garbage or raw_tree.problems > max(_MAX_NOTES, len(raw_tree.nodes)):
                raise SgfError(f"{raw_tree.problems} syntax errors in {len(raw_tree.nodes)} nodes: not SGF")
            yield build_record(raw_tree, source, i, encoding, file_warnings, strict)
        except SgfError as e:
            if e.line is None:
                e.line = lines.at(raw_tree.start)
            yield e._fill(source, i)
        except (ValueError, IndexError, KeyError, TypeError) as e:  # pragma: no cover - a bug, reported not raised
            yield SgfError(f"unreadable game ({type(e).__name__}: {e})", source=source, game=i)


def parse_sgf(data: bytes | str, source: str = "<sgf>", *, strict: bool = False,
              max_nodes: int = DEFAULT_MAX_NODES) -> list[SgfGame]:
    """Every game tree of an SGF file or string; raises the first ``SgfError``."""
    games = []
    for item in iter_sgf(data, source, strict=strict, max_nodes=max_nodes):
        if isinstance(item, SgfError):
            raise item
        games.append(item)
    return games


