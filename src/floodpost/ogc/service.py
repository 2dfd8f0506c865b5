"""The OGC API – Features documents: landing page, conformance, collections, items, one item.

Everything takes `base`, the absolute URL of the service root (…/ogc), because OGC links are
absolute and clients (GDAL, QGIS) follow them as given.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from floodpost.errors import NotFound
from floodpost.ogc.params import CRS84, parse_items_query
from floodpost.ogc.providers import Provider, Viewer

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


class OgcService:
    def __init__(self, providers: dict[str, Provider], gettext: Callable[[str], str]) -> None:
        self.providers = providers
        self._ = gettext

    def provider(self, collection_id: str) -> Provider:
        found = self.providers.get(collection_id)
        if found is None:
            raise NotFound(f"no collection {collection_id!r}", field="collectionId")
        return found

    def landing(self, base: str) -> dict[str, Any]:
        _ = self._
        return {
            "title": _("ogc.title"),
            "description": _("ogc.description"),
            "links": [
                _link(base, "self", JSON, "this document"),
                _link(f"{base}/api", "service-desc", OPENAPI, "the API definition"),
                _link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
                _link(f"{base}/collections", "data", JSON, "collections"),
            ],
        }

    @staticmethod
    def conformance() -> dict[str, Any]:
        return {"conformsTo": CONFORMANCE}

    def collection(self, base: str, collection_id: str) -> dict[str, Any]:
        p = self.provider(collection_id)
        bbox, interval = p.extent()
        href = f"{base}/collections/{quote(p.id)}"
        extent: dict[str, Any] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
        if interval is not None:
            extent["temporal"] = {
                "interval": [interval],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
        doc: dict[str, Any] = {
            "id": p.id,
            "title": self._(p.title_key),
            "itemType": "feature",
            "crs": [CRS84],
            "extent": extent,
            "links": [
                _link(href, "self", JSON),
                _link(f"{href}/items", "items", GEOJSON, "features"),
            ],
        }
        if p.queryables:
            doc["links"].append(
                _link(f"{href}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                      "application/schema+json", "queryables")
            )  # fmt: skip
        return doc

    def collections(self, base: str) -> dict[str, Any]:
        return {
            "collections": [self.collection(base, cid) for cid in self.providers],
            "links": [_link(f"{base}/collections", "self", JSON)],
        }

    def queryables(self, base: str, collection_id: str) -> dict[str, Any]:
        p = self.provider(collection_id)
        props: dict[str, Any] = {}
        for name, q in p.queryables.items():
            schema: dict[str, Any] = {"type": q.type, "description": q.description}
            if q.choices:
                schema["enum"] = list(q.choices)
            if q.pattern:
                schema["pattern"] = q.pattern
            props[name] = schema
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base}/collections/{quote(p.id)}/queryables",
            "type": "object",
            "title": self._(p.title_key),
            "properties": props,
        }

    def items(
        self,
        base: str,
        collection_id: str,
        pairs: list[tuple[str, str]],
        viewer: Viewer,
    ) -> bytes:
        """The FeatureCollection page as UTF-8 GeoJSON bytes."""
        p = self.provider(collection_id)
        query = parse_items_query(pairs, [p.paging, *p.queryables])
        if not p.temporal:
            query = replace(query, time_from=None, time_to=None)
        page = p.page(query, viewer)
        href = f"{base}/collections/{quote(p.id)}/items"
        links = [
            _link(_with(href, pairs, {}), "self", GEOJSON, "this page"),
            _link(f"{base}/collections/{quote(p.id)}", "collection", JSON),
        ]
        if page.next is not None:
            links.append(_link(_with(href, pairs, page.next), "next", GEOJSON, "next page"))
        head = {
            "type": "FeatureCollection",
            "numberMatched": page.matched,
            "numberReturned": len(page.features),
            "timeStamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "links": links,
        }
        opening = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
        return (opening + ',"features":[' + ",".join(page.features) + "]}").encode()

    def item(self, base: str, collection_id: str, feature_id: str, viewer: Viewer) -> bytes:
        p = self.provider(collection_id)
        text = p.feature(feature_id, viewer)
        if text is None:
            raise NotFound(f"no feature {feature_id!r} in {p.id}", field="featureId")
        href = f"{base}/collections/{quote(p.id)}"
        links = [
            _link(f"{href}/items/{quote(feature_id)}", "self", GEOJSON),
            _link(href, "collection", JSON),
        ]
        return (text[:-1] + ',"links":' + json.dumps(links) + "}").encode()


def _with(href: str, pairs: Iterable[tuple[str, str]], replace: dict[str, str]) -> str:
    """`href` with the request's own query parameters, in their order, some replaced: a next
    link keeps every filter and the limit the client asked for (pygeoapi #2175, #272)."""
    out = [(k, replace.get(k, v)) for k, v in pairs]
    out += [(k, v) for k, v in replace.items() if k not in dict(pairs)]
    return href + ("?" + urlencode(out) if out else "")
