"""The command-post page `/`: the county map (folium, rendered once per language) and panels."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from floodpost.mapview.command_post import MapPage
from floodpost.web.deps import Context, CtxDep
from floodpost.web.security import Principal, require_page_user
from floodpost.web.templating import language_for, render

router = APIRouter(tags=["pages"])


def command_post_page(ctx: Context, lang: str) -> MapPage:
    """The rendered map for one language; geodata is static, so it is built once and kept."""
    return ctx.pages.map_pages[lang].get()


# A plain `def`: the first build per language is blocking folium/shapely work, which Starlette
# runs in its thread pool instead of on the event loop. Every signed-in role may watch the map;
# what each may change is decided by the API routes it calls.
@router.get("/", response_class=HTMLResponse)
def command_post(
    request: Request, ctx: CtxDep, principal: Principal = Depends(require_page_user)
) -> HTMLResponse:
    page = command_post_page(ctx, language_for(request))
    counts = [(lid, ctx.catalogue.count(lid)) for lid in ctx.catalogue.layer_ids]
    # The live panel needs to know who is looking (lifecycle buttons for staff and commanders).
    return render(
        request, "index.html", map_page=page, layer_counts=counts, live_principal=principal
    )
