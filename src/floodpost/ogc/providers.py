"""Collections as providers: one object per collection answering pages of GeoJSON features.

A provider hands back features already serialised (JSON text), so a page of ten thousand is a
string join, not ten thousand encodes. Add a collection by writing a Provider and adding it to
`registry.EXTRA` (see registry.py).
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass
from typing import Any, Protocol

import shapely

from floodpost.errors import BadRequest
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.geojson_io import geometry_json, jsonable
from floodpost.geo.schemas import SCHEMAS
from floodpost.ogc.params import ItemsQuery, parse_int
from floodpost.reports.intake import SEE_ALL_ROLES
from floodpost.reports.model import KINDS
from floodpost.storage.base import ReportQuery, Store

# Roles that may read people's phone numbers (zones' `contact`, help requests' `contact`):
# the ones that act on them. A read-only viewer sees everything else.
CONTACT_ROLES = frozenset({"commander", "staff", "field"})
CONTACT_FIELDS = ("contact",)


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str

    @property
    def sees_contacts(self) -> bool:
        return self.role in CONTACT_ROLES


@dataclass(frozen=True)
class Queryable:
    type: str  # JSON Schema type
    description: str
    choices: tuple[str, ...] | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Page:
    features: list[str]  # each a GeoJSON Feature as JSON text
    matched: int
    next: dict[str, str] | None  # query parameters that fetch the next page, None if last


class Provider(Protocol):
    id: str
    title_key: str  # i18n key
    geometry: str  # GeoJSON geometry type of its features
    temporal: bool  # does `datetime` filter it?
    queryables: dict[str, Queryable]  # property filters taken as query parameters
    paging: str  # the query parameter carrying the next page's position

    def extent(self) -> tuple[list[float], list[str | None] | None]:
        """(CRS84 bbox, [start, end] RFC 3339 or None when not temporal)."""
        ...

    def page(self, query: ItemsQuery, viewer: Viewer) -> Page: ...
    def feature(self, feature_id: str, viewer: Viewer) -> str | None: ...


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _without_contacts(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in CONTACT_FIELDS}


class _LayerCache:
    """Per catalogue: each layer's features as JSON text (with and without contacts)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._texts: dict[tuple[str, bool], list[str]] = {}
        self._positions: dict[str, dict[str, int]] = {}

    def texts(self, layer_id: str, contacts: bool) -> list[str]:
        key = (layer_id, contacts)
        found = self._texts.get(key)
        if found is None:
            gdf = self.catalogue.gdf(layer_id)
            key_field = SCHEMAS[layer_id].key
            cols = [c for c in gdf.columns if c != gdf.geometry.name]
            rows = gdf[cols].to_dict(orient="records")
            found = []
            for geom, props in zip(gdf.geometry.values, rows, strict=True):
                clean = jsonable(props if contacts else _without_contacts(props))
                feature = {
                    "type": "Feature",
                    "id": clean.get(key_field),
                    "geometry": geometry_json(geom),
                }
                feature["properties"] = clean
                found.append(_dump(feature))
            self._texts[key] = found  # a race builds the same list twice; both are right
            if not any(c in CONTACT_FIELDS for c in cols):  # both variants are the same
                self._texts[(layer_id, not contacts)] = found
        return found

    def position(self, layer_id: str, key: str) -> int | None:
        found = self._positions.get(layer_id)
        if found is None:
            found = {k: i for i, k in enumerate(self.catalogue.records(layer_id))}
            self._positions[layer_id] = found
        return found.get(key)


_CACHES: weakref.WeakKeyDictionary[Catalogue, _LayerCache] = weakref.WeakKeyDictionary()


def _cache(catalogue: Catalogue) -> _LayerCache:
    found = _CACHES.get(catalogue)
    if found is None:
        found = _CACHES.setdefault(catalogue, _LayerCache(catalogue))
    return found


def warm_layers(catalogue: Catalogue) -> None:
    """Build every layer's feature texts now (at start-up), not on a GIS client's first page."""
    cache = _cache(catalogue)
    for layer_id in catalogue.layer_ids:
        for contacts in (False, True):
            cache.texts(layer_id, contacts)


class LayerProvider:
    """A catalogue layer; features in file order, paged by `offset`."""

    temporal = False
    paging = "offset"

    def __init__(self, catalogue: Catalogue, layer_id: str) -> None:
        self.catalogue = catalogue
        self.id = layer_id
        self.title_key = catalogue.title_key(layer_id)
        self.geometry = SCHEMAS[layer_id].geometry_types[-1]
        self.queryables: dict[str, Queryable] = {}

    def extent(self) -> tuple[list[float], list[str | None] | None]:
        gdf = self.catalogue.gdf(self.id)
        bounds = gdf.total_bounds if len(gdf) else self.catalogue.bounds
        return [round(float(v), 6) for v in bounds], None

    def page(self, query: ItemsQuery, viewer: Viewer) -> Page:
        offset = parse_int(query.extra.get("offset", "0"), "offset")
        texts = _cache(self.catalogue).texts(self.id, viewer.sees_contacts)
        if query.bbox is not None:
            gdf = self.catalogue.gdf(self.id)
            hits = gdf.sindex.query(shapely.box(*query.bbox), predicate="intersects")
            selected = [texts[i] for i in sorted(int(i) for i in hits)]
        else:
            selected = texts
        end = offset + query.limit
        more = end < len(selected)
        return Page(selected[offset:end], len(selected), {"offset": str(end)} if more else None)

    def feature(self, feature_id: str, viewer: Viewer) -> str | None:
        cache = _cache(self.catalogue)
        index = cache.position(self.id, feature_id)
        return None if index is None else cache.texts(self.id, viewer.sees_contacts)[index]


def _rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def report_feature(report: dict[str, Any], contacts: bool) -> str:
    lon, lat = report.get("lon"), report.get("lat")
    geometry = None
    if isinstance(lon, (int, float)) and isinstance(lat, (int, float)):
        geometry = {"type": "Point", "coordinates": [lon, lat]}
    props = report if contacts else _without_contacts(report)
    return _dump({"type": "Feature", "id": report["id"], "geometry": geometry, "properties": props})


_CONTACT = re.compile(r',"contact":"(?:[^"\\]|\\.)*"')
_FEATURE_HEAD = '{"type":"Feature","id":'


def report_text_feature(rid: str, lon: Any, lat: Any, body: str, contacts: bool) -> str:
    """A Feature around the stored JSON text, without parsing it (only a body carrying a phone
    number is parsed, to drop it for roles that may not read it)."""
    if not contacts and '"contact":"' in body:
        body = _CONTACT.sub("", body)  # the stored JSON is compact: `,"contact":"…"`
        if '"contact":"' in body:  # written some other way: take the slow, sure path
            return report_feature(json.loads(body), contacts)
    if isinstance(lon, (int, float)) and isinstance(lat, (int, float)):
        geometry = f'{{"type":"Point","coordinates":[{float(lon)!r},{float(lat)!r}]}}'
    else:
        geometry = "null"
    # Stored ids are canonical UUIDs (hex and hyphens): nothing to escape.
    return f'{_FEATURE_HEAD}"{rid}","geometry":{geometry},"properties":{body}}}'


# numberMatched for a query, remembered with the store's last change: a client paging through a
# million reports would otherwise pay a full COUNT for every page.
_COUNTS: weakref.WeakKeyDictionary[Any, dict[ReportQuery, tuple[int, int]]] = (
    weakref.WeakKeyDictionary()
)


def count_matching(store: Store, query: ReportQuery) -> int:
    counts = _COUNTS.get(store)
    if counts is None:
        counts = _COUNTS.setdefault(store, {})
    seq = store.last_change_seq()
    found = counts.get(query)
    if found is not None and found[0] == seq:
        return found[1]
    n = store.count_reports(query)
    if len(counts) > 256:
        counts.clear()
    counts[query] = (seq, n)
    return n


class ReportsProvider:
    """The field reports: points at the reported place, `datetime` = occurred_at, paged by the
    store's seq cursor (stable while reports keep arriving). A field member sees their own."""

    id = "reports"
    title_key = "ogc.reports"
    geometry = "Point"
    temporal = True
    paging = "cursor"
    queryables = {
        "kind": Queryable("string", "report kind", choices=KINDS),
        "township": Queryable("string", "9-digit township code", pattern=r"^\d{9}$"),
    }

    def __init__(self, catalogue: Catalogue, store: Store) -> None:
        self.catalogue = catalogue
        self.store = store

    def extent(self) -> tuple[list[float], list[str | None] | None]:
        # MIN/MAX over the occurred_ts index: two index probes, whatever the store's size.
        rows = self.store.read("SELECT MIN(occurred_ts) AS lo, MAX(occurred_ts) AS hi FROM reports")
        lo, hi = (rows[0]["lo"], rows[0]["hi"]) if rows else (None, None)
        return [round(v, 6) for v in self.catalogue.bounds], [_rfc3339(lo), _rfc3339(hi)]

    def _query(self, query: ItemsQuery, viewer: Viewer) -> ReportQuery:
        kind = query.extra.get("kind")
        if kind is not None and kind not in KINDS:
            raise BadRequest(f"kind must be one of {', '.join(KINDS)}", field="kind")
        township = query.extra.get("township")
        if township is not None and not (len(township) == 9 and township.isdigit()):
            raise BadRequest("township must be a 9-digit township code", field="township")
        return ReportQuery(
            kind=kind,
            township=township,
            reporter=None if viewer.role in SEE_ALL_ROLES else viewer.name,
            occurred_from=query.time_from,
            occurred_to=query.time_to,
            bbox=query.bbox,
        )

    def page(self, query: ItemsQuery, viewer: Viewer) -> Page:
        after = parse_int(query.extra.get("cursor", "0"), "cursor")
        rq = self._query(query, viewer)
        rows, next_seq = self.store.find_report_texts(rq, after_seq=after, limit=query.limit)
        contacts = viewer.sees_contacts
        features = [report_text_feature(*row, contacts) for row in rows]
        nxt = {"cursor": str(next_seq)} if next_seq is not None else None
        return Page(features, count_matching(self.store, rq), nxt)

    def feature(self, feature_id: str, viewer: Viewer) -> str | None:
        import uuid

        try:
            canonical = str(uuid.UUID(feature_id))
        except ValueError:
            return None
        report = self.store.get_report(canonical)
        if report is None:
            return None
        if viewer.role not in SEE_ALL_ROLES and report.get("reporter") != viewer.name:
            return None
        return report_feature(report, viewer.sees_contacts)
