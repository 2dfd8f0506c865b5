"""Help requests (received → resolved, like the service centres' acceptance → completion) and
reservoir status, from the per-report part of the roll-up.

Time to resolution (rules.resolution_s) and its median over every resolved request are kept by
the roll-up as the log moves on; escalation uses rules.EscalationLimits (minutes), the limits of
the live map.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from floodpost import rules
from floodpost.rules import EscalationLimits
from floodpost.stats.reference import Reference
from floodpost.stats.risk import latest_reservoir_reports
from floodpost.stats.rollup import HelpRequest, Rollup


def was_escalated(h: HelpRequest, now_ts: float, limits: EscalationLimits) -> bool:
    """Whether the live rules escalated the request at some point of its life (up to its
    resolution, or `now_ts` while open): rules.was_escalated."""
    end = (h.resolved_ts or h.updated_ts) if h.state == "resolved" else now_ts
    return rules.was_escalated(h.received_ts, h.assigned_ts, h.en_route_ts, end, limits)


def by_state(rollup: Rollup) -> dict[str, int]:
    """Active help requests per lifecycle state (memoised per seq)."""

    def build() -> dict[str, int]:
        counts: dict[str, int] = {}
        for h in rollup.help.values():
            counts[h.state] = counts.get(h.state, 0) + 1
        return counts

    result: dict[str, int] = rollup.memo("by_state", build)
    return result


def service_figures(rollup: Rollup) -> dict[str, Any]:
    """Like the county service centres: received, resolved, median minutes to resolution (over
    every resolved request, rules.resolution_s) — the live panel's service numbers."""
    received = len(rollup.help)
    return {
        "received": received,
        "resolved": by_state(rollup).get("resolved", 0),
        "median_resolution_min": rules.median_minutes(rollup.resolution.median()),
        "median_sample": len(rollup.resolution),
    }


def _settled(rollup: Rollup, limits: EscalationLimits) -> dict[str, Any]:
    """The part of the figures that only changes with the log: median time to resolution and
    escalations among resolved requests, and the open requests."""
    escalated = 0
    still_open: list[HelpRequest] = []
    for h in rollup.help.values():
        if h.state == "resolved":
            if h.escalated is None:
                h.escalated = was_escalated(h, h.resolved_ts or h.updated_ts, limits)
            escalated += h.escalated
        else:
            still_open.append(h)
    median = rollup.resolution.median()
    return {"median": median, "escalated": escalated, "open": still_open}


def help_request_stats(
    rollup: Rollup, *, limits: EscalationLimits, now_ts: float
) -> dict[str, Any]:
    """received / resolved / open, median minutes to resolution, and how many were escalated
    by the live rules at some point."""
    base = rollup.memo("help", lambda: _settled(rollup, limits))
    states = dict(by_state(rollup))
    received = len(rollup.help)
    resolved = states.get("resolved", 0)
    escalated = base["escalated"] + sum(was_escalated(h, now_ts, limits) for h in base["open"])
    return {
        "received": received,
        "resolved": resolved,
        "open": received - resolved,
        "by_state": states,
        "resolved_pct": round(100.0 * resolved / received, 1) if received else None,
        "median_minutes_to_resolution": rules.median_minutes(base["median"]),
        "escalated": escalated,
    }


def _open_intervals(rollup: Rollup) -> tuple[list[float], list[float]]:
    """Sorted starts (occurred) of all requests and sorted ends of the resolved ones, on the
    event's clock (occurrence plus how long the command post took)."""
    requests = rollup.help.values()
    starts = sorted([h.occurred_ts for h in requests])
    ends = sorted([h.resolved_end for h in requests if h.resolved_end is not None])
    return starts, ends


def open_help_requests_at(rollup: Rollup, t: float) -> int:
    """Help requests that had happened by `t` and were not yet resolved at `t`."""
    starts, ends = rollup.memo("help_intervals", lambda: _open_intervals(rollup))
    # A request resolved by t (end <= t) had also started by t, so the difference counts
    # exactly those started and not yet resolved.
    return bisect_right(starts, t) - bisect_right(ends, t)


def reservoir_status(
    rollup: Rollup, ref: Reference, *, until_ts: float | None = None
) -> list[dict[str, Any]]:
    """Latest reported status of every reservoir (by when it happened), 'normal' if none."""
    latest = latest_reservoir_reports(rollup, until_ts=until_ts)
    out = []
    for res_id in list(ref.reservoir_names) + sorted(set(latest) - set(ref.reservoir_names)):
        found = latest.get(res_id)
        report = found[1] if found else None
        out.append(
            {
                "reservoir_id": res_id,
                "name": ref.reservoir_names.get(res_id, ""),
                "status": report.status if report else "normal",
                "since": report.occurred_at if report else None,
                "reported": report is not None,
            }
        )
    return out
