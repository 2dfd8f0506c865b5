"""What a field report is, as a phone sends it and as the command post stores it.

Pydantic here is a validation library, not web code: the same models check reports from the API,
from the replay and from the simulator.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from floodpost import moments
from floodpost.errors import InvalidReport
from floodpost.timefmt import iso_utc as iso_utc  # re-exported for older imports

# Each enumeration is written once, as a Literal (what pydantic and mypy check); the tuples that
# code iterates over and docs list are derived from it.
Kind = Literal["evacuation", "rescue", "incident", "help_request"]
Subtype = Literal[
    "seepage",  # 渗漏
    "piping",  # 管涌
    "overtopping",  # 漫坝
    "dam_damage",  # 坝体损坏
    "landslide",  # 山体滑坡
    "road_cut",  # 道路中断
    "power_outage",  # 停电
    "telecom_outage",  # 通信中断
    "death",  # 死亡
    "missing",  # 失踪
    "other",
]
ReservoirStatus = Literal["normal", "seepage", "danger", "failed"]
Urgency = Literal["normal", "urgent", "critical"]
HelpState = Literal["new", "assigned", "en_route", "resolved"]
ResolutionKind = Literal["rescued", "not_needed", "duplicate"]
ReportStatus = Literal["active", "retracted"]

KINDS: tuple[str, ...] = get_args(Kind)
INCIDENT_SUBTYPES: tuple[str, ...] = get_args(Subtype)
RESERVOIR_STATUSES: tuple[str, ...] = get_args(ReservoirStatus)
URGENCIES: tuple[str, ...] = get_args(Urgency)
HELP_STATES: tuple[str, ...] = get_args(HelpState)
RESOLUTIONS: tuple[str, ...] = get_args(ResolutionKind)
REPORT_STATUSES: tuple[str, ...] = get_args(ReportStatus)
# Subtypes that are about a reservoir or dam and so may carry reservoir_id / reservoir_status.
RESERVOIR_SUBTYPES: tuple[str, ...] = ("seepage", "piping", "overtopping", "dam_damage", "other")

MAX_PEOPLE = 5000
MAX_NOTE_CHARS = 2000
MAX_SHORT_CHARS = 120


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


ShortText = Annotated[str, Field(max_length=MAX_SHORT_CHARS), AfterValidator(_no_nul)]
NoteText = Annotated[str, Field(max_length=MAX_NOTE_CHARS), AfterValidator(_no_nul)]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ReportCreate(BaseModel):
    """A report as the client sends it. Only the core fields are required: a report from the
    field must never be lost for a missing detail, so every kind-specific field has a default."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: uuid.UUID
    kind: Kind
    occurred_at: AwareDatetime
    # strict: a phone sends numbers; "110" or true is a client bug to name, not to guess at.
    lon: float | None = Field(None, strict=True)
    lat: float | None = Field(None, strict=True)
    village_code: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    people: int = Field(0, ge=0, le=MAX_PEOPLE, strict=True)
    note: NoteText = ""
    accuracy_m: float | None = Field(None, ge=0, le=100_000, strict=True)
    # evacuation: to which shelter
    shelter_id: Code | None = None
    # rescue: which team
    team: ShortText | None = None
    # incident
    subtype: Subtype = "other"
    reservoir_id: Code | None = None
    reservoir_status: ReservoirStatus | None = None
    # help request
    urgency: Urgency = "normal"
    contact: ShortText | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_uuid_text(cls, value: Any) -> Any:
        # Never invent an id and never accept a number or a mangled one: the id is what makes a
        # resend recognisable.
        if not isinstance(value, str):
            raise ValueError("id must be a UUID string made by the client")
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _occurred_text(cls, value: Any) -> Any:
        # A number would be read as seconds or milliseconds since 1970 by guess: refuse it.
        return moments.check_text(value)

    @field_validator("occurred_at")
    @classmethod
    def _occurred_bounds(cls, value: datetime, info: ValidationInfo) -> datetime:
        # Between 1970 and a margin after the server clock (the caller passes both through the
        # validation context: {"now": ts, "future_s": seconds}; without one, time.time() and a day).
        limits = info.context or {}
        moments.check_bounds(
            moments.aware_ts(value), now=limits.get("now"), future_s=limits.get("future_s")
        )
        return value

    @field_validator("lon", "lat", "accuracy_m")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("lon")
    @classmethod
    def _lon_range(cls, value: float | None) -> float | None:
        if value is not None and not -180.0 <= value <= 180.0:
            raise ValueError("longitude must be between -180 and 180")
        return value

    @field_validator("lat")
    @classmethod
    def _lat_range(cls, value: float | None) -> float | None:
        if value is not None and not -90.0 <= value <= 90.0:
            raise ValueError("latitude must be between -90 and 90")
        return value

    @model_validator(mode="after")
    def _has_place(self) -> ReportCreate:
        if (self.lon is None) != (self.lat is None):
            missing = "lat" if self.lat is None else "lon"
            raise ValueError(f"{missing}: lon and lat come together")
        if self.lon is None and self.village_code is None:
            raise ValueError("lon: a report needs lon and lat, or village_code")
        return self

    def submitted(self) -> dict[str, Any]:
        """The client's content in canonical JSON form (what idempotency compares)."""
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        return content_hash_of(self.submitted())


def content_hash_of(submitted: dict[str, Any]) -> str:
    """The content hash of a report's `submitted()` form."""
    canon = json.dumps(submitted, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def parse_report(
    data: Any, *, now: float | None = None, future_s: float | None = None
) -> ReportCreate:
    """Validate a client payload, turning pydantic's errors into one InvalidReport naming the field.

    `now` and `future_s` bound occurred_at (the server clock and the allowed margin after it)."""
    if not isinstance(data, dict):
        raise InvalidReport("the body must be a JSON object", field="body")
    try:
        return ReportCreate.model_validate(data, context={"now": now, "future_s": future_s})
    except ValidationError as exc:
        raise invalid_from(exc) from None


def invalid_from(exc: ValidationError) -> InvalidReport:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    msg = str(first.get("msg", "invalid"))
    field = ".".join(loc) if loc else None
    # Model-level checks put the field at the start of their message ("lon: …").
    if not field and ": " in msg:
        head, _, rest = msg.removeprefix("Value error, ").partition(": ")
        if head.isidentifier():
            field, msg = head, rest
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or None, "msg": str(e.get("msg"))}
        for e in errors
    ]
    return InvalidReport(f"{field or 'body'}: {msg}", field=field or "body", errors=details)
