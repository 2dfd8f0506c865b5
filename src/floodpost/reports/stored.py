"""The stored form of a report: what the phone sent, plus where it was routed and its state."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, cast

from pydantic import BaseModel, ConfigDict

from floodpost.reports.model import (
    HelpState,
    Kind,
    ReportCreate,
    ReportStatus,
    ReservoirStatus,
    ResolutionKind,
    Subtype,
    Urgency,
)
from floodpost.timefmt import LOCAL_TZ as LOCAL_TZ  # re-exported for older imports
from floodpost.timefmt import iso_utc
from floodpost.timefmt import local_hour as local_hour  # re-exported for older imports


class StoredFields(TypedDict):
    """Every stored report: the phone's fields (canonical JSON), then routing and bookkeeping.
    Fields that mean nothing for a kind are None (an evacuation has no subtype)."""

    id: str
    kind: Kind
    occurred_at: str
    lon: float | None
    lat: float | None
    village_code: str | None
    people: int
    note: str
    accuracy_m: float | None
    shelter_id: str | None
    team: str | None
    subtype: Subtype | None
    reservoir_id: str | None
    reservoir_status: ReservoirStatus | None
    urgency: Urgency | None
    contact: str | None
    occurred_ts: float
    received_at: str
    received_ts: float
    updated_at: str
    updated_ts: float
    township_code: str | None
    zone_id: str | None
    responsible: str | None
    outside_county: bool
    distance_outside_m: float
    reporter: str | None
    status: ReportStatus
    version: int


class HelpRequestFields(TypedDict, total=False):
    """A help request's lifecycle (reports.lifecycle), kept by content corrections and emptied
    (None) when a correction makes the report another kind."""

    # Set at intake (build_stored) with the next six; the three times below by the first steps.
    state: HelpState | None
    assignee: str | None
    assigned_ts: float | None
    en_route_ts: float | None
    state_ts: float | None  # time of the latest lifecycle step
    resolution: ResolutionKind | None
    resolved_at: str | None
    resolved_ts: float | None
    rescued: int | None
    duplicate_of: str | None
    rescue_id: str | None  # the rescue report a "rescued N" resolution made


class StoredReport(StoredFields, HelpRequestFields, total=False):
    """A report as the store keeps it and the API returns it (see ReportPublic)."""

    help_request_id: str  # on a rescue report made by resolving that help request


# The help-request lifecycle fields, in one place (corrections keep or clear exactly these).
LIFECYCLE: tuple[str, ...] = tuple(HelpRequestFields.__annotations__)


class ReportPublic(BaseModel):
    """The public shape of a stored report (API answers, the event stream, exports' source):
    the same fields as StoredReport, checked by pydantic (tests validate every kind of stored
    report against it, so the TypedDict and the answers cannot drift apart)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    kind: Kind
    occurred_at: str
    lon: float | None
    lat: float | None
    village_code: str | None
    people: int
    note: str
    accuracy_m: float | None
    shelter_id: str | None
    team: str | None
    subtype: Subtype | None
    reservoir_id: str | None
    reservoir_status: ReservoirStatus | None
    urgency: Urgency | None
    contact: str | None
    occurred_ts: float
    received_at: str
    received_ts: float
    updated_at: str
    updated_ts: float
    township_code: str | None
    zone_id: str | None
    responsible: str | None
    outside_county: bool
    distance_outside_m: float
    reporter: str | None
    status: ReportStatus
    version: int
    state: HelpState | None = None
    assignee: str | None = None
    assigned_ts: float | None = None
    en_route_ts: float | None = None
    state_ts: float | None = None
    resolution: ResolutionKind | None = None
    resolved_at: str | None = None
    resolved_ts: float | None = None
    rescued: int | None = None
    duplicate_of: str | None = None
    rescue_id: str | None = None
    help_request_id: str | None = None


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
    """The routing an already stored report carries: a rescue is routed where help was asked,
    and a correction that does not move a report keeps its routing."""

    township_code: str | None
    village_code: str | None
    zone_id: str | None
    responsible: str | None
    outside_county: bool
    distance_outside_m: float

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> RoutingOf:
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
    submitted: dict[str, Any] | None = None,
) -> StoredReport:
    """The report as the store keeps it and the API returns it (ReportPublic). `submitted`:
    `report.submitted()` if the caller has it already (intake hashes it too), left unchanged."""
    now = time.time() if received_ts is None else received_ts
    body: dict[str, Any] = dict(submitted) if submitted is not None else report.submitted()
    at = iso_utc(now)
    body.update(
        occurred_ts=report.occurred_at.timestamp(),
        received_at=at,
        received_ts=now,
        updated_at=at,
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
        body["contact"] = None  # only help requests keep a contact
    return cast(StoredReport, body)


def as_record(report: StoredReport) -> dict[str, Any]:
    """The same object as the plain dict the Store protocol takes (a TypedDict is not a
    dict[str, Any] to mypy, though it is one at run time)."""
    return cast(dict[str, Any], report)
