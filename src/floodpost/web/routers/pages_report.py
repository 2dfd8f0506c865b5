"""The field-report form `/report`, its service worker, and the place lists it needs.

The form is a small offline-first page: everything it loads on first visit (HTML, one CSS file,
three plain scripts, the place lists) stays well under 400 KB, and the map part (Leaflet) is
only fetched when the user opens the tap-map. The service worker is served from `/report/sw.js`
with `Service-Worker-Allowed: /report` so that its scope covers `/report` itself.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from floodpost.i18n import Translator
from floodpost.paths import web_dir
from floodpost.web.deps import CtxDep, SettingsDep
from floodpost.web.security import require_page_role
from floodpost.web.templating import language_for, render

router = APIRouter(tags=["report"])

SW_SCOPE = "/report"
# The roles that may submit reports (the same as POST /api/reports): a viewer gets a 403 page
# rather than a form whose reports could never be accepted.
reporters = require_page_role("field", "staff", "commander")
# Files the service worker keeps for offline use (the page itself is added by the worker).
STATIC_ASSETS = (
    "css/report.css",
    "js/http.js",
    "js/report-outbox.js",
    "js/report-location.js",
    "js/report.js",
)
SW_SOURCE = "js/report-sw.js"
LEAFLET_DIR = "/static/vendor/leaflet-1.9.4"
COORD_DECIMALS = 5  # about a metre: more only adds bytes to the lists


@lru_cache(maxsize=1)
def asset_version() -> str:
    """Hash of the form's own files: changes whenever they do, so phones fetch fresh copies."""
    digest = hashlib.sha256()
    static = web_dir() / "static"
    for rel in (*STATIC_ASSETS, SW_SOURCE):
        digest.update((static / rel).read_bytes())
    digest.update((web_dir() / "templates" / "report.html").read_bytes())
    for locale in sorted((web_dir() / "locale").glob("*/report.json")):
        digest.update(locale.read_bytes())
    return digest.hexdigest()[:12]


def asset_urls() -> list[str]:
    version = asset_version()
    return [f"/static/{rel}?v={version}" for rel in STATIC_ASSETS]


def _features(raw: bytes) -> list[dict[str, Any]]:
    return [f for f in json.loads(raw).get("features", []) if f.get("properties")]


def _point(props: dict[str, Any], feature: dict[str, Any]) -> tuple[float | None, float | None]:
    lon, lat = props.get("seat_lon"), props.get("seat_lat")
    geom = feature.get("geometry") or {}
    if (lon is None or lat is None) and geom.get("type") == "Point":
        lon, lat = geom["coordinates"][:2]
    if lon is None or lat is None:
        return None, None
    return round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)


def build_places(layer_bytes: Any) -> dict[str, Any]:
    """Townships with their villages (seat points), shelters and reservoirs, sorted by code/id.

    ``layer_bytes(layer_id)`` returns a layer as GeoJSON bytes (the catalogue's own method), so
    this stays independent of how the catalogue keeps its frames.
    """
    townships: dict[str, dict[str, Any]] = {}
    for feature in _features(layer_bytes("townships")):
        props = feature["properties"]
        lon, lat = _point(props, feature)
        townships[props["code"]] = {
            "code": props["code"],
            "name": props.get("name"),
            "name_en": props.get("name_en"),
            "lon": lon,
            "lat": lat,
            "villages": [],
            "shelters": [],
            "reservoirs": [],
        }

    def attach(layer: str, key: str, make: Any) -> None:
        for feature in _features(layer_bytes(layer)):
            props = feature["properties"]
            township = townships.get(str(props.get("township_code")))
            if township is not None:
                township[key].append(make(props, feature))

    def village(props: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
        lon, lat = _point(props, feature)
        return {
            "code": props["code"],
            "name": props.get("name"),
            "name_en": props.get("name_en"),
            "lon": lon,
            "lat": lat,
        }

    def shelter(props: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": props["id"],
            "name": props.get("name"),
            "capacity": props.get("capacity"),
            "village_code": props.get("village_code"),
        }

    def reservoir(props: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
        return {"id": props["id"], "name": props.get("name"), "scale": props.get("scale")}

    attach("villages", "villages", village)
    attach("shelters", "shelters", shelter)
    attach("reservoirs", "reservoirs", reservoir)
    for township in townships.values():
        township["villages"].sort(key=lambda v: v["code"])
        township["shelters"].sort(key=lambda s: s["id"])
        township["reservoirs"].sort(key=lambda r: r["id"])
    return {"townships": [townships[code] for code in sorted(townships)]}


@router.get("/api/places")
def places(request: Request, ctx: CtxDep) -> Response:
    """Townships → villages (code, name, seat lon/lat), with shelters and reservoirs per township.

    Public like /api/layers: it is the same geodata, and the service worker must be able to
    refresh it whatever the state of the session. Sent gzipped when the client accepts it
    (about a fifth of the size: this is the largest thing the form loads on a poor link).
    """
    # (plain, gzipped) JSON, built once: the geodata does not change while serving.
    plain, packed = ctx.pages.places_json.get()
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="application/json", headers=headers)
    return Response(plain, media_type="application/json", headers=headers)


@router.get("/report", response_class=HTMLResponse)
def report_page(
    request: Request, settings: SettingsDep, user: Any = Depends(reporters)
) -> HTMLResponse:
    # Only plain WGS-84 tiles can be tapped without a datum shift; otherwise outlines only.
    tiles = settings.tile_url if settings.tile_crs == "wgs84" else ""
    translator = Translator(language_for(request))
    version = asset_version()
    response = render(
        request,
        "report.html",
        user=user,
        version=version,
        texts=translator.subset("report."),
        tile_url=tiles,
        tile_attribution=settings.tile_attribution if tiles else "",
        leaflet_js=f"{LEAFLET_DIR}/leaflet.js",
        leaflet_css=f"{LEAFLET_DIR}/leaflet.css",
    )
    # The page names the user: never in a shared cache; always revalidated.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@router.get("/report/sw.js")
def service_worker() -> Response:
    source = (web_dir() / "static" / SW_SOURCE).read_text(encoding="utf-8")
    source = source.replace("__VERSION__", asset_version()).replace(
        "__ASSETS__", json.dumps(asset_urls())
    )
    return Response(
        source,
        media_type="text/javascript",
        headers={
            # The script lives at /report/sw.js, whose default scope is /report/; this allows
            # the page /report itself to be controlled.
            "Service-Worker-Allowed": SW_SCOPE,
            "Cache-Control": "no-cache",
        },
    )
