"""The stored form of a report: what the phone sent, plus where it was routed and its state."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from floodpost.reports.model import ReportCreate
from floodpost.timefmt import LOCAL_TZ as LOCAL_TZ  # re-exported for older imports
from floodpost.timefmt import iso_utc
from floodpost.timefmt import local_hour as local_hour  # re-exported for older imports


class RoutingLike(Protocol):
    # Read-only properties, so a frozen dataclass (geo.routing.Routing) satisfies the protocol.
    @property
    def township_code(self) -> str | None: ...
    @property
    def village_code(self) -> str | None: ...
    @property
    def zone_id(self) -> str | None: ...
    @property
    def responsible(self) -> str | None: ...
    @property
    def outside_county(self) -> bool: ...
    @property
    def distance_outside_m(self) -> float: ...


@dataclass(frozen=True)
class RoutingOf:
    """The routing an already stored report carries (a rescue is routed where help was asked)."""

    township_code: str | None
    village_code: str | None
    zone_id: str | None
    responsible: str | None
    outside_county: bool
    distance_outside_m: float

    @classmethod
    def of(cls, r: dict[str, Any]) -> RoutingOf:
        return cls(
            r.get("township_code"),
            r.get("village_code"),
            r.get("zone_id"),
            r.get("responsible"),
            bool(r.get("outside_county")),
            float(r.get("distance_outside_m") or 0.0),
        )


def build_stored(
    report: ReportCreate,
    routing: RoutingLike,
    *,
    reporter: str | None,
    received_ts: float | None = None,
) -> dict[str, Any]:
    """The report as the store keeps it and the API returns it (ReportPublic)."""
    now = time.time() if received_ts is None else received_ts
    body = report.submitted()
    body.update(
        occurred_ts=report.occurred_at.timestamp(),
        received_at=iso_utc(now),
        received_ts=now,
        updated_at=iso_utc(now),
        updated_ts=now,
        village_code=routing.village_code,
        township_code=routing.township_code,
        zone_id=routing.zone_id,
        responsible=routing.responsible,
        outside_county=routing.outside_county,
        distance_outside_m=round(routing.distance_outside_m, 1),
        reporter=reporter,
        status="active",
        version=1,
    )
    if report.kind != "incident":
        # Incident-only fields mean nothing elsewhere; dropping them keeps statistics honest.
        body["subtype"] = None
        body["reservoir_id"] = None
        body["reservoir_status"] = None
    if report.kind == "help_request":
        body.update(
            state="new",
            assignee=None,
            resolution=None,
            resolved_at=None,
            resolved_ts=None,
            duplicate_of=None,
            rescued=None,
        )
    else:
        body["urgency"] = None
        body["contact"] = body.get("contact") if report.kind == "help_request" else None
    return body
