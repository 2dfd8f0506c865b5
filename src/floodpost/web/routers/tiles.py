"""The offline basemap: /tiles/{z}/{x}/{y} from the MBTiles file of FLOODPOST_BASEMAP."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.mapview.mbtiles import MBTiles
from floodpost.web.deps import get_ctx
from floodpost.web.security import require_user

router = APIRouter(tags=["tiles"], dependencies=[Depends(require_user)])


@router.get("/tiles/{z}/{x}/{y}")
def tile(request: Request, z: int, x: int, y: str) -> Response:
    ctx = get_ctx(request)
    path = ctx.settings.basemap
    if path is None:
        raise NotFound("no basemap file is configured (FLOODPOST_BASEMAP)", field="basemap")
    row = y.split(".", 1)[0]  # /tiles/12/3/4.png works too
    if not row.isdigit():
        raise NotFound("no such tile", field="y")
    found = ctx.service("basemap", lambda: MBTiles(path)).tile(z, x, int(row))
    if found is None:
        raise NotFound("no such tile", field="y")
    headers = {"Cache-Control": "private, max-age=86400"}
    if found.gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(found.data, media_type=found.media_type, headers=headers)
