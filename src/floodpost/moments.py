"""Moments a client sends (report times, query instants): parsed once, bounded everywhere.

A date from the field is either a mistake or an attack when it lies before 1970 (no flood log this
service keeps goes back that far, and local-hour arithmetic on years 1–999 produced malformed
rows) or far in the future (year 9999 plus an offset overflows Python's datetime in the local-hour
conversion). Numbers are refused outright: `253402300799` is seconds to one client and
milliseconds to another, and guessing silently files a report in the wrong decade.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, tzinfo
from typing import Any

from floodpost.errors import InvalidInput

EARLIEST_TS = 0.0  # 1970-01-01T00:00:00Z
DEFAULT_FUTURE_S = 24 * 3600.0


class MomentError(ValueError):
    """A bad moment; the message says why (the caller knows the field name)."""


def check_text(value: Any) -> str:
    """The text of a moment, refusing numbers and digit-only strings."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise MomentError("must be an ISO-8601 date and time as text, not a number")
    text = value.strip()
    if not text or text.replace(".", "", 1).lstrip("+-").isdigit():
        raise MomentError("must be an ISO-8601 date and time (e.g. 2017-07-01T10:00:00+08:00)")
    return text


def check_bounds(ts: float, *, now: float | None = None, future_s: float | None = None) -> float:
    """`ts` if it lies between 1970 and `future_s` after `now` (the server clock)."""
    now = time.time() if now is None else now
    future_s = DEFAULT_FUTURE_S if future_s is None else future_s
    if not math.isfinite(ts) or ts < EARLIEST_TS:
        raise MomentError("must not be before 1970-01-01")
    if ts > now + future_s:
        hours = future_s / 3600
        raise MomentError(f"must not be more than {hours:g} h after the server's clock")
    return ts


def aware_ts(moment: datetime) -> float:
    """The UTC timestamp of an aware datetime, without converting it to another zone (the
    conversion itself overflows near year 1 and year 9999)."""
    offset = moment.utcoffset()
    naive = moment.replace(tzinfo=None)
    base = (naive - datetime(1970, 1, 1)).total_seconds()
    return base - (offset.total_seconds() if offset is not None else 0.0)


def parse_moment(
    value: Any,
    field: str,
    *,
    now: float | None = None,
    future_s: float | None = None,
    local_tz: tzinfo | None = None,
) -> float:
    """An ISO-8601 moment as a UTC timestamp; InvalidInput naming `field` for anything else.

    Without an offset the moment is read in `local_tz`, or refused when none is given."""
    try:
        text = check_text(value)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise MomentError(
                "must be an ISO-8601 date and time (e.g. 2017-07-01T10:00:00+08:00)"
            ) from None
        if moment.tzinfo is None:
            if local_tz is None:
                raise MomentError("needs a UTC offset (e.g. 2017-07-01T10:00:00+08:00)")
            if not 1970 <= moment.year <= 9998:
                raise MomentError("must not be before 1970-01-01")
            moment = moment.replace(tzinfo=local_tz)
        return check_bounds(aware_ts(moment), now=now, future_s=future_s)
    except MomentError as exc:
        raise InvalidInput(f"{field} {exc}", field=field) from None
