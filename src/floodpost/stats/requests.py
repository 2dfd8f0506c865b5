"""Help requests (received → resolved, like the service centres' acceptance → completion) and
reservoir status, read from the indexed columns of the `reports` table.

Time to resolution is `updated_ts - received_ts` of resolved requests: a resolved request is not
changed again by the lifecycle, so its last update is its resolution, and both are columns (the
resolution time inside the JSON body would mean parsing every request on each call).
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from floodpost.stats.reference import Reference
from floodpost.storage.base import Store

_HELP = "kind = 'help_request' AND status = 'active'"


def help_request_stats(store: Store, *, escalate_after_s: float, now_ts: float) -> dict[str, Any]:
    """received / resolved / open, median minutes to resolution, and how many waited longer
    than the escalation limit (resolved late, or still open past it)."""
    counts = store.read(
        f"SELECT state, COUNT(*) AS n FROM reports WHERE {_HELP} GROUP BY state"  # noqa: S608
    )
    by_state = {r["state"] or "new": int(r["n"]) for r in counts}
    received = sum(by_state.values())
    resolved = by_state.get("resolved", 0)
    durations = [
        float(r["d"])
        for r in store.read(
            f"SELECT updated_ts - received_ts AS d FROM reports WHERE {_HELP} AND state = ?",
            ("resolved",),
        )
    ]
    late_open = store.read(
        f"SELECT COUNT(*) AS n FROM reports WHERE {_HELP} AND state <> ? AND received_ts < ?",
        ("resolved", now_ts - escalate_after_s),
    )[0]["n"]
    escalated = sum(1 for d in durations if d > escalate_after_s) + int(late_open or 0)
    return {
        "received": received,
        "resolved": resolved,
        "open": received - resolved,
        "by_state": by_state,
        "resolved_pct": round(100.0 * resolved / received, 1) if received else None,
        "median_minutes_to_resolution": (
            round(statistics.median(durations) / 60.0, 1) if durations else None
        ),
        "escalated": escalated,
    }


def open_help_requests_at(store: Store, t: float) -> int:
    """Help requests that had happened by `t` and were not yet resolved at `t` (the resolution
    moment on the event's clock is its occurrence plus how long the command post took)."""
    rows = store.read(
        f"SELECT COUNT(*) AS n FROM reports WHERE {_HELP} AND occurred_ts <= ? "
        "AND (state <> ? OR occurred_ts + (updated_ts - received_ts) > ?)",
        (t, "resolved", t),
    )
    return int(rows[0]["n"] or 0)


def reservoir_status(store: Store, ref: Reference, *, until_ts: float | None = None) -> list[dict]:
    """Latest reported status of every reservoir (by when it happened), 'normal' if none."""
    cond = "kind = 'incident' AND status = 'active' AND reservoir_id IS NOT NULL"
    params: tuple[Any, ...] = ()
    if until_ts is not None:
        cond += " AND occurred_ts <= ?"
        params = (until_ts,)
    # The partial index on (reservoir_id, occurred_ts) answers both parts; only the few latest
    # bodies are parsed, and only they carry the status.
    rows = store.read(
        f"SELECT r.reservoir_id AS rid, r.seq AS seq, r.body AS body FROM reports r "
        f"JOIN (SELECT reservoir_id, MAX(occurred_ts) AS m FROM reports WHERE {cond} "
        f"GROUP BY reservoir_id) l ON r.reservoir_id = l.reservoir_id AND r.occurred_ts = l.m "
        f"WHERE r.kind = 'incident' AND r.status = 'active' ORDER BY r.seq",
        params,
    )
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        body = json.loads(r["body"])
        if body.get("reservoir_status"):
            latest[r["rid"]] = body
    missing = {r["rid"] for r in rows} - set(latest)
    for rid in missing:  # latest report had no status: the one before it tells
        for r in store.read(
            f"SELECT body FROM reports WHERE {cond} AND reservoir_id = ? "
            "ORDER BY occurred_ts DESC, seq DESC",
            (*params, rid),
        ):
            body = json.loads(r["body"])
            if body.get("reservoir_status"):
                latest[rid] = body
                break
    out = []
    for rid in list(ref.reservoir_names) + sorted(set(latest) - set(ref.reservoir_names)):
        body = latest.get(rid)
        out.append(
            {
                "reservoir_id": rid,
                "name": ref.reservoir_names.get(rid, ""),
                "status": body["reservoir_status"] if body else "normal",
                "since": body.get("occurred_at") if body else None,
                "reported": body is not None,
            }
        )
    return out
