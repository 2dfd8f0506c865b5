"""Times as floodpost writes them: UTC ISO strings and Asia/Shanghai hour buckets.

A leaf module (standard library only) so that storage, reports and statistics can all use it
without importing each other: storage files each report's aggregates under its local hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_hour(ts: float) -> str:
    """The Asia/Shanghai hour bucket 'YYYY-MM-DDTHH' of a UTC timestamp (statistics by day/hour)."""
    return datetime.fromtimestamp(ts, LOCAL_TZ).strftime("%Y-%m-%dT%H")


def iso_utc(ts: float) -> str:
    """'2017-07-01T04:00:00.000Z' for a UTC timestamp."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
