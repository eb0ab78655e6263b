"""SGF values: coordinates, text escapes, komi, results and rule names, and the small value types
``Setup`` and ``Result``.

Coordinates: SGF ``aa`` is the top-left point. The SGF column letter ``a + i``
is GTP column ``i`` (GTP letters skip ``I``) and SGF row ``a + r`` is GTP row
``size - r``. ``B[]`` is a pass, and so is ``B[tt]`` on boards up to 19x19.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..coords import COLUMNS
from ..rules import PRESETS, get_rules


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
            tail = format_number(self.margin) if self.margin is not None else ""
        return f"{self.winner}+{tail}"


# --------------------------------------------------------------------------- coordinates
@lru_cache(maxsize=None)
def move_table(size: int) -> dict[str, str]:
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
def move_pairs(size: int) -> dict[str, tuple[str, str]]:
    """``"B[pd]"`` -> (colour, GTP vertex or "pass"), shared tuples."""
    return {f"{c}[{k}]": (c, v) for c in "BW" for k, v in move_table(size).items()}


@lru_cache(maxsize=None)
def stone_table(size: int) -> dict[str, tuple[int, int]]:
    """SGF point -> (sgf column, sgf row) for points on the board."""
    return {chr(97 + c) + chr(97 + r): (c, r) for c in range(size) for r in range(size)}


@lru_cache(maxsize=None)
def sgf_point_table(size: int) -> dict[str, str]:
    return {v: k for k, v in move_table(size).items() if v != "pass"}


def sgf_to_vertex(value: str, size: int) -> str:
    """GTP vertex (or ``"pass"``) of an SGF move value on a ``size`` board; ``ValueError`` if off the board."""
    v = move_table(size).get(value.strip())
    if v is None:
        raise ValueError(f"{value!r} is not a point on the {size}x{size} board")
    return v


def vertex_to_sgf(vertex: str, size: int) -> str:
    """SGF move value of a GTP vertex (``""`` for a pass)."""
    if vertex.strip().lower() == "pass":
        return ""
    p = sgf_point_table(size).get(vertex.strip().upper())
    if p is None:
        raise ValueError(f"vertex {vertex!r} is not on the {size}x{size} board")
    return p


# --------------------------------------------------------------------------- value parsing
_SOFT_OR_ESCAPE = re.compile(r"\\(\r\n|\n\r|\r|\n|.)", re.DOTALL)
LINEBREAK = re.compile(r"\r\n|\n\r|\r")


def _unescape_sub(m: re.Match) -> str:
    c = m.group(1)
    return "" if c[0] in "\r\n" else c


def unescape_text(value: str, simple: bool = False) -> str:
    """The text of an SGF Text value: escapes and soft line breaks removed, line
    breaks as ``\\n``; with ``simple`` (SimpleText) line breaks become spaces."""
    if "\\" in value:
        value = _SOFT_OR_ESCAPE.sub(_unescape_sub, value)
    if "\r" in value:
        value = LINEBREAK.sub("\n", value)
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


RU_NAMES = {"japanese": "Japanese", "chinese": "Chinese", "korean": "Korean", "aga": "AGA", "nz": "NZ",
                 "tromp-taylor": "Tromp-Taylor", "ing": "Ing", "bga": "BGA", "french": "French"}


def format_number(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


PL_COLOURS = {"b": "B", "w": "W", "black": "B", "white": "W", "1": "B", "2": "W"}

