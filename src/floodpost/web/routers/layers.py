"""The geodata layers as GeoJSON (EPSG:4326)."""

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.web.deps import Context, get_ctx
from floodpost.web.security import Principal, require_user
from floodpost.web.templating import translator_for

# Signed-in users only: a county's zones carry the names and phone numbers of responsible members.
# Roles that see every zone owner's phone number.
CONTACT_ROLES = frozenset({"commander", "staff", "viewer"})
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
def get_layer(
    layer_id: str, ctx: Context = Depends(get_ctx), who: Principal = Depends(require_user)
) -> Response:
    if layer_id not in ctx.catalogue.layer_ids:
        raise NotFound(f"no layer {layer_id!r}", field="layer_id")
    if layer_id == "zones" and who.role not in CONTACT_ROLES:
        # Field members see only their own zones' owners' phone numbers (issue 13). Accounts are
        # not linked to zones in this version, so they see none; once they are, pass the
        # member's zone ids as `keep` (one cached body per distinct set).
        keep: frozenset[str] = frozenset()
        body = ctx.service(
            f"layers.zones.contacts:{','.join(sorted(keep))}",
            lambda: without_contacts(ctx.catalogue.geojson_bytes("zones"), keep),
        )
        return Response(body, media_type="application/geo+json")
    return Response(ctx.catalogue.geojson_bytes(layer_id), media_type="application/geo+json")


def without_contacts(geojson: bytes, keep: frozenset[str]) -> bytes:
    """The zones layer with `contact` (the owner's phone number) removed, except in `keep`."""
    data = json.loads(geojson)
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        if props.get("id") not in keep:
            props.pop("contact", None)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
