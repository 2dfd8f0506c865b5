"""Report intake: a request body in, a durable routed report out (no web code here).

    stored, content_hash = prepare_report(router, decode_json(raw), reporter="li.ming")
    stored, created = store.create_report(stored, content_hash, actor="li.ming")

(the web route awaits the store's write instead of blocking a thread on it). `created` is False for an identical resend (ODK Central's semantics: the client learns the report
arrived, the store is unchanged); a different report under the same id raises Conflict
(`code="id_conflict"`). Everything a client can send is turned into InvalidReport naming the field,
never into an unexpected exception.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any, Protocol

from floodpost import moments
from floodpost.errors import Conflict, InvalidInput, InvalidReport, NotFound
from floodpost.reports.model import KINDS, content_hash_of, parse_report
from floodpost.reports.stored import RoutingLike, as_record, build_stored
from floodpost.storage.base import Store

DEFAULT_LIST_LIMIT = 10_000
MAX_LIST_LIMIT = 100_000
# Roles that see every report; field members see only their own.
SEE_ALL_ROLES = frozenset({"commander", "staff", "viewer"})


class Router(Protocol):
    def route(
        self, lon: float | None, lat: float | None, village_code: str | None
    ) -> RoutingLike: ...


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


# One decoder for every body: json.loads with an option builds a new JSONDecoder per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def decode_json(raw: bytes) -> Any:
    """Parse a request body as strict JSON (no NaN/Infinity); InvalidReport(field="body") if not."""
    if not raw.strip():
        raise InvalidReport("the body is empty; send the report as a JSON object", field="body")
    try:
        # What json.loads does with bytes (UTF-8/16/32 told apart by their first bytes).
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        return _DECODER.decode(text)
    except RecursionError:
        raise InvalidReport("the JSON is nested too deeply", field="body") from None
    except (ValueError, UnicodeDecodeError) as exc:
        # ValueError covers JSONDecodeError, refused constants and integers too long to convert.
        raise InvalidReport(f"the body is not valid JSON: {exc}", field="body") from None


def prepare_report(
    router: Router,
    data: Any,
    *,
    reporter: str,
    received_ts: float | None = None,
    future_s: float | None = None,
) -> tuple[dict[str, Any], str]:
    """Validate and route a client payload: (stored form, content hash), nothing written yet.
    occurred_at may lie at most `future_s` after `received_ts` (the server clock)."""
    report = parse_report(data, now=received_ts, future_s=future_s)
    routing = router.route(report.lon, report.lat, report.village_code)
    # One model_dump for the stored form and the hash (≈ 4 % of the event loop per report).
    submitted = report.submitted()
    stored = build_stored(
        report, routing, reporter=reporter, received_ts=received_ts, submitted=submitted
    )
    return as_record(stored), content_hash_of(submitted)


def submit_report(
    store: Store,
    router: Router,
    data: Any,
    *,
    reporter: str,
    received_ts: float | None = None,
) -> tuple[dict[str, Any], bool]:
    """Validate, route and durably store one report; returns (stored report, created). The HTTP
    route takes the non-blocking path (create_report_future); SMS intake (sms.receive) this one."""
    stored, content_hash = prepare_report(router, data, reporter=reporter, received_ts=received_ts)
    return store.create_report(stored, content_hash, actor=reporter)


def check_resend(stored: dict[str, Any], created: bool, *, viewer: str, role: str) -> None:
    """A resend under an id someone else's report already has is a conflict (issue 13): a field
    member who guesses or copies another member's report id must not get that report back, even
    with identical content. Raised before anything of it is answered."""
    if created or role in SEE_ALL_ROLES or stored.get("reporter") == viewer:
        return
    raise Conflict("a different report with this id already exists", field="id", code="id_conflict")


def parse_since(value: str | None) -> float | None:
    """An ISO-8601 instant (with offset, or Z) as a UTC timestamp; InvalidInput names `since`.
    A `+` left unescaped in a query string arrives as a space, hence the replace. Bounded like
    every moment below (1970) but not above: a filter far in the future just matches nothing."""
    if value is None or value == "":
        return None
    try:
        return moments.parse_moment(value.replace(" ", "+"), "since", future_s=math.inf)
    except InvalidInput as exc:  # a report query parameter: the reports' own error code
        raise InvalidReport(exc.message, field="since") from None


def list_visible(
    store: Store,
    *,
    viewer: str,
    role: str,
    since: str | None = None,
    kind: str | None = None,
    township: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of reports this viewer may see, oldest first: {"reports", "next_cursor"}."""
    if kind is not None and kind not in KINDS:
        raise InvalidReport(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if limit is None:
        limit = DEFAULT_LIST_LIMIT
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidReport(f"limit must be between 1 and {MAX_LIST_LIMIT}", field="limit")
    after = 0
    if cursor:
        if not cursor.isdigit() or len(cursor) > 18:
            raise InvalidReport("cursor is not one this server gave out", field="cursor")
        after = int(cursor)
    reports, next_seq = store.list_reports(
        kind=kind,
        township=township or None,
        since_ts=parse_since(since),
        reporter=None if role in SEE_ALL_ROLES else viewer,
        after_seq=after,
        limit=limit,
    )
    return {"reports": reports, "next_cursor": None if next_seq is None else str(next_seq)}


def visible_report(store: Store, report_id: str, *, viewer: str, role: str) -> dict[str, Any]:
    """One report if this viewer may see it; NotFound otherwise (a field member asking for
    someone else's report learns nothing, not even that it exists)."""
    report = store.get_report(canonical_id(report_id))
    if report is None or (role not in SEE_ALL_ROLES and report.get("reporter") != viewer):
        raise NotFound("no report with this id", field="id")
    return report


def canonical_id(report_id: str) -> str:
    """The stored spelling of a report UUID (lower case, hyphenated); NotFound if not a UUID."""
    try:
        return str(uuid.UUID(report_id))
    except (ValueError, AttributeError, TypeError):
        raise NotFound("no report with this id", field="id") from None
