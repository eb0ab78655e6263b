"""Bytes to text: a BOM, then the charset ``CA[]`` names, then UTF-8, then a guess among the
CJK and Latin encodings that never fails (``decodings`` yields the candidates, best first)."""

from __future__ import annotations

import codecs
import re
from typing import Iterator

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


def decodings(data: bytes) -> Iterator[tuple[str, str, str | None]]:
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
    if single and declared is not None:  # a single-byte charset always decodes
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

