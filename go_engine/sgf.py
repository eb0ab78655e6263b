"""Reading and writing SGF game records (FF[1] to FF[4]).

Reading::

    from go_engine.sgf import parse_sgf, read_sgf_inputs
    games = parse_sgf(data, source="game.sgf")        # list of SgfGame, one per game tree
    game = games[0].replay()                           # a go_engine.Game, or ReplayError
    for source, item in read_sgf_inputs(["records/", "kgs.tar.gz"]):
        ...                                            # item is an SgfGame or an SgfError

Writing::

    text = write_sgf(game, black="Tengen", white="GNU Go", result="B+R")

The parser is iterative (no recursion, so deeply nested variations are
fine): the bytes are decoded to text first (BOM, then ``CA[]``, then a guess
that never fails) and a single regular expression splits the text into
tokens. A game tree becomes a flat list of nodes in document order with the
index of each node's parent; the main line (first child at every branch) is
then the longest prefix in which every node is the child of the one before.

Coordinates: SGF ``aa`` is the top-left point. The SGF column letter ``a + i``
is GTP column ``i`` (GTP letters skip ``I``) and SGF row ``a + r`` is GTP row
``size - r``. ``B[]`` is a pass, and so is ``B[tt]`` on boards up to 19x19.

Errors are ``SgfError`` (a ``ValueError``) naming the source, the game number
in the file (from 1), the move number (from 1) or line where they apply, and
the reason. What a reader can recover from (a missing leading ``(``, a file
cut short, stray characters) is recorded in ``SgfGame.warnings`` instead,
unless ``strict=True`` is passed, which turns warnings into errors.
"""

from __future__ import annotations

import codecs
import datetime
import gzip
import math
import os
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, Union

from .coords import COLUMNS, MAX_SIZE, MIN_SIZE
from .game import Game, IllegalMove, Outcome
from .rules import PRESETS, Rules, get_rules

__all__ = [
    "SgfError", "ReplayError", "SgfGame", "Setup", "Result", "ReadStats",
    "parse_sgf", "iter_sgf", "read_sgf_file", "read_sgf_inputs", "write_sgf",
    "parse_komi", "parse_result", "rules_preset", "sgf_to_vertex", "vertex_to_sgf", "escape_text",
    "unescape_text", "DEFAULT_MAX_NODES",
]

DEFAULT_MAX_NODES = 250_000  # nodes in one game tree, variations included
DEFAULT_MAX_BYTES = 256 << 20  # one SGF file, after decompression
_SGF_SUFFIXES = (".sgf", ".sgfs")
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


# --------------------------------------------------------------------------- errors
class SgfError(ValueError):
    """A record that cannot be read, or a game that cannot be used.

    ``source`` (file name), ``game`` (number of the game tree in the file, from
    1), ``line`` (where that game tree starts), ``move`` (main-line move number,
    from 1) are filled in where known; ``reason`` is the bare explanation.
    ``str()`` joins them:
    ``"kgs.tar.gz:2003/x.sgf: game 1 (line 1): move 57: B[zz] is off the 19x19 board"``.
    """

    def __init__(self, reason: str, source: str | None = None, game: int | None = None,
                 move: int | None = None, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.source = source
        self.game = game
        self.move = move
        self.line = line

    def __str__(self) -> str:
        parts = []
        if self.source:
            parts.append(str(self.source))
        if self.game is not None:
            parts.append(f"game {self.game}" + (f" (line {self.line})" if self.line is not None else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.move is not None:
            parts.append(f"move {self.move}")
        parts.append(self.reason)
        return ": ".join(parts)

    def _fill(self, source: str | None = None, game: int | None = None) -> "SgfError":
        if self.source is None:
            self.source = source
        if self.game is None:
            self.game = game
        return self


class ReplayError(SgfError):
    """A record whose setup or moves break the rules it is replayed under."""


# --------------------------------------------------------------------------- small value types
@dataclass
class Setup:
    """Stones placed (``AB``, ``AW``) or removed (``AE``) as GTP vertices, and ``PL``."""

    black: list[str] = field(default_factory=list)
    white: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    to_play: str | None = None

    def __bool__(self) -> bool:
        return bool(self.black or self.white or self.empty or self.to_play)


@dataclass(frozen=True)
class Result:
    """An ``RE`` value: ``raw`` as written, ``winner`` ``"B"``/``"W"``/``None``,
    ``reason`` one of ``score``, ``resignation``, ``time``, ``forfeit``, ``draw``,
    ``void``, ``unknown``, ``other``, and ``margin`` in points for ``score``."""

    raw: str
    winner: str | None
    reason: str
    margin: float | None = None

    def sgf(self) -> str:
        """The result in the canonical FF[4] spelling (``B+R``, ``W+3.5``, ``0``, ``Void``, ``?``)."""
        if self.reason == "draw":
            return "0"
        if self.reason == "void":
            return "Void"
        if self.winner is None:
            return "?"
        tail = {"resignation": "R", "time": "T", "forfeit": "F"}.get(self.reason)
        if tail is None:
            tail = _fmt_number(self.margin) if self.margin is not None else ""
        return f"{self.winner}+{tail}"


@dataclass
class ReadStats:
    """Counts kept by ``read_sgf_inputs``: files read, games yielded, errors
    yielded, files skipped (not SGF or archives), and games with warnings."""

    files: int = 0
    games: int = 0
    errors: int = 0
    skipped: int = 0
    warnings: int = 0


# --------------------------------------------------------------------------- coordinates
@lru_cache(maxsize=None)
def _move_table(size: int) -> dict[str, str]:
    """SGF move value -> GTP vertex or ``"pass"`` on a board of ``size``."""
    table = {}
    for c in range(size):
        for r in range(size):
            table[chr(97 + c) + chr(97 + r)] = f"{COLUMNS[c]}{size - r}"
    table[""] = "pass"
    if size <= 19:
        table["tt"] = "pass"
    return table


@lru_cache(maxsize=None)
def _move_keys(size: int) -> dict[str, tuple[str, str]]:
    """``"B[pd]"`` -> (colour, GTP vertex or "pass"), shared tuples."""
    return {f"{c}[{k}]": (c, v) for c in "BW" for k, v in _move_table(size).items()}


@lru_cache(maxsize=None)
def _stone_table(size: int) -> dict[str, tuple[int, int]]:
    """SGF point -> (sgf column, sgf row) for points on the board."""
    return {chr(97 + c) + chr(97 + r): (c, r) for c in range(size) for r in range(size)}


@lru_cache(maxsize=None)
def _vertex_to_sgf_table(size: int) -> dict[str, str]:
    return {v: k for k, v in _move_table(size).items() if v != "pass"}


def sgf_to_vertex(value: str, size: int) -> str:
    """GTP vertex (or ``"pass"``) of an SGF move value on a ``size`` board; ``ValueError`` if off the board."""
    v = _move_table(size).get(value.strip())
    if v is None:
        raise ValueError(f"{value!r} is not a point on the {size}x{size} board")
    return v


def vertex_to_sgf(vertex: str, size: int) -> str:
    """SGF move value of a GTP vertex (``""`` for a pass)."""
    if vertex.strip().lower() == "pass":
        return ""
    p = _vertex_to_sgf_table(size).get(vertex.strip().upper())
    if p is None:
        raise ValueError(f"vertex {vertex!r} is not on the {size}x{size} board")
    return p


# --------------------------------------------------------------------------- value parsing
_SOFT_OR_ESCAPE = re.compile(r"\\(\r\n|\n\r|\r|\n|.)", re.DOTALL)
_LINEBREAK = re.compile(r"\r\n|\n\r|\r")


def _unescape_sub(m: re.Match) -> str:
    c = m.group(1)
    return "" if c[0] in "\r\n" else c


def unescape_text(value: str, simple: bool = False) -> str:
    """The text of an SGF Text value: escapes and soft line breaks removed, line
    breaks as ``\\n``; with ``simple`` (SimpleText) line breaks become spaces."""
    if "\\" in value:
        value = _SOFT_OR_ESCAPE.sub(_unescape_sub, value)
    if "\r" in value:
        value = _LINEBREAK.sub("\n", value)
    if simple:
        value = value.replace("\n", " ")
    return value


def escape_text(text: str) -> str:
    """An SGF value for ``text`` (backslash and ``]`` escaped)."""
    return text.replace("\\", "\\\\").replace("]", "\\]")


_KOMI_RE = re.compile(r"""^\s*([+-]?)\s*(\d*)(?:[.,](\d*))?\s*(?:(\d+)\s*/\s*(\d+)|(½))?\s*
                          (?:points?|pts?\.?|moku|目半?)?\s*$""", re.VERBOSE | re.IGNORECASE)


@lru_cache(maxsize=4096)
def parse_komi(raw: str) -> float | None:
    """Komi in points from a ``KM`` value, or ``None`` when it is not a number.

    Accepts ``6.5``, ``6,5``, ``0.50``, ``+7.5``, ``5 1/2``, ``6½``, ``7.5 points``.
    Fox writes komi times 100 (``KM[650]`` = 6.5), and in stones when the
    hundredths are a quarter (``KM[375]`` = 3.75 stones = 7.5 points): integers
    of 100 or more that are multiples of 25 are read that way.
    """
    m = _KOMI_RE.match(raw)
    if not m or not (m.group(2) or m.group(3) or m.group(4) or m.group(6)):
        return None
    sign, whole, frac, num, den, half = m.groups()
    value = float(whole or 0)
    if frac:
        value += float("0." + frac)
    if num:
        if int(den) == 0:
            return None
        value += int(num) / int(den)
    if half:
        value += 0.5
    if not math.isfinite(value):
        return None
    if not frac and not num and not half and value >= 100 and value % 25 == 0:
        value /= 100.0
        if (value * 4) % 2 == 1:  # 3.75 stones -> 7.5 points
            value *= 2
    return -value if sign == "-" else value


_RESULT_WORDS = {
    "r": "resignation", "res": "resignation", "resign": "resignation", "resigns": "resignation",
    "resignation": "resignation", "t": "time", "time": "time", "timeout": "time", "time over": "time",
    "f": "forfeit", "forfeit": "forfeit", "illegal": "forfeit",
}
_RESULT_RE = re.compile(r"^\s*([BW])\s*\+\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)
_WINS_RE = re.compile(r"^\s*(black|white)\s+(?:wins|won)\b(?:\s+by\s+(.*?))?\s*$", re.IGNORECASE)
_RESIGNS_RE = re.compile(r"^\s*(black|white)\s+resign", re.IGNORECASE)


@lru_cache(maxsize=4096)
def parse_result(raw: str) -> Result:
    """Read an ``RE`` value: ``B+R``, ``B+Resign``, ``W+T``, ``W+Time``, ``B+F``,
    ``B+Forfeit``, ``B+3.5``, ``0``, ``Draw``, ``Void``, ``?`` and a few spellings
    seen in the wild (``White resigns.``, ``black wins by 5 3/4 points``, 黑中盘胜)."""
    s = raw.strip()
    low = s.lower()
    if low in ("0", "0.0", "jigo", "d", "tie") or low.startswith("draw") or s in ("和棋", "持碁", "무승부"):
        return Result(raw, None, "draw")
    if low.startswith("void") or s in ("无胜负", "無勝負"):
        return Result(raw, None, "void")
    if low in ("", "?", "unknown", "none"):
        return Result(raw, None, "unknown")
    m = _RESULT_RE.match(s)
    if m:
        winner = m.group(1).upper()
        rest = m.group(2)
        key = rest.lower().rstrip(".")
        if key in _RESULT_WORDS:
            return Result(raw, winner, _RESULT_WORDS[key])
        if not rest:
            return Result(raw, winner, "unknown")
        margin = parse_komi(rest) if re.match(r"^[\d.,]", rest) else None
        if margin is not None and not re.search(r"[A-Za-z]", rest):
            return Result(raw, winner, "score", margin)
        first = re.split(r"[\s,.;]", key, maxsplit=1)[0]
        if first in _RESULT_WORDS:
            return Result(raw, winner, _RESULT_WORDS[first])
        return Result(raw, winner, "other")
    if low in ("b", "w", "black", "white"):
        return Result(raw, low[0].upper(), "unknown")
    m = _RESIGNS_RE.match(s)
    if m:
        return Result(raw, "W" if m.group(1).lower() == "black" else "B", "resignation")
    m = _WINS_RE.match(s)
    if m:
        winner = m.group(1)[0].upper()
        by = (m.group(2) or "").strip()
        margin = parse_komi(re.sub(r"\s*points?\.?$", "", by)) if by else None
        if margin is not None:
            return Result(raw, winner, "score", margin)
        return Result(raw, winner, _RESULT_WORDS.get(by.lower().rstrip("."), "unknown" if not by else "other"))
    if s[:1] in ("黑", "黒", "白", "흑", "백"):
        winner = "B" if s[0] in "黑黒흑" else "W"
        if any(w in s for w in ("中盘", "中盤", "中押", "불계")):
            return Result(raw, winner, "resignation")
        if any(w in s for w in ("超时", "超時", "時間切れ", "시간")):
            return Result(raw, winner, "time")
        if any(w in s for w in ("胜", "勝", "승")):
            return Result(raw, winner, "unknown")
    return Result(raw, None, "other")


_RULES_EXACT = {
    "japanese": "japanese", "jp": "japanese", "japan": "japanese", "nihon": "japanese",
    "chinese": "chinese", "cn": "chinese", "china": "chinese",
    "korean": "korean", "kr": "korean", "korea": "korean",
    "aga": "aga", "american": "aga", "nz": "nz", "new zealand": "nz",
    "tromp-taylor": "tromp-taylor", "tromp taylor": "tromp-taylor", "tromp/taylor": "tromp-taylor",
    "tromptaylor": "tromp-taylor", "tt": "tromp-taylor", "tt--": "tromp-taylor",
    "ing": "ing", "goe": "ing", "ing goe": "ing", "sst": "ing",
    "bga": "bga", "british": "bga", "french": "french",
}
_RULES_PATTERNS = tuple((re.compile(p), preset) for p, preset in (
    (r"\bjapan|日本", "japanese"), (r"\bchin|中国|中國", "chinese"), (r"\bkorea|韩国|韓國|한국", "korean"),
    (r"\btromp", "tromp-taylor"), (r"zealand", "nz"), (r"\bing\b|应氏|應氏", "ing"), (r"\baga\b|\bamerican", "aga"),
    (r"\bbritish", "bga"), (r"\bfrench", "french"),
))


@lru_cache(maxsize=4096)
def rules_preset(ru: str | None) -> str | None:
    """The ``go_engine.rules`` preset name for an ``RU`` value, or ``None`` when unknown."""
    if not ru:
        return None
    key = re.sub(r"\s+", " ", ru.strip().lower())
    key = re.sub(r"\s*rules?$", "", key)
    if key in PRESETS:
        return key
    if key in _RULES_EXACT:
        return _RULES_EXACT[key]
    try:
        return get_rules(key).name
    except ValueError:
        pass
    for pattern, preset in _RULES_PATTERNS:
        if pattern.search(key):
            return preset
    return None


_PRESET_TO_RU = {"japanese": "Japanese", "chinese": "Chinese", "korean": "Korean", "aga": "AGA", "nz": "NZ",
                 "tromp-taylor": "Tromp-Taylor", "ing": "Ing", "bga": "BGA", "french": "French"}


def _fmt_number(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


_PL = {"b": "B", "w": "W", "black": "B", "white": "W", "1": "B", "2": "W"}


# --------------------------------------------------------------------------- decoding
_CHARSET_ALIASES = {
    # Decode with the superset Windows/extended codec of what the CA names.
    "gb2312": "gb18030", "gbk": "gb18030", "euccn": "gb18030", "xeuccn": "gb18030", "cp936": "gb18030",
    "gb231280": "gb18030", "chinese": "gb18030", "csgb2312": "gb18030", "hzgb2312": "hz", "gb18030": "gb18030",
    "big5": "big5hkscs", "big5hkscs": "big5hkscs", "cp950": "big5hkscs", "xxbig5": "big5hkscs",
    "shiftjis": "cp932", "sjis": "cp932", "xsjis": "cp932", "mskanji": "cp932", "cp932": "cp932",
    "windows31j": "cp932", "csshiftjis": "cp932",
    "euckr": "cp949", "cp949": "cp949", "ksc56011987": "cp949", "ksc5601": "cp949", "uhc": "cp949",
    "iso88591": "cp1252", "latin1": "cp1252", "iso885915": "iso8859_15", "ascii": "cp1252",
    "usascii": "cp1252", "iso88591default": "cp1252",
    "utf8": "utf-8", "utf16": "utf-16", "unicode": "utf-8",
}
_CA_RE = re.compile(rb"(?<![A-Za-z])CA\s*\[([^\]]{0,40})\]")


def _codec_for(ca: str) -> str | None:
    key = re.sub(r"[^a-z0-9]", "", ca.lower())
    name = _CHARSET_ALIASES.get(key)
    if name is None:
        try:
            name = codecs.lookup(ca.strip()).name
        except LookupError:
            return None
    return name


def _plausibility(text: str) -> int:
    """A rough score of how much a decoded text looks like real CJK or Latin text:
    common characters count for it; control characters, private-use ones and
    CJK characters wedged against Latin letters (the mark of a wrong guess) against."""
    score = 0
    for i, ch in enumerate(text):
        o = ord(ch)
        if o < 128:
            continue
        if 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7A3 or 0x4E00 <= o <= 0x9FFF:
            if 0x3040 <= o <= 0x30FF:  # kana
                score += 3
            elif o >= 0xAC00:  # hangul
                score += 2 if _encodable(ch, "euc_kr") else -1
            elif _encodable(ch, "gb2312"):
                score += 2
            elif _encodable(ch, "big5"):
                score += 1
            near = text[i - 1:i] + text[i + 1:i + 2]
            if any("a" <= c <= "z" or "A" <= c <= "Z" for c in near):
                score -= 3
        elif 0xFF61 <= o <= 0xFF9F or 0xE000 <= o <= 0xF8FF or o == 0xFFFD or 0x80 <= o < 0xA0:
            score -= 2
        elif 0xC0 <= o <= 0x17F:  # accented Latin: inside words of ASCII letters
            near = text[i - 1:i] + text[i + 1:i + 2]
            score += 1 if any("a" <= c <= "z" or "A" <= c <= "Z" for c in near) else -1
    return score


def _encodable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
        return True
    except UnicodeEncodeError:
        return False


_MULTI_BYTE = ("utf", "gb", "big5", "cp932", "cp936", "cp949", "cp950", "euc", "iso2022", "hz", "shift", "johab")


def _decodings(data: bytes) -> Iterator[tuple[str, str, str | None]]:
    """Decodings of ``data`` to try, best first, as (text, codec, warning or None).

    More than one is produced only when the encoding has to be guessed; the
    parser then takes the first that splits into well-formed SGF, so a wrong
    guess that swallows a ']' into a double-byte character is passed over."""
    if data.startswith(codecs.BOM_UTF8):
        yield data[3:].decode("utf-8", "replace"), "utf-8", None
        return
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        yield data.decode("utf-32", "replace"), "utf-32", None
        return
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        yield data.decode("utf-16", "replace"), "utf-16", None
        return
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 10 >= len(head):
        # NUL bytes: UTF-16 without a BOM, with the zero half of ASCII characters on one side.
        evens, odds = head[0::2].count(0), head[1::2].count(0)
        if odds > 4 * evens:
            yield data.decode("utf-16-le", "replace"), "utf-16-le", None
            return
        if evens > 4 * odds:
            yield data.decode("utf-16-be", "replace"), "utf-16-be", None
            return
    m = _CA_RE.search(data)
    declared = ca = None
    note = None
    if m:
        ca = m.group(1).decode("ascii", "replace").strip()
        declared = _codec_for(ca)
        if declared is None:
            note = f"unknown charset CA[{ca}]"
        elif declared in ("utf-16", "utf-32"):
            declared = None  # a BOM-less UTF-16 file would have been caught above
    single = declared is not None and not codecs.lookup(declared).name.startswith(_MULTI_BYTE)
    if declared and not single:
        try:
            yield data.decode(declared), declared, None
            return
        except (UnicodeDecodeError, LookupError):
            note = f"text is not valid {ca}"
    try:
        yield data.decode("utf-8"), "utf-8", note
        return
    except UnicodeDecodeError:
        pass
    if single:  # a single-byte charset always decodes
        yield data.decode(declared, "replace"), declared, note
        return
    # No usable CA and not UTF-8: damaged UTF-8 (Fox replaces bytes with '?'),
    # or one of the CJK double-byte encodings, or a Latin one.
    note = (note + "; " if note else "") + ("no CA[] and " if not m else "") + "not UTF-8"
    loose = data.decode("utf-8", "replace")
    bad = loose.count("\ufffd")
    good = sum(1 for ch in loose if ord(ch) > 127) - bad
    damaged = good >= bad
    if damaged:
        yield loose, "utf-8", f"{note}: {bad} invalid bytes replaced"
    scored = []
    order = ["gb18030", "cp932", "cp949", "big5hkscs", "cp1252"]
    if b"\x1b$" in data or b"\x1b(" in data:
        order.insert(0, "iso2022_jp")
    for i, codec in enumerate(order):
        try:
            text = data.decode(codec, "replace" if codec == "cp1252" else "strict")
        except UnicodeDecodeError:
            continue
        scored.append((-_plausibility(text[:20000]), i, text, codec))
    scored.sort(key=lambda t: t[:2])
    for _, _, text, codec in scored:
        yield text, codec, f"{note}: read as {codec}"
    if not damaged:
        yield loose, "utf-8", f"{note}: {bad} invalid bytes replaced"


# --------------------------------------------------------------------------- tokenizer and tree builder
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


@dataclass
class _RawTree:
    nodes: list  # property dicts (identifier -> list of raw values), in document order
    parents: list  # index of each node's parent, -1 for the root
    runs: dict  # first node index -> ["B[pd]", ...] for runs of move-only nodes
    warnings: list
    start: int  # offset in the text where the game tree starts
    problems: int = 0  # syntax problems, to choose among guessed encodings
    too_big: bool = False  # more than max_nodes nodes
    garbage: bool = False  # more than _MAX_PROBLEMS syntax problems: not SGF


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


def _split_trees(text: str, max_nodes: int) -> list[_RawTree]:
    """Split ``text`` into game trees of flat nodes. Never raises: what does
    not fit the grammar is skipped and noted in the tree's warnings."""
    trees: list[_RawTree] = []
    lines = _Lines(text)
    pos = 0
    end = len(text)
    while pos < end:
        # Outside any game tree: skip to the next one ('(' or, when the '(' is missing, ';').
        start = _TREE_SEARCH.search(text, pos)
        if start is None:
            break
        tree = _RawTree([], [], {}, [], start.start())
        trees.append(tree)
        pos = _read_tree(text, start, tree, lines, max_nodes)
    return [t for t in trees if t.nodes or t.too_big or t.garbage]


def _read_tree(text: str, start: re.Match, tree: _RawTree, lines: _Lines, max_nodes: int) -> int:
    """Read one game tree from ``start`` into ``tree``; the offset where it ends."""
    nodes, parents, runs = tree.nodes, tree.parents, tree.runs
    stack: list = []  # node index at each open '('
    cur = -1  # the node new nodes attach to
    node = None  # the dict receiving properties; None right after '(' or ')'
    key = None  # current property identifier
    vals = None  # its value list in ``node``, once a value was seen

    def note(pos: int, msg: str) -> None:
        tree.problems += 1
        if tree.problems <= _MAX_NOTES:
            tree.warnings.append(f"line {lines.at(pos)}: {msg}")
        elif tree.problems == _MAX_NOTES + 1:
            tree.warnings.append("more syntax problems follow")

    def new_node(pos: int) -> dict | None:
        nonlocal cur
        if len(nodes) >= max_nodes:
            tree.too_big = True
            return None
        if cur < 0 and nodes:
            note(pos, "a second root node; read as a variation of the first")
            cur = 0
        n = {}
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
            # "B[pd]" strings (their hashes are kept for the lookups in _build) and shared
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
            elif key is not None:
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


# --------------------------------------------------------------------------- the game record
_GAME_INFO = {"PB": "black", "PW": "white", "BR": "black_rank", "WR": "white_rank", "DT": "date",
              "EV": "event", "GN": "name", "PC": "place", "RO": "round", "BT": "black_team", "WT": "white_team"}


_DATE_RE = re.compile(r"(?<!\d)(\d{4})(?:[-./](\d{1,2})(?:[-./](\d{1,2}))?)?(?!\d)")


class SgfGame:
    """One game tree of an SGF file, read.

    Attributes:
      ``source``, ``number`` (game tree in the file, from 1), ``encoding`` used to decode it;
      ``size``; ``komi`` (points; ``komi_raw`` as written, ``None`` if absent); ``handicap`` (``HA``, 0 if absent);
      ``rules`` (a ``go_engine.rules`` preset name; ``chinese`` when ``RU`` is absent or unknown),
      ``rules_raw`` (``RU`` as written) and ``rules_known``;
      ``result`` (a ``Result`` or ``None``); ``black``, ``white``, ``black_rank``, ``white_rank``, ``date``,
      ``event``, ``name``, ``place``, ``round``, ``black_team``, ``white_team`` (text or ``None``;
      ``played_on`` reads ``date``);
      ``root``: the root node's properties as raw values (identifier -> list of str);
      ``setup``: the stones set up before the first move (root and following nodes, merged) and ``PL``;
      ``later_setups``: ``[(moves_played_before, Setup)]`` for setup nodes after the first move;
      ``moves``: the main line as ``[(colour, vertex)]``, ``vertex`` a GTP vertex or ``"pass"``;
      ``comments``: ``{move number: text}``, 0 for comments before the first move;
      ``nodes`` and ``parents``: every node of the tree (raw properties) in document order, with the
      index of its parent; the main line is ``nodes[:main_length]``;
      ``warnings``: what was odd but could be read (an empty list for a clean record).
    """

    source: str
    number: int
    _materialized = False
    size: int
    komi: float
    handicap: int
    moves: list

    @property
    def nodes(self) -> list[dict[str, list[str]]]:
        """Every node of the game tree (variations included) in document order, as
        dicts of property identifier -> raw values; ``parents[i]`` is node i's parent."""
        nodes = self._nodes
        if not self._materialized:
            for i, n in enumerate(nodes):
                if type(n) is tuple:
                    nodes[i] = {n[0]: [n[1]]}
            self._materialized = True
        return nodes

    def children(self, index: int) -> list[int]:
        """Indices of the children of node ``index``, first child (main line) first."""
        return [i for i in range(index + 1, len(self.parents)) if self.parents[i] == index]

    def get(self, prop: str, default: str | None = None) -> str | None:
        """The first value of root property ``prop`` as text (escapes removed), or ``default``."""
        vals = self.root.get(prop)
        if not vals:
            return default
        return unescape_text(vals[0], simple=prop not in ("C", "GC"))

    @property
    def played_on(self) -> datetime.date | None:
        """The first date of ``DT`` (``2003-09-25``, ``2003.09.25``, ``2003/9/25``; ``2003-09`` and
        ``2003`` give the first day), or ``None`` when there is none that can be read."""
        m = _DATE_RE.search(self.date or "")
        if not m:
            return None
        try:
            return datetime.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
        except ValueError:
            return None

    @property
    def to_play(self) -> str:
        """Who moves first after the setup: ``PL``, else the colour of the first move, else
        White when there are handicap stones, else Black."""
        if self.setup.to_play:
            return self.setup.to_play
        if self.moves:
            return self.moves[0][0]
        return "W" if self.setup.black and not self.setup.white else "B"

    def info(self) -> dict:
        """Keyword arguments for ``write_sgf`` that carry this record's game information over."""
        out = {k: getattr(self, k) for k in ("black", "white", "black_rank", "white_rank", "date", "event",
                                             "name", "place") if getattr(self, k) is not None}
        if self.result is not None:
            out["result"] = self.result.raw
        if self.comments:
            out["comments"] = dict(self.comments)
        return out

    def replay(self, rules: str | Rules | None = None, komi: float | None = None, *, moves: int | None = None,
               after_two_passes: str = "continue") -> Game:
        """A ``Game`` with the setup and the main-line moves played.

        ``rules`` and ``komi`` default to the record's. ``moves`` stops after that many moves.
        ``after_two_passes`` says what to do with moves recorded after two passes in a row
        (play resumed, as servers allow): ``"continue"`` plays them, ``"stop"`` returns the
        game at the two passes, ``"error"`` raises. Raises ``ReplayError`` naming the move
        number for a move (or setup) the rules forbid."""
        if after_two_passes not in ("continue", "stop", "error"):
            raise ValueError(f"after_two_passes must be 'continue', 'stop' or 'error', not {after_two_passes!r}")
        ctx = dict(source=self.source, game=self.number)
        try:
            game = Game(self.size, self.komi if komi is None else komi, self.rules if rules is None else rules)
        except ValueError as e:
            raise ReplayError(str(e), **ctx) from None
        s = self.setup
        if s:
            try:
                game.setup(black=s.black, white=s.white, empty=s.empty, to_play=self.to_play)
            except ValueError as e:
                raise ReplayError(f"illegal setup: {e}", **ctx) from None
        game.handicap = self.handicap
        later = self.later_setups
        li = 0
        limit = len(self.moves) if moves is None else min(moves, len(self.moves))
        passes = 0
        play = game.play
        for i in range(limit):
            while li < len(later) and later[li][0] <= i:
                self._apply_setup(game, later[li][1], i + 1)
                li += 1
            c, v = self.moves[i]
            if passes >= 2:
                if after_two_passes == "stop":
                    return game
                if after_two_passes == "error":
                    raise ReplayError(f"{c} {v} is played after the game ended by two passes", move=i + 1, **ctx)
                _resume(game)
                passes = 0
            try:
                play(v, c)
            except IllegalMove as e:
                raise ReplayError(str(e), move=i + 1, **ctx) from None
            passes = passes + 1 if v == "pass" else 0
        if moves is None or moves >= len(self.moves):
            while li < len(later):
                self._apply_setup(game, later[li][1], len(self.moves) + 1)
                li += 1
        return game

    def _apply_setup(self, game: Game, s: Setup, move: int) -> None:
        if game.is_over:
            _resume(game)
        try:
            game.setup(black=s.black, white=s.white, empty=s.empty, to_play=s.to_play)
        except ValueError as e:
            raise ReplayError(f"illegal setup before move {move}: {e}", source=self.source, game=self.number) from None

    def __repr__(self) -> str:
        return (f"SgfGame(source={self.source!r}, number={self.number}, size={self.size}, komi={self.komi}, "
                f"handicap={self.handicap}, rules={self.rules!r}, moves={len(self.moves)})")


def _resume(game: Game) -> None:
    """Let play go on after two passes (records where play resumed after a pass-pass)."""
    game.resume()


def _points(values: list, size: int, prop: str) -> list[str]:
    """GTP vertices of an SGF point list (compressed ``aa:cc`` rectangles allowed)."""
    table = _move_table(size)
    out = []
    for raw in values:
        v = raw.strip()
        if not v:
            continue
        if ":" in v:
            a, _, b = v.partition(":")
            st = _stone_table(size)
            pa, pb = st.get(a.strip()), st.get(b.strip())
            if pa is None or pb is None:
                raise SgfError(f"{prop}[{raw}]: not a rectangle of points on the {size}x{size} board")
            for c in range(min(pa[0], pb[0]), max(pa[0], pb[0]) + 1):
                for r in range(min(pa[1], pb[1]), max(pa[1], pb[1]) + 1):
                    out.append(f"{COLUMNS[c]}{size - r}")
            continue
        vertex = table.get(v)
        if vertex is None or vertex == "pass":
            raise SgfError(f"{prop}[{raw}] is not a point on the {size}x{size} board")
        out.append(vertex)
    return out


def _bad_move(colour: str, raw: str, size: int) -> str:
    if len(raw) == 2 and raw.isalpha():
        return f"{colour}[{raw}] is off the {size}x{size} board"
    return f"{colour}[{raw}] is not a move"


def _fixed_handicap(size: int, stones: int, moves: list) -> list[str]:
    """The fixed handicap stones of a record that gives HA but no AB: the GTP points,
    except that for 6 and 7 stones the side points may be the top and bottom ones
    (K16, K4: Fox's placement) instead of the left and right ones (D10, Q10). The
    layout whose points the moves of the game leave alone is taken."""
    from .game import handicap_vertices
    try:
        verts = handicap_vertices(size, stones)
    except ValueError:
        return []
    if stones in (6, 7):
        mid, lo, hi = size // 2, (2 if size < 13 else 3), size - 1 - (2 if size < 13 else 3)
        sides = {f"{COLUMNS[lo]}{mid + 1}": f"{COLUMNS[mid]}{hi + 1}",  # D10 -> K16
                 f"{COLUMNS[hi]}{mid + 1}": f"{COLUMNS[mid]}{lo + 1}"}  # Q10 -> K4
        alt = [sides.get(v, v) for v in verts]
        played = {v for _, v in moves}
        if sum(v in played for v in verts) > sum(v in played for v in alt):
            verts = alt
    return verts


def _read_size(root: dict) -> int:
    vals = root.get("SZ")
    if not vals:
        return 19
    raw = vals[0].strip()
    a, colon, b = raw.partition(":")
    try:
        cols = int(a)
        rows = int(b) if colon else cols
    except ValueError:
        raise SgfError(f"SZ[{raw}] is not a board size") from None
    if cols != rows:
        raise SgfError(f"SZ[{raw}]: rectangular boards are not supported")
    if not MIN_SIZE <= cols <= MAX_SIZE:
        raise SgfError(f"SZ[{raw}]: board size must be from {MIN_SIZE} to {MAX_SIZE}")
    return cols


def _build(raw: _RawTree, source: str, number: int, encoding: str, file_warnings: list, strict: bool,
           max_nodes: int) -> SgfGame:
    if raw.too_big:
        raise SgfError(f"game tree has more than {max_nodes} nodes")
    if raw.garbage or raw.problems > max(_MAX_NOTES, len(raw.nodes)):
        raise SgfError(f"{raw.problems} syntax errors in {len(raw.nodes)} nodes: not SGF")
    nodes, parents = raw.nodes, raw.parents
    warnings = list(file_warnings) + raw.warnings
    if strict and warnings:
        raise SgfError(warnings[0])
    root = nodes[0]
    if type(root) is tuple:
        root = nodes[0] = {root[0]: [root[1]]}
    g = SgfGame()
    g.source, g.number, g.encoding = source, number, encoding
    g.root, g._nodes, g.parents, g.warnings = root, nodes, parents, warnings

    gm = root.get("GM")
    if gm and gm[0].strip() not in ("1", ""):
        if gm[0].strip().isdigit():
            raise SgfError(f"GM[{gm[0].strip()}] is not a game of Go")
        warnings.append(f"GM[{gm[0]}] is not a number")
    ff = root.get("FF")
    g.ff = None
    if ff:
        try:
            g.ff = int(ff[0])
            if not 1 <= g.ff <= 4:
                warnings.append(f"FF[{ff[0]}] is not an SGF version from 1 to 4")
        except ValueError:
            warnings.append(f"FF[{ff[0]}] is not a number")
    size = g.size = _read_size(root)

    km = root.get("KM")
    g.komi_raw = km[0] if km else None
    g.komi = 0.0
    if km:
        k = parse_komi(km[0])
        if k is None:
            warnings.append(f"KM[{km[0]}] is not a number; komi 0 used")
        else:
            g.komi = k
    ha = root.get("HA")
    g.handicap = 0
    if ha:
        try:
            g.handicap = int(ha[0].strip())
        except ValueError:
            warnings.append(f"HA[{ha[0]}] is not a number; handicap 0 used")
        if g.handicap < 0:
            warnings.append(f"HA[{ha[0]}] is negative; handicap 0 used")
            g.handicap = 0
    ru = root.get("RU")
    g.rules_raw = unescape_text(ru[0], simple=True) if ru else None
    preset = rules_preset(g.rules_raw)
    g.rules_known = preset is not None
    g.rules = preset or "chinese"
    re_ = root.get("RE")
    g.result = parse_result(unescape_text(re_[0], simple=True)) if re_ else None
    for prop, attr in _GAME_INFO.items():
        vals = root.get(prop)
        setattr(g, attr, unescape_text(vals[0], simple=True) if vals else None)

    # The main line: nodes[0..n) where each node is the first child of the one before.
    n = 1
    total = len(nodes)
    runs = raw.runs
    while n < total and parents[n] == n - 1:
        keys = runs.get(n)
        n += len(keys) if keys is not None else 1  # inside a run each node is the next's parent
    g.main_length = n

    table = _move_table(size)
    move_keys = _move_keys(size)
    moves: list = []
    comments: dict = {}
    setup_board: dict = {}  # vertex -> "B" / "W" / None, merged setup before the first move
    setup_pl = None
    later: list = []
    append = moves.append
    def read_move(colour: str, vals: list[str]) -> tuple[str, int]:
        v = table.get(vals[0])
        if v is None:
            v = table.get(vals[0].strip())
            if v is None:
                raise SgfError(_bad_move(colour, vals[0], size), move=len(moves) + 1)
        if len(vals) > 1:
            warnings.append(f"move {len(moves) + 1}: {colour} has {len(vals)} values; the first is used")
        return colour, v

    i = 0
    while i < n:
        node = nodes[i]
        keys = runs.get(i)
        if keys is not None:
            # A run of move-only nodes; only its last node can hold more properties.
            try:
                moves += list(map(move_keys.__getitem__, keys[:-1]))
            except KeyError:
                for key in keys[:-1]:
                    if key not in move_keys:
                        raise SgfError(_bad_move(key[0], key[2:-1], size), move=len(moves) + 1) from None
                    append(move_keys[key])
            i += len(keys) - 1
            node = nodes[i]
        if len(node) == 1:
            vals = node.get("B")
            colour = "B"
            if vals is None:
                vals = node.get("W")
                colour = "W"
            if vals is not None:
                append(read_move(colour, vals))
                i += 1
                continue
        i += 1
        # The general case: setup, moves, comments.
        if "AB" in node or "AW" in node or "AE" in node or "PL" in node:
            try:
                black = _points(node.get("AB", ()), size, "AB")
                white = _points(node.get("AW", ()), size, "AW")
                empty = _points(node.get("AE", ()), size, "AE")
            except SgfError as e:
                e.move = len(moves) if moves else None
                raise
            pl = None
            if "PL" in node:
                pl = _PL.get(node["PL"][0].strip().lower())
                if pl is None:
                    warnings.append(f"PL[{node['PL'][0]}] is not a colour")
            if not moves:
                for v in empty:
                    setup_board[v] = None
                for v in black:
                    setup_board[v] = "B"
                for v in white:
                    setup_board[v] = "W"
                if pl:
                    setup_pl = pl
            else:
                later.append((len(moves), Setup(black, white, empty, pl)))
        both = 0
        for colour in ("B", "W"):
            vals = node.get(colour)
            if vals is None:
                continue
            both += 1
            append(read_move(colour, vals))
        if both == 2:
            warnings.append(f"moves {len(moves) - 1} and {len(moves)}: B and W in one node; both played")
        c = node.get("C")
        if c:
            text = unescape_text(c[0] if len(c) == 1 else "\n".join(c))
            k = len(moves)
            comments[k] = comments[k] + "\n" + text if k in comments else text
    black = [v for v, c in setup_board.items() if c == "B"]
    white = [v for v, c in setup_board.items() if c == "W"]
    g.setup = Setup(black, white, [], setup_pl)
    if g.handicap >= 2 and not black and not white and moves and moves[0][0] == "W":
        # Fox sometimes leaves the handicap stones out (HA only, White moves first): place them.
        stones = _fixed_handicap(size, g.handicap, moves)
        if stones:
            g.setup.black = stones
            warnings.append(f"HA[{g.handicap}] without AB: the fixed handicap stones are placed")
        else:
            warnings.append(f"HA[{g.handicap}] without AB and no fixed placement on {size}x{size}")
    g.later_setups = later
    g.moves = moves
    g.comments = comments
    if strict and warnings:
        raise SgfError(warnings[0])
    return g


# --------------------------------------------------------------------------- reading
def iter_sgf(data: bytes | str, source: str = "<sgf>", *, strict: bool = False,
             max_nodes: int = DEFAULT_MAX_NODES) -> Iterator[Union[SgfGame, SgfError]]:
    """Each game tree of an SGF file as an ``SgfGame``, or an ``SgfError`` for one
    that cannot be read (the others are still read). Never raises for bad input."""
    file_warnings: list = []
    if isinstance(data, str):
        candidates: Iterable = [(data[1:] if data.startswith("\ufeff") else data, "str", None)]
    else:
        candidates = _decodings(bytes(data))
    best = None
    for text, encoding, note in candidates:
        trees = _split_trees(text, max_nodes)
        score = sum(t.problems for t in trees) if trees else 1 << 30
        if best is None or score < best[0]:
            best = (score, trees, encoding, text, note)
        if score == 0:
            break
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
            yield _build(raw_tree, source, i, encoding, file_warnings, strict, max_nodes)
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


def read_sgf_file(path: str | os.PathLike, *, strict: bool = False,
                  max_nodes: int = DEFAULT_MAX_NODES) -> list[SgfGame]:
    """``parse_sgf`` of a file's bytes; the source is the path."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SgfError(f"cannot read: {e.strerror or e}", source=path) from None
    return parse_sgf(data, path, strict=strict, max_nodes=max_nodes)


def _kind(name: str) -> str | None:
    low = name.lower()
    if low.endswith(_TAR_SUFFIXES):
        return "tar"
    if low.endswith(".zip"):
        return "zip"
    if low.endswith(".gz"):
        return "gz"
    if low.endswith(_SGF_SUFFIXES):
        return "sgf"
    return None


def read_sgf_inputs(paths: str | os.PathLike | Iterable[str | os.PathLike], *, strict: bool = False,
                    max_nodes: int = DEFAULT_MAX_NODES, max_bytes: int = DEFAULT_MAX_BYTES,
                    stats: ReadStats | None = None) -> Iterator[tuple[str, Union[SgfGame, SgfError]]]:
    """Read SGF records from files, folders (recursively, in sorted order) and
    ``.zip``, ``.tar.gz``/``.tgz``/``.tar`` archives (streamed), and ``.sgf.gz``.

    Yields ``(source, SgfGame)`` for each game tree and ``(source, SgfError)`` for
    each file or game that cannot be read; never stops on a bad one. Inside
    folders and archives only ``.sgf``/``.sgfs`` files are read (other files are
    counted in ``stats.skipped``); a path given explicitly is read whatever its
    name. The source of an archive member is ``archive:member``."""
    if stats is None:
        stats = ReadStats()
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    for path in paths:
        path = os.fsdecode(path)
        if os.path.isdir(path):
            for top, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield from _read_path(os.path.join(top, name), False, strict, max_nodes, max_bytes, stats)
        elif os.path.exists(path):
            yield from _read_path(path, True, strict, max_nodes, max_bytes, stats)
        else:
            stats.errors += 1
            yield path, SgfError("no such file or folder", source=path)


def _games(data: bytes, source: str, strict: bool, max_nodes: int, stats: ReadStats):
    stats.files += 1
    for item in iter_sgf(data, source, strict=strict, max_nodes=max_nodes):
        if isinstance(item, SgfError):
            stats.errors += 1
        else:
            stats.games += 1
            if item.warnings:
                stats.warnings += 1
        yield source, item


def _error(source: str, reason: str, stats: ReadStats):
    stats.errors += 1
    return source, SgfError(reason, source=source)


def _read_path(path: str, explicit: bool, strict: bool, max_nodes: int, max_bytes: int, stats: ReadStats):
    kind = _kind(path)
    if kind is None and not explicit:
        stats.skipped += 1
        return
    try:
        if kind == "tar":
            yield from _read_tar(path, strict, max_nodes, max_bytes, stats)
        elif kind == "zip":
            yield from _read_zip(path, strict, max_nodes, max_bytes, stats)
        elif kind == "gz":
            with gzip.open(path, "rb") as f:
                data = f.read(max_bytes + 1)
            if len(data) > max_bytes:
                yield _error(path, f"larger than {max_bytes} bytes once decompressed", stats)
            else:
                yield from _games(data, path, strict, max_nodes, stats)
        else:
            if os.path.getsize(path) > max_bytes:
                yield _error(path, f"larger than {max_bytes} bytes", stats)
                return
            with open(path, "rb") as f:
                data = f.read()
            yield from _games(data, path, strict, max_nodes, stats)
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error, RuntimeError) as e:
        yield _error(path, f"cannot read: {type(e).__name__}: {e}", stats)


def _read_tar(path: str, strict: bool, max_nodes: int, max_bytes: int, stats: ReadStats):
    with tarfile.open(path, mode="r|*") as tf:
        for member in tf:
            if not member.isfile():
                continue
            source = f"{path}:{member.name}"
            if not member.name.lower().endswith(_SGF_SUFFIXES):
                stats.skipped += 1
                continue
            if member.size > max_bytes:
                yield _error(source, f"larger than {max_bytes} bytes", stats)
                continue
            f = tf.extractfile(member)
            data = f.read() if f is not None else b""
            yield from _games(data, source, strict, max_nodes, stats)


def _read_zip(path: str, strict: bool, max_nodes: int, max_bytes: int, stats: ReadStats):
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if not info.flag_bits & 0x800:  # not flagged UTF-8: zipfile read it as cp437
                try:
                    name = name.encode("cp437").decode("utf-8")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    pass
            source = f"{path}:{name}"
            if not name.lower().endswith(_SGF_SUFFIXES):
                stats.skipped += 1
                continue
            if info.file_size > max_bytes:
                yield _error(source, f"larger than {max_bytes} bytes", stats)
                continue
            try:
                data = zf.read(info)
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError) as e:
                yield _error(source, f"cannot read: {type(e).__name__}: {e}", stats)
                continue
            yield from _games(data, source, strict, max_nodes, stats)


# --------------------------------------------------------------------------- writing
def _sgf_point(vertex: str, size: int) -> str:
    return _vertex_to_sgf_table(size)[vertex]


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
    size = game.size
    first = steps[0]
    for i in range(len(hist) - 1, first - 1, -1):
        if hist[i][0] != 0:
            g.undo()
            continue
        after, to_play = g.board, g.to_play
        g.undo()
        before = g.board
        s = Setup(to_play=to_play)
        for r, c in zip(*(after != before).nonzero()):
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
    komi = _fmt_number(game.komi)
    if abs(game.komi) >= 100 and "." not in komi:
        komi += ".0"  # else it would read as Fox's komi times 100
    root["KM"] = f"[{komi}]"
    ru = rules if rules is not None else _PRESET_TO_RU.get(game.rules.name, game.rules.name)
    root["RU"] = f"[{escape_text(ru)}]"
    ha = game.handicap if handicap is None else handicap
    if ha:
        root["HA"] = f"[{int(ha)}]"
    if result is None and game.is_over:
        result = game.outcome()
    if isinstance(result, Outcome):
        result = result.result()
    elif isinstance(result, Result):
        result = result.raw
    for prop, value in (("PB", black), ("BR", black_rank), ("PW", white), ("WR", white_rank), ("DT", date),
                        ("EV", event), ("GN", name), ("PC", place), ("RE", result)):
        if value:  # SimpleText: line breaks would be read back as spaces, so write them so
            root[prop] = f"[{escape_text(_LINEBREAK.sub(' ', str(value)).replace(chr(10), ' '))}]"
    for prop, value in (properties or {}).items():
        if not re.fullmatch(r"[A-Z]{1,8}", prop):
            raise ValueError(f"{prop!r} is not an SGF property identifier")
        if prop in ("B", "W", "AB", "AW", "AE", "PL", "C"):
            raise ValueError(f"{prop} is written from the game and its comments, not from properties")
        values = [value] if isinstance(value, str) else list(value)
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
    for i, (c, p) in enumerate(game.history):
        if c == 0:
            props = _setup_props(setups[i], size)
            if first_setup_in_root and k == 0:
                parts.append(props)  # the root holds the first setup, later ones get nodes
            else:
                parts.append("\n;" + props)
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
