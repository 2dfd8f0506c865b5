"""Corrections and retractions by staff: every change is a new audit entry, nothing is deleted.

A correction names the fields to change and why; the corrected report is validated again like a
new one and re-routed when its place changes. The stored content hash is kept, so a phone that
resends its original report still gets 200 (it did arrive) and sees the corrected version.
Statistics follow the latest state because the store moves the aggregates in the same transaction.
"""

from __future__ import annotations

from typing import Any

from floodpost.errors import Conflict, InvalidReport, NotFound
from floodpost.reports.intake import Router, canonical_id
from floodpost.reports.model import ReportCreate, iso_utc, parse_report
from floodpost.reports.stored import LIFECYCLE, RoutingOf, build_stored
from floodpost.storage.base import Change, Store

MAX_REASON_CHARS = 500
CORRECTABLE = tuple(name for name in ReportCreate.model_fields if name != "id")
PLACE_FIELDS = frozenset({"lon", "lat", "village_code"})
# Bookkeeping that changes on every write and says nothing about what was corrected.
_NOT_A_CHANGE = frozenset({"version", "updated_at", "updated_ts"})


def parse_reason(body: Any) -> str:
    if not isinstance(body, dict):
        raise InvalidReport("the body must be a JSON object", field="body")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidReport("say why: a reason is required", field="reason")
    if len(reason) > MAX_REASON_CHARS or "\x00" in reason:
        raise InvalidReport(
            f"reason must be at most {MAX_REASON_CHARS} characters without NUL", field="reason"
        )
    return reason.strip()


def parse_correction(body: Any) -> tuple[dict[str, Any], str]:
    """(fields to change, reason) from a PATCH body; InvalidReport names a bad field."""
    reason = parse_reason(body)
    changes = {k: v for k, v in body.items() if k != "reason"}
    for name in changes:
        if name == "id":
            raise InvalidReport("a report's id cannot be changed", field="id")
        if name not in CORRECTABLE:
            raise InvalidReport(
                f"{name} is not a field that can be corrected", field=str(name)[:64]
            )
    if not changes:
        raise InvalidReport("name at least one field to correct", field="body")
    return changes, reason


def _submitted_fields(stored: dict[str, Any]) -> dict[str, Any]:
    # Fields the stored form sets to None for other kinds are left out so their defaults apply.
    fields = {k: stored[k] for k in ("id", *CORRECTABLE) if stored.get(k) is not None}
    return fields


def correct_report(
    store: Store,
    router: Router,
    report_id: str,
    body: Any,
    *,
    actor: str,
    now: float | None = None,
    future_s: float | None = None,
) -> dict[str, Any]:
    """Apply a staff correction (fields + reason); returns the new version of the report.
    `now` and `future_s` bound occurred_at as on intake."""
    changes, reason = parse_correction(body)
    rid = canonical_id(report_id)

    def modify(old: dict[str, Any]) -> dict[str, Any]:
        merged = _submitted_fields(old)
        if PLACE_FIELDS & changes.keys() and "village_code" not in changes:
            # The stored village_code is the routing result; a moved point is routed afresh.
            merged.pop("village_code", None)
        merged.update(changes)
        merged = {k: v for k, v in merged.items() if v is not None}
        report = parse_report(merged, now=now, future_s=future_s)
        if PLACE_FIELDS & changes.keys():
            routing = router.route(report.lon, report.lat, report.village_code)
        else:
            routing = RoutingOf.of(old)
        fresh = build_stored(
            report, routing, reporter=old.get("reporter"), received_ts=old.get("received_ts")
        )
        new = {**old, **fresh}
        for key in ("received_at", "received_ts", "status"):
            if key in old:
                new[key] = old[key]
        # The help-request lifecycle (stored.LIFECYCLE): a correction of the content keeps it.
        if old.get("kind") == "help_request" and report.kind == "help_request":
            for key in LIFECYCLE:
                if key in old:
                    new[key] = old[key]
        elif report.kind != "help_request":
            for key in LIFECYCLE:
                if key in new:
                    new[key] = None
        return new

    return store.modify_report(rid, modify, actor=actor, action="correct", reason=reason)


def retract_report(store: Store, report_id: str, body: Any, *, actor: str) -> dict[str, Any]:
    """Mark a report retracted (kept, shown as retracted, left out of statistics)."""
    reason = parse_reason(body)
    rid = canonical_id(report_id)

    def modify(old: dict[str, Any]) -> dict[str, Any]:
        if old.get("status") == "retracted":
            raise Conflict("the report is already retracted", code="already_retracted")
        return {**old, "status": "retracted"}

    return store.modify_report(rid, modify, actor=actor, action="retract", reason=reason)


def audit_entries(store: Store, report_id: str) -> dict[str, Any]:
    """The report's append-only history: who, when, what (changed fields), why."""
    rid = canonical_id(report_id)
    log = store.audit_log(rid)
    if not log:
        raise NotFound("no report with this id", field="id")
    entries = []
    previous: dict[str, Any] | None = None
    for change in log:
        entries.append(_entry(change, previous))
        previous = change.report
    return {"id": rid, "entries": entries}


def _entry(change: Change, previous: dict[str, Any] | None) -> dict[str, Any]:
    changed: dict[str, dict[str, Any]] = {}
    if previous is not None:
        for key in sorted(previous.keys() | change.report.keys()):
            if key in _NOT_A_CHANGE:
                continue
            before, after = previous.get(key), change.report.get(key)
            if before != after:
                changed[key] = {"from": before, "to": after}
    return {
        "seq": change.seq,
        "at": iso_utc(change.at_ts),
        "actor": change.actor,
        "action": change.action,
        "reason": change.reason,
        "changed": changed,
        "report": change.report,
    }
