"""OGC API – Features at /ogc (floodpost.ogc does the work; this only speaks HTTP).

Access: any signed-in account, by bearer token, session cookie or HTTP Basic — what QGIS, GDAL
and OWSLib send with their standard settings. A 401 carries `WWW-Authenticate: Basic`, so
clients that wait for a challenge (curl --anyauth, QGIS) then send the password.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from floodpost.auth.accounts import authenticate
from floodpost.errors import BasicUnauthorized, Forbidden
from floodpost.ogc.openapi import openapi_document
from floodpost.ogc.providers import Viewer
from floodpost.ogc.registry import providers
from floodpost.ogc.service import GEOJSON, OgcService
from floodpost.web import security
from floodpost.web.deps import Context, ctx_of
from floodpost.web.templating import translator_for


def _basic(request: Request, ctx: Context, credentials: str) -> security.Principal | None:
    try:
        name, sep, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not sep:
        return None
    cache = ctx.basic_passwords
    key = hmac.new(ctx.secret_key.encode(), f"{name}\0{password}".encode(), hashlib.sha256).digest()
    now = ctx.clock()
    if not cache.check(key, now):
        throttle = ctx.throttle
        address = request.client.host if request.client else None
        throttle.check(name, address)
        if authenticate(ctx.store, name, password) is None:
            throttle.record_failure(name, address)
            return None
        throttle.record_success(name)
        cache.remember(key, now)
    user = ctx.users.get(name)
    if user is None or user.disabled:
        return None
    return security.Principal(user.name, user.role)


def ogc_viewer(request: Request) -> Viewer:
    """Who is reading: bearer, cookie (GET only here, so no CSRF) or HTTP Basic; else 401."""
    principal, _via = security.identify(request)
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if principal is None and scheme.lower() == "basic":
        principal = _basic(request, ctx_of(request), credentials.strip())
    if principal is None:
        raise BasicUnauthorized("sign in first (HTTP Basic, bearer token or session cookie)")
    if principal.role in security.MACHINE_ROLES:
        raise Forbidden("a gauge account may only post readings")
    return Viewer(principal.name, principal.role)


router = APIRouter(prefix="/ogc", tags=["ogc"])


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _service(request: Request) -> OgcService:
    ctx = ctx_of(request)
    return OgcService(providers(ctx.catalogue, ctx.store, ctx.orders), translator_for(request))


@router.get("")
def landing(request: Request, _v: Viewer = Depends(ogc_viewer)) -> JSONResponse:
    return JSONResponse(_service(request).landing(_base(request)))


@router.get("/api")
def api(request: Request, _v: Viewer = Depends(ogc_viewer)) -> JSONResponse:
    ctx = ctx_of(request)
    doc = openapi_document(
        _base(request),
        "floodpost OGC API – Features",
        providers(ctx.catalogue, ctx.store, ctx.orders),
    )
    return JSONResponse(doc, media_type="application/vnd.oai.openapi+json;version=3.0")


@router.get("/conformance")
def conformance(_v: Viewer = Depends(ogc_viewer)) -> JSONResponse:
    return JSONResponse(OgcService.conformance())


@router.get("/collections")
def collections(request: Request, _v: Viewer = Depends(ogc_viewer)) -> JSONResponse:
    return JSONResponse(_service(request).collections(_base(request)))


@router.get("/collections/{collection_id}")
def collection(
    request: Request, collection_id: str, _v: Viewer = Depends(ogc_viewer)
) -> JSONResponse:
    doc = _service(request).collection(_base(request), collection_id)
    return JSONResponse(doc)


@router.get("/collections/{collection_id}/queryables")
def queryables(
    request: Request, collection_id: str, _v: Viewer = Depends(ogc_viewer)
) -> JSONResponse:
    doc = _service(request).queryables(_base(request), collection_id)
    return JSONResponse(doc, media_type="application/schema+json")


@router.get("/collections/{collection_id}/items")
def items(request: Request, collection_id: str, who: Viewer = Depends(ogc_viewer)) -> Response:
    service = _service(request)
    pairs = list(request.query_params.multi_items())
    body = service.items(_base(request), collection_id, pairs, who)
    return _geojson(request, body)


# Pages of thousands of features are megabytes: compressed here at level 1, which costs a
# quarter of the app-wide gzip's level 6 for nearly the same size on GeoJSON (the middleware
# leaves a response that already has a Content-Encoding alone).
_GZIP_FROM_BYTES = 64 * 1024


def _geojson(request: Request, body: bytes) -> Response:
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= _GZIP_FROM_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=1, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=GEOJSON, headers=headers)


@router.get("/collections/{collection_id}/items/{feature_id}")
def item(
    request: Request, collection_id: str, feature_id: str, who: Viewer = Depends(ogc_viewer)
) -> Response:
    service = _service(request)
    body = service.item(_base(request), collection_id, feature_id, who)
    return Response(body, media_type=GEOJSON)
