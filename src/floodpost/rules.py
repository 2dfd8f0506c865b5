"""Every domain rule both screens apply, in one place (issue 8).

The live map (floodpost.live) and the review (floodpost.stats) are two projections of the same
change log; they used to carry their own copies of these rules and disagreed (a `piping` incident
with no status was "danger" on the live map and "normal" on /review; "population at risk" and the
escalation limits were defined twice). Each rule is written once here and both call it.
New rules (warning levels, order completion) go here or in a module named here.

- What counts: only active reports (a retracted report counts nowhere); people are summed, never
  reports counted (`people_figure`: which report adds to evacuated, rescued, deaths, missing).
- Incident status: what an incident says about its reservoir (`reservoir_status`), which status
  is "in danger" (`in_danger`), and which report is the reservoir's latest (`latest_first`).
- Population at risk of a village (`village_at_risk`).
- Help requests: which are open (`is_open_request`), when one is escalated (`EscalationLimits`,
  `escalation_reasons` now, `was_escalated` at any time of its life), time to resolution
  (`resolution_s`) and its median (`RunningMedian`).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# -- what counts --------------------------------------------------------------------------------


def is_active(report: dict[str, Any] | None) -> bool:
    """Retracted reports count nowhere (they stay in the audit log)."""
    return report is not None and report.get("status") == "active"


# The people of an active report add to one county figure, by kind (and incident subtype).
_PEOPLE_FIGURES = {"evacuation": "evacuated", "rescue": "rescued"}
_INCIDENT_FIGURES = {"death": "deaths", "missing": "missing"}
PEOPLE_FIGURES = ("evacuated", "rescued", "deaths", "missing")


def people_figure(kind: str, subtype: str | None) -> str | None:
    """'evacuated', 'rescued', 'deaths', 'missing', or None (people counted in no total).
    What counts as evacuated: the people of active evacuation reports (with or without a
    shelter); a help request resolved as "rescued N" adds N through its linked rescue report."""
    if kind == "incident":
        return _INCIDENT_FIGURES.get(subtype or "")
    return _PEOPLE_FIGURES.get(kind)


# -- incident status ----------------------------------------------------------------------------

# An incident about a reservoir that names no status implies one from its subtype: 管涌 piping,
# 漫坝 overtopping and dam damage are 险情 (danger) whether or not the reporter chose a status.
_SUBTYPE_STATUS = {
    "seepage": "seepage",
    "piping": "danger",
    "overtopping": "danger",
    "dam_damage": "danger",
}
DANGER_STATUSES = ("danger", "failed")


def reservoir_status(report: dict[str, Any]) -> str | None:
    """What an active incident report says about its reservoir: its `reservoir_status`, or the
    status its subtype implies; None if it says nothing (or is not about a reservoir)."""
    if report.get("kind") != "incident" or not report.get("reservoir_id") or not is_active(report):
        return None
    explicit = report.get("reservoir_status")
    return explicit or _SUBTYPE_STATUS.get(report.get("subtype") or "")


def in_danger(status: str | None) -> bool:
    """险情水库: a reservoir in danger or already failed (its downstream villages are at risk)."""
    return status in DANGER_STATUSES


def latest_key(occurred_ts: float, report_id: str) -> tuple[float, str]:
    """Order of a reservoir's reports: the one that happened last wins (ties: the larger id)."""
    return (occurred_ts, report_id)


# -- population at risk -------------------------------------------------------------------------


def village_flagged(village: Mapping[str, Any], below_danger: bool) -> bool:
    """At risk by place: low-lying, near a river, or below a reservoir in danger."""
    return bool(village.get("low_lying") or village.get("near_river") or below_danger)


def village_at_risk(population: int, flagged: bool, evacuated: int) -> int:
    """Population at risk of a village (the denominator of evacuation progress): its whole
    population if it is flagged (village_flagged) — or if people were evacuated from it anyway,
    in which case the command post judged it at risk; otherwise 0."""
    return population if (flagged or evacuated > 0) else 0


@dataclass(frozen=True)
class RiskPlaces:
    """What the population-at-risk rule needs from the geodata (villages and reservoirs records
    of the catalogue): both screens build it with `of` from the same records."""

    population: dict[str, int]
    by_place: frozenset[str]  # flagged whatever the reservoirs do
    downstream: dict[str, tuple[str, ...]]  # reservoir id -> villages below it

    @classmethod
    def of(
        cls, villages: Mapping[str, Mapping[str, Any]], reservoirs: Mapping[str, Mapping[str, Any]]
    ) -> RiskPlaces:
        return cls(
            population={str(c): int(v.get("population") or 0) for c, v in villages.items()},
            by_place=frozenset(str(c) for c, v in villages.items() if village_flagged(v, False)),
            downstream={
                str(rid): tuple(str(c) for c in r.get("downstream_villages") or ())
                for rid, r in reservoirs.items()
            },
        )

    def below_danger(self, statuses: Mapping[str, str]) -> set[str]:
        """Villages downstream of a reservoir in danger, given each reservoir's status."""
        return {
            code
            for rid, status in statuses.items()
            if in_danger(status)
            for code in self.downstream.get(rid, ())
        }

    def at_risk(self, statuses: Mapping[str, str], evacuated: Mapping[str, int]) -> dict[str, int]:
        """village_at_risk for every village, given the reservoirs' latest statuses and the
        people evacuated from each village."""
        below = self.below_danger(statuses)
        return {
            code: village_at_risk(
                population, code in self.by_place or code in below, evacuated.get(code, 0)
            )
            for code, population in self.population.items()
        }


# -- help requests ------------------------------------------------------------------------------

OPEN_STATES = ("new", "assigned", "en_route")


def state_of(report: dict[str, Any]) -> str:
    return report.get("state") or "new"


def is_open_request(report: dict[str, Any] | None) -> bool:
    return (
        report is not None
        and report.get("kind") == "help_request"
        and is_active(report)
        and state_of(report) in OPEN_STATES
    )


def is_resolved_request(report: dict[str, Any] | None) -> bool:
    return (
        report is not None
        and report.get("kind") == "help_request"
        and is_active(report)
        and state_of(report) == "resolved"
    )


def resolution_s(report: dict[str, Any] | None) -> float | None:
    """Seconds from receipt to resolution of a resolved, active help request (None otherwise,
    and for old records without resolved_ts). Not the last update: a resolved request can still
    be corrected later, which moves its last update but not its resolution."""
    if not is_resolved_request(report) or report is None:
        return None
    resolved, received = report.get("resolved_ts"), report.get("received_ts")
    if resolved is None or received is None:
        return None
    return max(0.0, float(resolved) - float(received))


@dataclass(frozen=True)
class EscalationLimits:
    """When the command post escalates an open help request, in minutes (the settings' unit)."""

    unassigned_min: float = 15.0
    stale_min: float = 60.0

    @classmethod
    def from_settings(cls, s: Any) -> EscalationLimits:
        return cls(float(s.escalate_unassigned_min), float(s.escalate_stale_min))

    @property
    def unassigned_s(self) -> float:
        return self.unassigned_min * 60.0

    @property
    def stale_s(self) -> float:
        return self.stale_min * 60.0


def last_step_ts(report: dict[str, Any]) -> float:
    return float(report.get("state_ts") or report.get("received_ts") or 0.0)


def escalation_reasons(report: dict[str, Any], now: float, limits: EscalationLimits) -> list[str]:
    """Why an open request is escalated now ([] if it is not, or is resolved):
    - unassigned: still `new` more than `unassigned_min` after it was received;
    - stale: no lifecycle step (or, for a new one, no receipt) for more than `stale_min`."""
    if state_of(report) not in OPEN_STATES or not is_active(report):
        return []
    reasons = []
    if state_of(report) == "new" and now - float(report.get("received_ts") or 0.0) > (
        limits.unassigned_s
    ):
        reasons.append("unassigned")
    if now - last_step_ts(report) > limits.stale_s:
        reasons.append("stale")
    return reasons


def was_escalated(
    received_ts: float,
    assigned_ts: float | None,
    en_route_ts: float | None,
    end_ts: float,
    limits: EscalationLimits,
) -> bool:
    """Whether `escalation_reasons` escalated a request at some moment of its life up to
    `end_ts` (its resolution, or now while open): unassigned too long after receipt, or too long
    between two lifecycle steps (or since the last one)."""
    first_assigned = assigned_ts if assigned_ts is not None else end_ts
    if first_assigned - received_ts > limits.unassigned_s:
        return True
    steps = sorted([received_ts, end_ts, *(t for t in (assigned_ts, en_route_ts) if t is not None)])
    return any(b - a > limits.stale_s for a, b in zip(steps, steps[1:], strict=False))


class RunningMedian:
    """The median of one value per key, kept current as values come and go (the median time to
    resolution over every resolved request, on both screens, without re-reading them)."""

    def __init__(self, items: Iterable[tuple[str, float]] = ()) -> None:
        self._by_key: dict[str, float] = dict(items)
        self._sorted = sorted(self._by_key.values())

    def set(self, key: str, value: float | None) -> None:
        old = self._by_key.pop(key, None)
        if old is not None:
            del self._sorted[bisect_left(self._sorted, old)]
        if value is not None:
            self._by_key[key] = value
            insort(self._sorted, value)

    def __len__(self) -> int:
        return len(self._sorted)

    def median(self) -> float | None:
        values, n = self._sorted, len(self._sorted)
        if not n:
            return None
        mid = n // 2
        return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def median_minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)
