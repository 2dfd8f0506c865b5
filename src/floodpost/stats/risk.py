"""Reservoir statuses and population at risk from the roll-up: figures both screens show.

rules.py says what they mean; this applies the rules to the roll-up (the reservoirs' latest
reports, the people evacuated per village), so the live map and the review get the same numbers
from the same projection.
"""

from __future__ import annotations

from floodpost import rules
from floodpost.stats.rollup import ReservoirReport, Rollup


def latest_reservoir_reports(
    rollup: Rollup, *, until_ts: float | None = None
) -> dict[str, tuple[str, ReservoirReport]]:
    """Per reservoir, its latest incident report that says something about it (by when it
    happened, rules.latest_key), up to `until_ts`: {reservoir id: (report id, report)}."""
    latest: dict[str, tuple[str, ReservoirReport]] = {}
    for rid, r in rollup.reservoir.items():
        if until_ts is not None and r.occurred_ts > until_ts:
            continue
        best = latest.get(r.reservoir_id)
        if best is None or rules.latest_key(r.occurred_ts, rid) > rules.latest_key(
            best[1].occurred_ts, best[0]
        ):
            latest[r.reservoir_id] = (rid, r)
    return latest


def reservoir_statuses(rollup: Rollup) -> dict[str, str]:
    """The latest status of each reservoir with a report (memoised per seq)."""

    def build() -> dict[str, str]:
        return {res: r.status for res, (_, r) in latest_reservoir_reports(rollup).items()}

    result: dict[str, str] = rollup.memo("reservoir_statuses", build)
    return result


def people_by_village(rollup: Rollup, figure: str) -> dict[str, int]:
    """People per village adding to one figure ('evacuated', 'rescued'...: rules.people_figure),
    memoised per seq."""

    def build() -> dict[str, int]:
        out: dict[str, int] = {}
        for (_t, _z, village, _s, kind, subtype), (_n, p) in rollup.area.items():
            if village and rules.people_figure(kind, subtype) == figure:
                out[village] = out.get(village, 0) + p
        return out

    result: dict[str, int] = rollup.memo(f"by_village:{figure}", build)
    return result


def at_risk_now(rollup: Rollup, places: rules.RiskPlaces) -> dict[str, int]:
    """Population at risk per village at the roll-up's position (memoised per seq)."""

    def build() -> dict[str, int]:
        return places.at_risk(reservoir_statuses(rollup), people_by_village(rollup, "evacuated"))

    result: dict[str, int] = rollup.memo("at_risk", build)
    return result
