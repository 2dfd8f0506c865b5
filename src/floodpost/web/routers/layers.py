"""The geodata layers as GeoJSON (EPSG:4326)."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.geo import reload
from floodpost.geo.routing import ReportRouter
from floodpost.web.deps import Context, get_ctx
from floodpost.web.security import Principal, require_role, require_user
from floodpost.web.templating import translator_for

# Signed-in users only: a county's zones carry the names and phone numbers of responsible members.
router = APIRouter(prefix="/api/layers", tags=["layers"], dependencies=[Depends(require_user)])


@router.get("")
def list_layers(request: Request, ctx: Context = Depends(get_ctx)) -> dict:
    cat = ctx.catalogue
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
def get_layer(layer_id: str, ctx: Context = Depends(get_ctx)) -> Response:
    if layer_id not in ctx.catalogue.layer_ids:
        raise NotFound(f"no layer {layer_id!r}", field="layer_id")
    return Response(ctx.catalogue.geojson_bytes(layer_id), media_type="application/geo+json")


# Services built from the catalogue; dropped on reload so their next use rebuilds them.
CATALOGUE_SERVICES = ("command_post_pages", "report_places", "stats", "live.state")


@router.post("/reload")
def reload_layers(
    ctx: Context = Depends(get_ctx), who: Principal = Depends(require_role("commander"))
) -> dict:
    """Reload the geodata folder (after `floodpost import`) without a restart: all or nothing."""
    old = ctx.catalogue
    new = reload.load_replacement(ctx.settings.geodata_dir)
    entry = reload.record_reload(ctx.store, old, new, actor=who.name, at_ts=ctx.clock())
    s = ctx.settings
    ctx.router = ReportRouter(
        new, outside_max_m=s.outside_county_max_m, nearest_village_max_m=s.nearest_village_max_m
    )
    ctx.catalogue = new
    for name in CATALOGUE_SERVICES:
        ctx.services.pop(name, None)
    return {"reloaded": True, **entry}
