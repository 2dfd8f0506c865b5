"""Query parameters of /ogc/collections/{id}/items, parsed strictly: anything unknown or
malformed is a 400 naming the parameter (OGC 17-069 /req/core/query-param-invalid).

Clients write numbers the way their floats print: GDAL sends bbox=110.15000000000001,…; they are
parsed as numbers, never compared as text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from floodpost.errors import BadRequest

DEFAULT_LIMIT = 1000  # GDAL's own page size: one request per thousand features
MAX_LIMIT = 10000  # larger asks are served in pages of this size (17-069 permits capping)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# Accepted and ignored: `f` (only GeoJSON is offered) and bbox-crs when it names CRS84.
COMMON = frozenset({"limit", "bbox", "bbox-crs", "datetime", "f"})
FORMATS = frozenset({"json", "geojson", "application/geo+json", "application/json"})


@dataclass(frozen=True)
class ItemsQuery:
    limit: int = DEFAULT_LIMIT
    bbox: tuple[float, float, float, float] | None = None
    # Inclusive bounds on the feature's time (epoch seconds); None = open.
    time_from: float | None = None
    time_to: float | None = None
    has_datetime: bool = False
    # The collection's own parameters (paging token, property filters), still as text.
    extra: dict[str, str] = field(default_factory=dict)


def parse_items_query(pairs: Iterable[tuple[str, str]], extra_names: Iterable[str]) -> ItemsQuery:
    """Check the query string; `extra_names` are the parameters the collection adds."""
    allowed = COMMON | frozenset(extra_names)
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            raise BadRequest(
                f"unknown query parameter {name!r}; this collection takes "
                + ", ".join(sorted(allowed)),
                field=name,
            )
        if name in values:
            raise BadRequest(f"query parameter {name!r} given twice", field=name)
        values[name] = value
    f = values.pop("f", None)
    if f is not None and f.lower() not in FORMATS:
        raise BadRequest("f must be json (GeoJSON is the only format)", field="f")
    crs = values.pop("bbox-crs", None)
    if crs is not None and crs not in (CRS84, "CRS84", "OGC:CRS84"):
        raise BadRequest(f"bbox-crs must be {CRS84}", field="bbox-crs")
    limit = parse_limit(values.pop("limit", None))
    bbox = parse_bbox(values.pop("bbox", None))
    dt = values.pop("datetime", None)
    start, end = parse_datetime(dt) if dt is not None else (None, None)
    return ItemsQuery(limit, bbox, start, end, dt is not None, values)


def parse_limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    try:
        value = int(text.strip())
    except ValueError:
        raise BadRequest(f"limit must be a whole number, got {text!r}", field="limit") from None
    if value < 1:
        raise BadRequest(f"limit must be at least 1, got {value}", field="limit")
    return min(value, MAX_LIMIT)


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not a number", field=name) from None
    if not math.isfinite(value):
        raise BadRequest(f"{name}: {text!r} is not a finite number", field=name)
    return value


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """`minlon,minlat,maxlon,maxlat` (or 6 numbers with heights, which are ignored)."""
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise BadRequest(
            f"bbox must be 4 (or 6) comma-separated numbers, got {len(parts)}", field="bbox"
        )
    nums = [_number(p.strip(), "bbox") for p in parts]
    minx, miny, maxx, maxy = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadRequest(
            "bbox must be lon/lat (CRS84): min lon, min lat, max lon, max lat", field="bbox"
        )
    if minx > maxx:
        raise BadRequest("bbox crossing the antimeridian is not supported", field="bbox")
    return minx, miny, maxx, maxy


def _instant(text: str, *, end: bool) -> float | None:
    """RFC 3339 date-time (offset required) or a full date (a whole UTC day); '..'/'' = open."""
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return (day + timedelta(days=1) - timedelta(microseconds=1) if end else day).timestamp()
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise BadRequest(
            f"datetime: {text!r} is not an RFC 3339 date-time or date", field="datetime"
        ) from None
    if moment.tzinfo is None:
        raise BadRequest(
            f"datetime: {text!r} needs a time-zone offset (e.g. Z or +08:00)", field="datetime"
        )
    return moment.timestamp()


def parse_datetime(text: str) -> tuple[float | None, float | None]:
    """An instant, or an interval `start/end` where either end may be `..` (open)."""
    if "/" in text:
        first, _, second = text.partition("/")
        if "/" in second:
            raise BadRequest("datetime: at most one '/' in an interval", field="datetime")
        start, end = _instant(first, end=False), _instant(second, end=True)
        if start is None and end is None:  # "../..": no ABNF form of 17-069 allows it
            raise BadRequest("datetime: an interval needs at least one end", field="datetime")
        if start is not None and end is not None and start > end:
            raise BadRequest("datetime: the interval ends before it starts", field="datetime")
        return start, end
    if text.strip() in ("", ".."):
        raise BadRequest("datetime: give an instant or an interval", field="datetime")
    return _instant(text, end=False), _instant(text, end=True)


def parse_int(text: str, name: str, *, maximum: int = 10**15) -> int:
    """A non-negative whole number (paging offsets and cursors)."""
    if not text.isdigit() or int(text) > maximum:
        raise BadRequest(f"{name} must be a whole number ≥ 0, got {text!r}", field=name)
    return int(text)
