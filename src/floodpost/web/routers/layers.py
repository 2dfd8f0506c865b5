"""The geodata layers as GeoJSON (EPSG:4326)."""

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from floodpost.errors import NotFound
from floodpost.web.deps import CatalogueDep, CtxDep
from floodpost.web.security import Principal, require_user
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
        # Field members see only their own zones' owners' phone numbers (issue 13). Accounts are
        # not linked to zones in this version, so they see none (PageData.zones_without_contacts,
        # made once); once they are, strip with the member's zone ids as `keep`.
        body = ctx.pages.zones_without_contacts.get()
        return Response(body, media_type="application/geo+json")
    return Response(cat.geojson_bytes(layer_id), media_type="application/geo+json")


def without_contacts(geojson: bytes, keep: frozenset[str] = frozenset()) -> bytes:
    """The zones layer with `contact` (the owner's phone number) removed, except in `keep`."""
    data = json.loads(geojson)
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        if props.get("id") not in keep:
            props.pop("contact", None)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
