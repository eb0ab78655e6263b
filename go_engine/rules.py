"""Rule sets: ko rule, suicide, scoring method and handicap compensation.

Presets follow the names KataGo accepts for ``kata-set-rules``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

KO_SIMPLE, KO_POSITIONAL, KO_SITUATIONAL = 0, 1, 2
KO_NAMES = {"simple": KO_SIMPLE, "positional": KO_POSITIONAL, "situational": KO_SITUATIONAL}
SCORING = ("area", "territory")
HANDICAP_BONUS = ("0", "N", "N-1")


@dataclass(frozen=True)
class Rules:
    """One rule set.

    ``ko``: ``"simple"`` (no immediate recapture), ``"positional"`` superko (no
    board may repeat) or ``"situational"`` superko (no board may repeat with the
    same player to move). ``suicide``: whether a move that leaves its own chain
    of two or more stones without liberties is legal (the chain is removed);
    single-stone suicide is never legal, as in KataGo. ``scoring``: ``"area"``
    or ``"territory"``. ``handicap_bonus``: points White receives in area
    scoring per handicap stone: ``"0"``, ``"N"`` or ``"N-1"``.
    """

    name: str
    ko: str = "simple"
    suicide: bool = False
    scoring: str = "area"
    handicap_bonus: str = "0"

    def __post_init__(self) -> None:
        if self.ko not in KO_NAMES:
            raise ValueError(f"unknown ko rule {self.ko!r}; expected one of {sorted(KO_NAMES)}")
        if self.scoring not in SCORING:
            raise ValueError(f"unknown scoring {self.scoring!r}; expected one of {SCORING}")
        if self.handicap_bonus not in HANDICAP_BONUS:
            raise ValueError(f"unknown handicap bonus {self.handicap_bonus!r}; expected one of {HANDICAP_BONUS}")

    @property
    def ko_code(self) -> int:
        """The ko rule as the integer the kernels use."""
        return KO_NAMES[self.ko]

    def bonus(self, handicap: int) -> int:
        """Area-scoring points White receives for ``handicap`` stones."""
        if handicap < 2 or self.scoring != "area":
            return 0
        return handicap if self.handicap_bonus == "N" else handicap - 1 if self.handicap_bonus == "N-1" else 0


PRESETS: dict[str, Rules] = {
    "chinese": Rules("chinese", "simple", False, "area", "N"),
    "chinese-ogs": Rules("chinese-ogs", "positional", False, "area", "N"),
    "chinese-kgs": Rules("chinese-kgs", "positional", False, "area", "N"),
    "japanese": Rules("japanese", "simple", False, "territory", "0"),
    "korean": Rules("korean", "simple", False, "territory", "0"),
    "aga": Rules("aga", "situational", False, "area", "N-1"),
    "bga": Rules("bga", "situational", False, "area", "N-1"),
    "french": Rules("french", "situational", False, "area", "N-1"),
    "nz": Rules("nz", "situational", True, "area", "0"),
    "tromp-taylor": Rules("tromp-taylor", "positional", True, "area", "0"),
    "ing": Rules("ing", "positional", True, "area", "0"),
}
_ALIASES = {
    "tromp_taylor": "tromp-taylor", "tromp taylor": "tromp-taylor", "tromptaylor": "tromp-taylor",
    "tt": "tromp-taylor", "new zealand": "nz", "new-zealand": "nz", "new_zealand": "nz", "newzealand": "nz",
    "goe": "ing", "cn": "chinese", "jp": "japanese", "japan": "japanese", "china": "chinese",
}


def get_rules(rules: str | Rules) -> Rules:
    """The ``Rules`` for a preset name (case-insensitive) or a ``Rules`` passed through."""
    if isinstance(rules, Rules):
        return rules
    if not isinstance(rules, str):
        raise ValueError(f"rules must be a preset name or a Rules object, got {rules!r}")
    key = rules.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in PRESETS:
        raise ValueError(f"unknown rules {rules!r}; known presets: {', '.join(sorted(PRESETS))}")
    return PRESETS[key]


_KATAGO_KEYS = ("ko", "scoring", "tax", "suicide", "hasButton", "whiteHandicapBonus", "friendlyPassOk")


def katago_rules(spec: str | dict) -> tuple[Rules, list[str]]:
    """The rules of KataGo's ``kata-set-rules`` and analysis ``rules``: a preset name, or a JSON
    object (a dict, or its text) with KataGo's keys ``ko`` (SIMPLE, POSITIONAL, SITUATIONAL),
    ``scoring`` (AREA, TERRITORY), ``suicide``, ``whiteHandicapBonus`` (0, N, N-1), ``tax``,
    ``hasButton`` and ``friendlyPassOk``. Returns the rules and warnings for what Tengen does not
    play: a group tax (``tax`` ALL, stone scoring), the button; raises ``ValueError`` for the rest."""
    if isinstance(spec, str) and spec.strip().startswith("{"):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as e:
            raise ValueError(f"rules: not valid JSON: {e}") from None
    if isinstance(spec, str):
        key = spec.strip().lower().replace("_", "-")
        if key in ("stone-scoring", "stonescoring"):
            return Rules("stone-scoring"), ["stone scoring's group tax is not played: area scoring without it"]
        if key == "aga-button":
            return get_rules("aga"), ["the button is not played: AGA rules without it"]
        return get_rules(key), []
    if not isinstance(spec, dict):
        raise ValueError(f"rules must be a name or a JSON object, got {spec!r}")
    unknown = sorted(set(spec) - set(_KATAGO_KEYS))
    if unknown:
        raise ValueError(f"rules: unknown key(s) {', '.join(unknown)}; expected {', '.join(_KATAGO_KEYS)}")
    base = Rules("custom")
    ko = _choice(spec, "ko", base.ko.upper(), ("SIMPLE", "POSITIONAL", "SITUATIONAL")).lower()
    scoring = _choice(spec, "scoring", "AREA", ("AREA", "TERRITORY")).lower()
    bonus = _choice(spec, "whiteHandicapBonus", "0", HANDICAP_BONUS)
    suicide = spec.get("suicide", False)
    if not isinstance(suicide, bool):
        raise ValueError(f"rules: suicide must be true or false, got {suicide!r}")
    warnings = []
    tax = _choice(spec, "tax", "NONE", ("NONE", "SEKI", "ALL"))
    if tax == "ALL":
        warnings.append("tax ALL (a group tax, as stone scoring) is not played: scored without it")
    if spec.get("hasButton", False) is not False:
        warnings.append("the button is not played")
    rules = Rules("custom", ko, suicide, scoring, bonus)
    same = [p for p in PRESETS.values() if (p.ko, p.suicide, p.scoring, p.handicap_bonus) == (ko, suicide, scoring, bonus)]
    return (same[0] if same else rules), warnings


def katago_json(rules: Rules) -> dict:
    """``rules`` in KataGo's JSON form (``kata-get-rules``), which ``katago_rules`` reads back: no group tax
    (Tengen's territory count leaves eyes in seki as territory), no button, and a friendly pass is fine
    (a GTP game's count removes the dead stones)."""
    return {"friendlyPassOk": True, "hasButton": False, "ko": rules.ko.upper(), "scoring": rules.scoring.upper(),
            "suicide": rules.suicide, "tax": "NONE", "whiteHandicapBonus": rules.handicap_bonus}


def _choice(spec: dict, key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = spec.get(key, default)
    text = str(value).upper() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text not in allowed:
        raise ValueError(f"rules: {key} must be one of {', '.join(allowed)}, got {value!r}")
    return text
