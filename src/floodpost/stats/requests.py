"""Help requests (received → resolved, like the service centres' acceptance → completion) and
reservoir status, from the per-report part of the roll-up.

Time to resolution is `resolved_ts - received_ts` of resolved requests, both columns of the
reports table (storage migration 2) read through the reports_help_resolved index alone. Not
`updated_ts`: a resolved request can still be corrected later, which moves its last update but
not its resolution.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from floodpost.stats.reference import Reference
from floodpost.stats.rollup import HelpRequest, Rollup
from floodpost.storage.base import Store


@dataclass(frozen=True)
class EscalationLimits:
    """The live escalation rules (floodpost.live.escalation), in seconds."""

    unassigned_s: float = 15 * 60.0
    stale_s: float = 60 * 60.0


def was_escalated(h: HelpRequest, now_ts: float, limits: EscalationLimits) -> bool:
    """Whether the live rules escalated the request at some point of its life: still unassigned
    too long after receipt, or too long between two lifecycle steps (or since the last one)."""
    end = (h.resolved_ts or h.updated_ts) if h.state == "resolved" else now_ts
    first_assigned = h.assigned_ts if h.assigned_ts is not None else end
    if first_assigned - h.received_ts > limits.unassigned_s:
        return True
    steps = sorted(
        [h.received_ts, end, *(t for t in (h.assigned_ts, h.en_route_ts) if t is not None)]
    )
    return any(b - a > limits.stale_s for a, b in zip(steps, steps[1:], strict=False))


# Read from the partial index reports_help_resolved(kind, state, status, resolved_ts,
# received_ts) alone.
_DURATIONS = (
    "SELECT resolved_ts - received_ts AS d FROM reports WHERE kind = 'help_request' "
    "AND state = 'resolved' AND status = 'active' AND resolved_ts IS NOT NULL"
)


def resolution_durations(store: Store) -> list[float]:
    """Seconds from receipt to resolution of every resolved, active help request."""
    return [max(0.0, float(r["d"])) for r in store.read(_DURATIONS)]


def _settled(rollup: Rollup, limits: EscalationLimits) -> dict[str, Any]:
    """The part of the figures that only changes with the log: counts by state, median time to
    resolution and escalations among resolved requests, and the open requests."""
    by_state: dict[str, int] = {}
    escalated = 0
    still_open: list[HelpRequest] = []
    for h in rollup.help.values():
        by_state[h.state] = by_state.get(h.state, 0) + 1
        if h.state == "resolved":
            if h.escalated is None:
                h.escalated = was_escalated(h, h.resolved_ts or h.updated_ts, limits)
            escalated += h.escalated
        else:
            still_open.append(h)
    durations = resolution_durations(rollup.store)
    median = statistics.median(durations) if durations else None
    return {"by_state": by_state, "median": median, "escalated": escalated, "open": still_open}


def help_request_stats(
    rollup: Rollup, *, limits: EscalationLimits, now_ts: float
) -> dict[str, Any]:
    """received / resolved / open, median minutes to resolution, and how many were escalated
    by the live rules at some point."""
    base = rollup.memo("help", lambda: _settled(rollup, limits))
    by_state = dict(base["by_state"])
    received = len(rollup.help)
    resolved = by_state.get("resolved", 0)
    escalated = base["escalated"] + sum(was_escalated(h, now_ts, limits) for h in base["open"])
    return {
        "received": received,
        "resolved": resolved,
        "open": received - resolved,
        "by_state": by_state,
        "resolved_pct": round(100.0 * resolved / received, 1) if received else None,
        "median_minutes_to_resolution": (
            round(base["median"] / 60.0, 1) if base["median"] is not None else None
        ),
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
    latest: dict[str, tuple[float, str, Any]] = {}
    for rid, r in rollup.reservoir.items():
        if until_ts is not None and r.occurred_ts > until_ts:
            continue
        order = (r.occurred_ts, rid)
        best = latest.get(r.reservoir_id)
        if best is None or order > best[:2]:
            latest[r.reservoir_id] = (r.occurred_ts, rid, r)
    out = []
    for res_id in list(ref.reservoir_names) + sorted(set(latest) - set(ref.reservoir_names)):
        found = latest.get(res_id)
        report = found[2] if found else None
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
