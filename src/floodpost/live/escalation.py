"""Which open help requests need attention: escalation and likely duplicates.

Computed on read from the open requests and the injectable clock (never stored), so the rule
changes the moment the settings change, and tests move a ManualClock instead of waiting.

- escalated: floodpost.rules.escalation_reasons (unassigned too long, or stale), with the limits
  in minutes as the settings give them — the same limits the review uses;
- likely duplicate: another open request within `duplicate_radius_m` whose occurred time is within
  `duplicate_window_min`; the later one points at the earliest (`likely_duplicate_of`) so staff can
  resolve it as a duplicate of that one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from floodpost.rules import EscalationLimits, escalation_reasons, state_of

_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class Rules:
    """The live map's settings for open requests: the escalation limits (rules.py, minutes)
    and what counts as a likely duplicate."""

    unassigned_min: float
    stale_min: float
    duplicate_radius_m: float
    duplicate_window_min: float

    @classmethod
    def from_settings(cls, s: Any) -> Rules:
        limits = EscalationLimits.from_settings(s)
        return cls(
            limits.unassigned_min,
            limits.stale_min,
            float(s.duplicate_radius_m),
            float(s.duplicate_window_min),
        )

    @property
    def limits(self) -> EscalationLimits:
        return EscalationLimits(self.unassigned_min, self.stale_min)


def escalation(report: dict[str, Any], now: float, rules: Rules) -> list[str]:
    """Reasons this open request is escalated ([] if none, or if it is resolved):
    floodpost.rules.escalation_reasons with these limits."""
    return escalation_reasons(report, now, rules.limits)


def _metres(a: dict[str, Any], b: dict[str, Any]) -> float:
    mean_lat = math.radians((a["lat"] + b["lat"]) / 2)
    dx = (a["lon"] - b["lon"]) * _M_PER_DEG * math.cos(mean_lat)
    dy = (a["lat"] - b["lat"]) * _M_PER_DEG
    return math.hypot(dx, dy)


def likely_duplicates(requests: Iterable[dict[str, Any]], rules: Rules) -> dict[str, str]:
    """{later request id: earliest open request it probably duplicates}. A grid of cells one
    radius wide keeps this linear in the number of open requests."""
    located = [r for r in requests if r.get("lon") is not None and r.get("lat") is not None]
    located.sort(key=lambda r: (float(r.get("received_ts") or 0.0), r["id"]))
    cell_deg = max(rules.duplicate_radius_m / _M_PER_DEG, 1e-6)
    grid: dict[tuple[int, int], list[dict[str, Any]]] = {}
    window_s = rules.duplicate_window_min * 60
    result: dict[str, str] = {}
    for r in located:
        # Cells in lon are narrower in metres than in lat; at Suining (26.5°N) cos ≈ 0.9, so
        # checking ±2 lon cells covers the radius everywhere below 60° latitude.
        cx, cy = int(r["lon"] // cell_deg), int(r["lat"] // cell_deg)
        best = None
        for dx in (-2, -1, 0, 1, 2):
            for dy in (-1, 0, 1):
                for other in grid.get((cx + dx, cy + dy), ()):
                    if abs(float(other["occurred_ts"]) - float(r["occurred_ts"])) > window_s:
                        continue
                    if _metres(r, other) <= rules.duplicate_radius_m:
                        if best is None or (other["received_ts"], other["id"]) < (
                            best["received_ts"],
                            best["id"],
                        ):
                            best = other
        if best is not None:
            result[r["id"]] = result.get(best["id"], best["id"])
        grid.setdefault((cx, cy), []).append(r)
    return result


def annotate(requests: list[dict[str, Any]], now: float, rules: Rules) -> list[dict[str, Any]]:
    """Open requests with `escalated` (reasons), `age_min` and `likely_duplicate_of` added."""
    open_ = [r for r in requests if state_of(r) != "resolved"]
    dups = likely_duplicates(open_, rules)
    out = []
    for r in open_:
        item = dict(r)
        item["escalated"] = escalation(r, now, rules)
        item["age_min"] = round((now - float(r.get("received_ts") or now)) / 60, 1)
        item["likely_duplicate_of"] = dups.get(r["id"])
        out.append(item)
    return out
