"""The geodata layers as GeoJSON (EPSG:4326)."""

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.web.deps import Context, get_ctx

router = APIRouter(prefix="/api/layers", tags=["layers"])


@router.get("")
def list_layers(ctx: Context = Depends(get_ctx)) -> dict:
    cat = ctx.catalogue
    return {
        "layers": [
            {"id": lid, "title": lid, "count": cat.count(lid), "demo": cat.is_demo(lid)}
            for lid in cat.layer_ids
        ]
    }


@router.get("/{layer_id}")
def get_layer(layer_id: str, ctx: Context = Depends(get_ctx)) -> Response:
    if layer_id not in ctx.catalogue.layer_ids:
        raise NotFound(f"no layer {layer_id!r}", field="layer_id")
    return Response(ctx.catalogue.geojson_bytes(layer_id), media_type="application/geo+json")
