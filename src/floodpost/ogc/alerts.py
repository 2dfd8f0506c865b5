"""The `warnings` and `orders` collections: early warnings and evacuation orders for a GIS.

- `warnings`: one Point per warning (GET /api/warnings' records as properties), at its reservoir,
  or at its village's seat (`seat_lon`/`seat_lat`, else a point inside the village outline). A
  point, not the village polygon, because a collection of one geometry type is what GDAL and
  QGIS read as one layer; the outline is in `villages`, joined on `code`. `datetime` = `since`.
- `orders`: one MultiPolygon per order, the union of its villages' outlines (always a
  MultiPolygon, also for one village), properties as GET /api/orders/{id}; `datetime` =
  `issued_at`. A field member reads the orders touching their zones (OrderBook.list/get).

Both are few (hundreds), so a page is filtered in Python over the ids the store picks by time,
in the order they came (oldest first: a new one lands on the last page, offsets stay put).
A read-only viewer gets no personal data: account names (`issued_by`, `lifted_by`, who
acknowledged …) are left out for roles outside providers.CONTACT_ROLES, as phones are.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

import shapely

from floodpost.errors import BadRequest, Forbidden, NotFound
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.geojson_io import geometry_json
from floodpost.ogc.params import ItemsQuery, parse_int
from floodpost.ogc.providers import Page, Queryable, Viewer, _dump, _rfc3339, _without_contacts
from floodpost.orders.model import canonical_order_id
from floodpost.orders.service import Actor, OrderBook
from floodpost.storage.base import Store

PERSON_FIELDS = ("issued_by", "cancelled_by", "completed_by", "lifted_by")
_FAR = 1e12  # an open end of a time range, in epoch seconds


def _private(props: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """`props` as `viewer` may read them (a copy when anything is left out)."""
    if viewer.sees_contacts:
        return props
    out = {k: v for k, v in _without_contacts(props).items() if k not in PERSON_FIELDS}
    if isinstance(out.get("villages"), list):
        out["villages"] = [
            {
                **v,
                "acknowledged_by": [
                    {k: a for k, a in ack.items() if k != "user"}
                    for ack in v.get("acknowledged_by") or ()
                ],
            }
            if isinstance(v, dict)
            else v
            for v in out["villages"]
        ]
    return out


class _Places:
    """Per catalogue: where a warning sits, and the outline parts of each village."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.points: dict[tuple[str, str], tuple[float, float]] = {}
        self.parts: dict[str, list[Any]] = {}
        villages = catalogue.gdf("villages")
        for code, geom in zip(villages["code"], villages.geometry.values, strict=True):
            rec = catalogue.village(str(code)) or {}
            lon, lat = rec.get("seat_lon"), rec.get("seat_lat")
            if isinstance(lon, (int, float)) and isinstance(lat, (int, float)) and lon == lon:
                self.points[("village", str(code))] = (float(lon), float(lat))
            elif geom is not None and not geom.is_empty:
                p = geom.representative_point()
                self.points[("village", str(code))] = (p.x, p.y)
            if geom is not None and not geom.is_empty:
                self.parts[str(code)] = list(getattr(geom, "geoms", [geom]))
        reservoirs = catalogue.gdf("reservoirs")
        for rid, geom in zip(reservoirs["id"], reservoirs.geometry.values, strict=True):
            if geom is not None and not geom.is_empty:
                self.points[("reservoir", str(rid))] = (geom.x, geom.y)

    def outline(self, codes: list[str]) -> Any:
        """The villages' union, always a MultiPolygon: neighbouring villages share borders, and
        parts sharing an edge would make an invalid MultiPolygon that GIS validity checks flag."""
        parts = [p for c in codes for p in self.parts.get(c, ())]
        if not parts:
            return None
        union = shapely.union_all(parts)
        polygons = [g for g in getattr(union, "geoms", [union]) if g.geom_type == "Polygon"]
        return shapely.MultiPolygon(polygons) if polygons else None


_PLACES: weakref.WeakKeyDictionary[Catalogue, _Places] = weakref.WeakKeyDictionary()


def _places(catalogue: Catalogue) -> _Places:
    found = _PLACES.get(catalogue)
    if found is None:
        found = _PLACES.setdefault(catalogue, _Places(catalogue))
    return found


def _inside(point: tuple[float, float] | None, bbox: tuple[float, float, float, float]) -> bool:
    return point is not None and bbox[0] <= point[0] <= bbox[2] and bbox[1] <= point[1] <= bbox[3]


def _place(warning: dict[str, Any]) -> tuple[str, str]:
    return str(warning.get("target")), str(warning.get("code"))


def _time_range(query: ItemsQuery) -> tuple[float, float]:
    lo = query.time_from if query.time_from is not None else -_FAR
    hi = query.time_to if query.time_to is not None else _FAR
    return lo, hi


def _extent(store: Store, catalogue: Catalogue, sql: str) -> tuple[list[float], list[str | None]]:
    rows = store.read(sql)
    lo, hi = (rows[0]["lo"], rows[0]["hi"]) if rows else (None, None)
    return [round(v, 6) for v in catalogue.bounds], [_rfc3339(lo), _rfc3339(hi)]


def _slice(texts: list[str], query: ItemsQuery) -> Page:
    offset = parse_int(query.extra.get("offset", "0"), "offset")
    end = offset + query.limit
    return Page(texts[offset:end], len(texts), {"offset": str(end)} if end < len(texts) else None)


class WarningsProvider:
    id = "warnings"
    title_key = "ogc.warnings"
    geometry = "Point"
    temporal = True
    paging = "offset"
    queryables = {
        "active": Queryable("string", "1: only active warnings, 0: every warning", ("0", "1"))
    }

    def __init__(self, catalogue: Catalogue, store: Store) -> None:
        self.catalogue = catalogue
        self.store = store

    def extent(self) -> tuple[list[float], list[str | None] | None]:
        sql = "SELECT MIN(since_ts) AS lo, MAX(since_ts) AS hi FROM warnings"
        return _extent(self.store, self.catalogue, sql)

    def _feature(self, record: dict[str, Any], viewer: Viewer) -> str:
        point = _places(self.catalogue).points.get(_place(record))
        geometry = {"type": "Point", "coordinates": list(point)} if point else None
        props = _private(record, viewer)
        return _dump({"type": "Feature", "id": record["id"], "geometry": geometry,
                      "properties": props})  # fmt: skip

    def page(self, query: ItemsQuery, viewer: Viewer) -> Page:
        active = query.extra.get("active")
        if active not in (None, "0", "1"):
            raise BadRequest("active must be 1 or 0", field="active")
        where = " AND active = 1" if active == "1" else ""
        rows = self.store.read(
            f"SELECT body FROM warnings WHERE since_ts >= ? AND since_ts <= ?{where}"
            " ORDER BY since_ts, id",
            _time_range(query),
        )
        records = [json.loads(r["body"]) for r in rows]
        if query.bbox is not None:
            points = _places(self.catalogue).points
            records = [
                r
                for r in records
                if _inside(points.get((r.get("target"), r.get("code"))), query.bbox)
            ]
        return _slice([self._feature(r, viewer) for r in records], query)

    def feature(self, feature_id: str, viewer: Viewer) -> str | None:
        rows = self.store.read("SELECT body FROM warnings WHERE id = ?", (feature_id,))
        return self._feature(json.loads(rows[0]["body"]), viewer) if rows else None


class OrdersProvider:
    id = "orders"
    title_key = "ogc.orders"
    geometry = "MultiPolygon"
    temporal = True
    paging = "offset"
    queryables = {
        "status": Queryable("string", "order status", ("open", "completed", "cancelled")),
        "level": Queryable(
            "string", "prepare 准备转移 or evacuate 立即转移", ("prepare", "evacuate")
        ),
    }

    def __init__(self, catalogue: Catalogue, store: Store, book: OrderBook) -> None:
        self.catalogue = catalogue
        self.store = store
        self.book = book

    def extent(self) -> tuple[list[float], list[str | None] | None]:
        sql = "SELECT MIN(issued_ts) AS lo, MAX(issued_ts) AS hi FROM orders"
        return _extent(self.store, self.catalogue, sql)

    def _feature(self, view: dict[str, Any], viewer: Viewer) -> str:
        codes = [v["code"] for v in view.get("villages") or ()]
        geometry = geometry_json(_places(self.catalogue).outline(codes))
        props = _private(view, viewer)
        return _dump({"type": "Feature", "id": view["id"], "geometry": geometry,
                      "properties": props})  # fmt: skip

    def _ids(self, query: ItemsQuery, viewer: Viewer) -> list[str]:
        sql = "SELECT id FROM orders WHERE issued_ts >= ? AND issued_ts <= ?"
        params: list[Any] = list(_time_range(query))
        for name, q in self.queryables.items():
            value = query.extra.get(name)
            if value is None:
                continue
            if q.choices and value not in q.choices:
                raise BadRequest(f"{name} must be one of {', '.join(q.choices)}", field=name)
            sql += f" AND {name} = ?"
            params.append(value)
        zones = self.book.zones_of(Actor(viewer.name, viewer.role))
        if zones is not None:  # a field member: the orders touching their zones
            if not zones:
                return []
            marks = ", ".join("?" * len(zones))
            sql += f" AND id IN (SELECT order_id FROM order_villages WHERE zone_id IN ({marks}))"
            params += sorted(zones)
        ids = [r["id"] for r in self.store.read(sql + " ORDER BY issued_ts, id", params)]
        if query.bbox is None or not ids:
            return ids
        villages = self.catalogue.gdf("villages")
        hits = villages.sindex.query(shapely.box(*query.bbox), predicate="intersects")
        inside = {str(villages["code"].iloc[int(i)]) for i in hits}
        touching = {
            r["order_id"]
            for r in self.store.read("SELECT order_id, village_code FROM order_villages")
            if r["village_code"] in inside
        }
        return [i for i in ids if i in touching]

    def _view(self, order_id: str, viewer: Viewer) -> dict[str, Any] | None:
        try:
            return self.book.get(order_id, Actor(viewer.name, viewer.role))
        except (NotFound, Forbidden):
            return None

    def page(self, query: ItemsQuery, viewer: Viewer) -> Page:
        ids = self._ids(query, viewer)
        offset = parse_int(query.extra.get("offset", "0"), "offset")
        end = offset + query.limit
        views = [v for v in (self._view(i, viewer) for i in ids[offset:end]) if v is not None]
        nxt = {"offset": str(end)} if end < len(ids) else None
        return Page([self._feature(v, viewer) for v in views], len(ids), nxt)

    def feature(self, feature_id: str, viewer: Viewer) -> str | None:
        oid = canonical_order_id(feature_id)
        view = self._view(oid, viewer) if oid else None
        return self._feature(view, viewer) if view is not None else None
