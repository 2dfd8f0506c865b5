"""The geodata layers as GeoJSON (EPSG:4326), and reloading them (commander)."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.geo import reload
from floodpost.geo.privacy import without_contacts
from floodpost.orders.queries import user_zones
from floodpost.web.app import reload_layers
from floodpost.web.deps import CatalogueDep, CtxDep
from floodpost.web.security import Principal, require_role, require_user
from floodpost.web.templating import translator_for

# Signed-in users only: a county's zones carry the names and phone numbers of responsible members.
# Roles that see every zone owner's phone number.
CONTACT_ROLES = frozenset({"commander", "staff", "viewer"})
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
def get_layer(
    layer_id: str,
    cat: CatalogueDep,
    ctx: CtxDep,
    who: Principal = Depends(require_user),
) -> Response:
    if layer_id not in cat.layer_ids:
        raise NotFound(f"no layer {layer_id!r}", field="layer_id")
    if layer_id == "zones" and who.role not in CONTACT_ROLES:
        # Field members see only their own zones' owners' phone numbers (issue 13; zones of an
        # account: `user add --zone`, issue 10); viewers and members without zones see none
        # (PageData.zones_without_contacts, made once).
        mine = frozenset(user_zones(ctx.store.read, who.name)) if who.role == "field" else None
        if mine:
            body = without_contacts(cat.geojson_bytes("zones"), keep=mine)
        else:
            body = ctx.pages.zones_without_contacts.get()
        return Response(body, media_type="application/geo+json")
    return Response(cat.geojson_bytes(layer_id), media_type="application/geo+json")


@router.post("/reload")
def reload_layer_folder(
    request: Request, ctx: CtxDep, who: Principal = Depends(require_role("commander"))
) -> dict[str, Any]:
    """Reload the geodata folder (after `floodpost import`) without a restart: all or nothing."""
    new = reload.load_replacement(ctx.settings.geodata_dir)
    entry = reload.record_reload(ctx.store, ctx.catalogue, new, actor=who.name)
    reload_layers(request.app, new)
    return {"reloaded": True, **entry}
