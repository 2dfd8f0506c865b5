"""The geodata layers as GeoJSON (EPSG:4326)."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.web.deps import CatalogueDep
from floodpost.web.security import require_user
from floodpost.web.templating import translator_for

# Signed-in users only: a county's zones carry the names and phone numbers of responsible members.
router = APIRouter(prefix="/api/layers", tags=["layers"], dependencies=[Depends(require_user)])


@router.get("")
def list_layers(request: Request, cat: CatalogueDep) -> dict:
    _ = translator_for(request)
    return {
        "layers": [
            {
                "id": lid,
                "title": _(cat.title_key(lid)),
                "count": cat.count(lid),
                "demo": cat.is_demo(lid),
            }
            for lid in cat.layer_ids
        ]
    }


@router.get("/{layer_id}")
def get_layer(layer_id: str, cat: CatalogueDep) -> Response:
    if layer_id not in cat.layer_ids:
        raise NotFound(f"no layer {layer_id!r}", field="layer_id")
    return Response(cat.geojson_bytes(layer_id), media_type="application/geo+json")
