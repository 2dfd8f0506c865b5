"""The offline basemap: /tiles/{z}/{x}/{y} from the MBTiles file of FLOODPOST_BASEMAP."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.web.deps import CtxDep
from floodpost.web.security import require_user

router = APIRouter(tags=["tiles"], dependencies=[Depends(require_user)])


@router.get("/tiles/{z}/{x}/{y}")
def tile(ctx: CtxDep, z: int, x: int, y: str) -> Response:
    if ctx.basemap is None:
        raise NotFound("no basemap file is configured (FLOODPOST_BASEMAP)", field="basemap")
    row = y.split(".", 1)[0]  # /tiles/12/3/4.png works too
    if not row.isdigit():
        raise NotFound("no such tile", field="y")
    found = ctx.basemap.tile(z, x, int(row))
    if found is None:
        raise NotFound("no such tile", field="y")
    headers = {"Cache-Control": "private, max-age=86400"}
    if found.gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(found.data, media_type=found.media_type, headers=headers)
