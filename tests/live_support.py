"""Helpers for the live command-post tests: reports made the way intake makes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from floodpost.reports.model import parse_report
from floodpost.reports.stored import build_stored

# 2017-07-01 12:00 Asia/Shanghai, in the flood week.
T0 = datetime(2017, 7, 1, 4, 0, tzinfo=UTC).timestamp()


def village_seat(catalogue: Any, index: int = 0) -> tuple[float, float, str]:
    code, v = list(catalogue.records("villages").items())[index]
    return float(v["seat_lon"]), float(v["seat_lat"]), code


def make_report(
    router: Any, *, received_ts: float, reporter: str = "li", **fields: Any
) -> tuple[dict[str, Any], str]:
    payload = {
        "id": str(uuid.uuid4()),
        "kind": "help_request",
        "occurred_at": datetime.fromtimestamp(received_ts, UTC).isoformat(),
        "people": 3,
        "note": "",
    }
    payload.update(fields)
    report = parse_report(payload)
    routing = router.route(report.lon, report.lat, report.village_code)
    return build_stored(report, routing, reporter=reporter, received_ts=received_ts), (
        report.content_hash()
    )


def add_report(store: Any, router: Any, *, received_ts: float, **fields: Any) -> dict[str, Any]:
    stored, chash = make_report(router, received_ts=received_ts, **fields)
    created, _ = store.create_report(stored, chash, actor=stored["reporter"])
    return created
