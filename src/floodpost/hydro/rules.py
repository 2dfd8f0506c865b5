"""The early-warning rules: which level a rain total or a reservoir level reaches.

- Village (SL 675 indicators): two levels per rain window, 准备转移 `prepare` and 立即转移
  `evacuate`; a window reaches a level when its total is >= the threshold (34.9 mm < 35.0 mm);
  the village gets the highest level any window reaches ("符合其中之一").
- Reservoir (STANDARDS.md §3): the ladder above_flood_limit (level > 汛限水位 of the season) →
  above_design (> 设计洪水位) → above_check (> 校核洪水位) → overtopping (>= 坝顶高程).
- A warning only rises while active (a lower level never replaces a higher one); it ends only
  when a commander lifts it (解除).

Rain is compared in integer micro-millimetres (`to_units`) so rolling sums never drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from floodpost.hydro.thresholds import WINDOW_KEYS

VILLAGE_LEVELS: tuple[str, ...] = ("prepare", "evacuate")
RESERVOIR_LEVELS: tuple[str, ...] = (
    "above_flood_limit",
    "above_design",
    "above_check",
    "overtopping",
)
# One scale for sorting the warnings panel: how urgent is the action each level calls for.
SEVERITY: dict[str, int] = {
    "prepare": 1,
    "above_flood_limit": 1,
    "above_design": 2,
    "evacuate": 3,
    "above_check": 3,
    "overtopping": 4,
}
UNITS_PER_MM = 1000


def to_units(mm: float) -> int:
    """Rain in integer micro-millimetres: sums of them are exact, whatever the order."""
    return int(round(mm * UNITS_PER_MM))


def to_mm(units: int) -> float:
    return round(units / UNITS_PER_MM, 3)


@dataclass(frozen=True)
class Verdict:
    """The level reached, and why: the window (rain) and the observed vs threshold value."""

    level: str
    observed: float
    threshold: float
    window_h: int | None = None

    @property
    def severity(self) -> int:
        return SEVERITY[self.level]


def village_verdict(
    totals_mm: dict[int, float], warn_mm: dict[str, list[float]] | None
) -> Verdict | None:
    """Highest level any window reaches; among windows at that level, the one furthest over.

    `totals_mm` maps a window in hours to its total (missing or None: no data for it).
    """
    best: tuple[int, float, Verdict] | None = None
    for key, pair in (warn_mm or {}).items():
        window = WINDOW_KEYS[key]
        total = totals_mm.get(window)
        if total is None:
            continue
        units = to_units(total)
        for rank, (level, threshold) in enumerate(zip(VILLAGE_LEVELS, pair, strict=True)):
            if units < to_units(threshold):
                break
            over = units / max(to_units(threshold), 1)
            candidate = (rank, over, Verdict(level, round(total, 3), threshold, window))
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else None


def flood_limit_on(reservoir: dict[str, Any], day: date) -> float | None:
    """The flood-limit level (汛限水位) in force on `day` (local date of the reading).

    Seasonal rows (SL 323 ST_RSVRFSR_B) win over `flood_limit_m`: a row covers BGMD..EDMD
    inclusive; EDMD null runs to the year's end; EDMD before BGMD wraps over the new year.
    """
    mmdd = f"{day.month:02d}{day.day:02d}"
    found = None
    for row in reservoir.get("flood_limit_seasons") or []:
        bg, ed = row["bgmd"], row.get("edmd")
        if ed is None:
            inside = bg <= mmdd
        elif bg <= ed:
            inside = bg <= mmdd <= ed
        else:
            inside = mmdd >= bg or mmdd <= ed
        if inside:
            found = float(row["level_m"])  # rows are sorted by BGMD: the latest start wins
    if found is not None:
        return found
    limit = reservoir.get("flood_limit_m")
    return None if limit is None else float(limit)


def reservoir_verdict(level_m: float, reservoir: dict[str, Any], day: date) -> Verdict | None:
    """The highest rung of the ladder `level_m` reaches on `day`, or None below the flood limit."""
    rungs = (
        ("above_flood_limit", flood_limit_on(reservoir, day), False),
        ("above_design", reservoir.get("design_flood_m"), False),
        ("above_check", reservoir.get("check_flood_m"), False),
        ("overtopping", reservoir.get("crest_m"), True),
    )
    reached = None
    for level, threshold, inclusive in rungs:
        if threshold is None:
            continue
        if level_m > threshold or (inclusive and level_m >= threshold):
            reached = Verdict(level, round(level_m, 3), float(threshold))
    return reached


def rises(current: str | None, new: str) -> bool:
    """True if `new` is above `current` on the same ladder (a warning only rises while active)."""
    if current is None:
        return True
    ladder = VILLAGE_LEVELS if current in VILLAGE_LEVELS else RESERVOIR_LEVELS
    return ladder.index(new) > ladder.index(current)
