"""Help requests as work: new → assigned → en_route → resolved.

Every step goes through `store.modify_report`, so it lands in the audit log and on the event
stream in the same transaction. Times come from the injectable clock (escalation tests move it by
hand); the stored `updated_ts` is the store's own wall-clock time.

Fields a help request carries (set by `build_stored` at intake and updated here):
state, assignee, assigned_ts, en_route_ts, state_ts (time of the latest lifecycle step),
resolution (rescued / not_needed / duplicate), resolved_at, resolved_ts, rescued (N),
duplicate_of, rescue_id (the linked rescue report).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from floodpost.errors import Conflict, InvalidInput, NotFound
from floodpost.reports.model import MAX_PEOPLE, MAX_SHORT_CHARS, RESOLUTIONS, iso_utc, parse_report
from floodpost.reports.stored import RoutingOf, as_record, build_stored
from floodpost.storage.base import Store

Clock = Callable[[], float]

# Which states each step may start from. Reassigning (assigned/en_route → assigned) is allowed:
# a team may be pulled off and another sent.
_FROM = {
    "assigned": ("new", "assigned", "en_route"),
    "en_route": ("assigned",),
    "resolved": ("new", "assigned", "en_route"),
}


def rescue_id_for(help_request_id: str) -> str:
    """The id of the rescue report a 'rescued N' resolution creates (stable: a retried resolve
    never makes a second one)."""
    return str(uuid.uuid5(uuid.UUID(help_request_id), "rescue"))


def _check(report: dict[str, Any], step: str) -> None:
    if report.get("kind") != "help_request":
        raise InvalidInput("only help requests have a lifecycle", field="id")
    if report.get("status") != "active":
        raise Conflict("this help request was retracted", field="id", code="retracted")
    state = report.get("state") or "new"
    if state not in _FROM[step]:
        raise Conflict(
            f"a help request in state {state!r} cannot become {step!r}",
            field="state",
            code="bad_transition",
            state=state,
        )


def _step(
    store: Store,
    report_id: str,
    step: str,
    change: Callable[[dict[str, Any]], Any],
    *,
    actor: str | None,
    reason: str | None,
    now: float,
) -> dict[str, Any]:
    def modify(report: dict[str, Any]) -> Any:
        _check(report, step)
        report["state"] = step
        report["state_ts"] = now
        return change(report)

    return store.modify_report(report_id, modify, actor=actor, action=step, reason=reason)


def assign(
    store: Store, report_id: str, assignee: str | None, *, actor: str | None, clock: Clock
) -> dict[str, Any]:
    """Assign to a team or person; with no assignee, to the zone's responsible owner."""
    assignee = (assignee or "").strip()
    if len(assignee) > MAX_SHORT_CHARS or "\x00" in assignee:
        raise InvalidInput("assignee: too long or invalid", field="assignee")
    now = clock()

    def change(report: dict[str, Any]) -> dict[str, Any]:
        who = assignee or report.get("responsible")
        if not who:
            raise InvalidInput(
                "assignee: required (this place has no zone owner)", field="assignee"
            )
        report["assignee"] = who
        report["assigned_ts"] = now
        return report

    return _step(
        store, report_id, "assigned", change, actor=actor, reason=assignee or None, now=now
    )


def en_route(store: Store, report_id: str, *, actor: str | None, clock: Clock) -> dict[str, Any]:
    now = clock()

    def change(report: dict[str, Any]) -> dict[str, Any]:
        report["en_route_ts"] = now
        return report

    return _step(store, report_id, "en_route", change, actor=actor, reason=None, now=now)


@dataclass(frozen=True)
class Resolution:
    kind: str  # rescued / not_needed / duplicate
    rescued: int = 0
    duplicate_of: str | None = None
    note: str = ""

    def validate(self) -> None:
        if self.kind not in RESOLUTIONS:
            raise InvalidInput(f"resolution: one of {', '.join(RESOLUTIONS)}", field="resolution")
        if self.kind == "rescued" and not 1 <= self.rescued <= MAX_PEOPLE:
            raise InvalidInput(f"rescued: 1 to {MAX_PEOPLE} people", field="rescued")
        if self.kind == "duplicate":
            try:
                uuid.UUID(str(self.duplicate_of))
            except ValueError:
                raise InvalidInput(
                    "duplicate_of: the id of another report", field="duplicate_of"
                ) from None
        if len(self.note) > 2000 or "\x00" in self.note:
            raise InvalidInput("note: too long or invalid", field="note")


def _rescue_report(
    help_req: dict[str, Any], n: int, now: float, actor: str | None
) -> tuple[dict[str, Any], str]:
    """The linked rescue report (kind rescue, people N, same place) and its content hash."""
    rid = rescue_id_for(help_req["id"])
    payload: dict[str, Any] = {
        "id": rid,
        "kind": "rescue",
        "occurred_at": iso_utc(now),
        "people": n,
        "note": "",
        "team": (help_req.get("assignee") or None),
    }
    if help_req.get("lon") is not None:
        payload.update(lon=help_req["lon"], lat=help_req["lat"])
    else:
        payload["village_code"] = help_req["village_code"]
    # Bounded by the step's own clock: the rescue happened at `now` (issue 13's date bounds).
    created = parse_report(payload, now=now)
    routing = RoutingOf.of(help_req)  # the rescue happened where help was asked
    stored = build_stored(created, routing, reporter=actor, received_ts=now)
    stored["help_request_id"] = help_req["id"]
    return as_record(stored), created.content_hash()


def resolve(
    store: Store, report_id: str, resolution: Resolution, *, actor: str | None, clock: Clock
) -> dict[str, Any]:
    """Close a request. 'rescued N' creates the linked rescue report in the same transaction, so
    rescued totals (sums of rescue reports) never count a person twice."""
    resolution.validate()
    if resolution.kind == "duplicate":
        if resolution.duplicate_of == report_id:
            raise InvalidInput(
                "duplicate_of: a request cannot duplicate itself", field="duplicate_of"
            )
        other = store.get_report(str(resolution.duplicate_of))
        if other is None or other.get("kind") != "help_request":
            raise NotFound("duplicate_of: no such help request", field="duplicate_of")
    now = clock()

    def change(report: dict[str, Any]) -> Any:
        report["resolution"] = resolution.kind
        report["resolved_ts"] = now
        report["resolved_at"] = iso_utc(now)
        report["duplicate_of"] = resolution.duplicate_of if resolution.kind == "duplicate" else None
        if resolution.kind != "rescued":
            return report
        report["rescued"] = resolution.rescued
        rescue, chash = _rescue_report(report, resolution.rescued, now, actor)
        report["rescue_id"] = rescue["id"]
        return report, [(rescue, chash)]

    return _step(
        store,
        report_id,
        "resolved",
        change,
        actor=actor,
        reason=resolution.note or resolution.kind,
        now=now,
    )
