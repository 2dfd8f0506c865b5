"""Geodata values for early warning: village rain thresholds and reservoir characteristic levels.

Checked when the catalogue loads a layer (geo/schemas.py calls these); a bad value raises
`ValueError` (the catalogue adds file, feature and field) or `LevelProblem` naming the field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Rain windows in hours (SL 675 village indicators use 1/3/6 h, many counties also 12/24 h).
WINDOWS_H: tuple[int, ...] = (1, 3, 6, 12, 24)
WINDOW_KEYS: dict[str, int] = {f"{w}h": w for w in WINDOWS_H}
MAX_WINDOW_H = max(WINDOWS_H)
# Plausibility bound: the world record 24 h rainfall is ~1,825 mm; thresholds beyond it are typos.
MAX_THRESHOLD_MM = 2000.0

# Reservoir characteristic levels, in the order they must rise (STANDARDS.md §3).
LEVEL_FIELDS: tuple[str, ...] = (
    "flood_limit_m",
    "normal_m",
    "design_flood_m",
    "check_flood_m",
    "crest_m",
)
_MMDD = re.compile(r"(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")


class LevelProblem(ValueError):
    """A reservoir's levels out of order; `field` names the level that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _json_text(value: Any) -> Any:
    # GeoPackage has no object type: objects are stored as JSON text.
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValueError(f"must be an object (or JSON text of one), got {value!r}") from exc
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def parse_warn_mm(value: Any) -> dict[str, list[float]]:
    """{"1h": [prepare, evacuate], ...} checked: known windows, 0 < prepare <= evacuate."""
    value = _json_text(value)
    if not isinstance(value, dict) or not value:
        raise ValueError(f"must be an object of window → [prepare, evacuate] mm, got {value!r}")
    out: dict[str, list[float]] = {}
    for key in sorted(value, key=lambda k: WINDOW_KEYS.get(k, 0)):
        if key not in WINDOW_KEYS:
            raise ValueError(f"window {key!r} is not one of {', '.join(WINDOW_KEYS)}")
        pair = value[key]
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"{key} must be [prepare, evacuate] in mm, got {pair!r}")
        prepare, evacuate = (_number(v, f"{key} threshold") for v in pair)
        if not 0 < prepare <= evacuate <= MAX_THRESHOLD_MM:
            raise ValueError(
                f"{key} must satisfy 0 < prepare <= evacuate <= {MAX_THRESHOLD_MM:g} mm, "
                f"got {list(pair)!r}"
            )
        out[key] = [prepare, evacuate]
    return out


def parse_seasons(value: Any) -> list[dict[str, Any]]:
    """Seasonal flood-limit rows as in SL 323 ST_RSVRFSR_B: [{"bgmd", "edmd", "level_m"}].

    `bgmd`/`edmd` are month-day "MMDD" (inclusive); `edmd` may be null (to the year's end) or
    before `bgmd` (the season wraps over the new year).
    """
    value = _json_text(value)
    if not isinstance(value, list):
        raise ValueError(f"must be a list of {{bgmd, edmd, level_m}}, got {value!r}")
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, dict):
            raise ValueError(f"row {i + 1} must be an object, got {row!r}")
        bgmd, edmd = row.get("bgmd"), row.get("edmd")
        if not isinstance(bgmd, str) or not _MMDD.fullmatch(bgmd):
            raise ValueError(f"row {i + 1}: bgmd must be month-day MMDD, got {bgmd!r}")
        if edmd is not None and (not isinstance(edmd, str) or not _MMDD.fullmatch(edmd)):
            raise ValueError(f"row {i + 1}: edmd must be month-day MMDD or null, got {edmd!r}")
        level = _number(row.get("level_m"), f"row {i + 1}: level_m")
        rows.append({"bgmd": bgmd, "edmd": edmd, "level_m": level})
    return sorted(rows, key=lambda r: r["bgmd"])


def check_levels(record: dict[str, Any]) -> None:
    """Refuse levels out of order: flood limit <= normal <= design < check < crest.

    Only the levels given are compared (each with the next one given); every seasonal flood
    limit must also stay at or below the next level above the flood limit that is given.
    """
    given = [(f, float(record[f])) for f in LEVEL_FIELDS if record.get(f) is not None]
    for (lower, a), (upper, b) in zip(given, given[1:], strict=False):
        # The check flood and the crest must lie strictly above what is below them.
        strict = upper in ("check_flood_m", "crest_m")
        if a > b or (strict and a == b):
            word = "above" if strict else "at or above"
            raise LevelProblem(upper, f"{upper} {b:g} m must be {word} {lower} {a:g} m")
    above = [(f, v) for f, v in given if f != "flood_limit_m"]
    for row in record.get("flood_limit_seasons") or []:
        if above and row["level_m"] > above[0][1]:
            raise LevelProblem(
                "flood_limit_seasons",
                f"seasonal flood limit {row['level_m']:g} m (from {row['bgmd']}) is above "
                f"{above[0][0]} {above[0][1]:g} m",
            )
