"""The command-post page `/`: the county map (folium, rendered once per language) and panels."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from floodpost.errors import ConfigError
from floodpost.geo.gcj02 import check_datum
from floodpost.i18n import Translator
from floodpost.mapview.command_post import MapPage, render_command_post
from floodpost.web.deps import Context, get_ctx
from floodpost.web.security import require_page_user
from floodpost.web.templating import language_for, render

router = APIRouter(tags=["pages"])

_CACHE_KEY = "command_post_pages"
_lock = threading.Lock()


def command_post_page(ctx: Context, lang: str) -> MapPage:
    """The rendered map for one language; geodata is static, so it is built once and kept."""
    pages: dict[str, MapPage] = ctx.services.setdefault(_CACHE_KEY, {})
    page = pages.get(lang)
    if page is None:
        with _lock:
            page = pages.get(lang)
            if page is None:
                page = render_command_post(ctx.catalogue, ctx.settings, Translator(lang))
                pages[lang] = page
    return page


# A plain `def`: the first build per language is blocking folium/shapely work, which Starlette
# runs in its thread pool instead of on the event loop. Every signed-in role may watch the map;
# what each may change is decided by the API routes it calls.
@router.get("/", response_class=HTMLResponse, dependencies=[Depends(require_page_user)])
def command_post(request: Request, ctx: Context = Depends(get_ctx)) -> HTMLResponse:
    page = command_post_page(ctx, language_for(request))
    counts = [(lid, ctx.catalogue.count(lid)) for lid in ctx.catalogue.layer_ids]
    return render(request, "index.html", map_page=page, layer_counts=counts)


def setup(app, ctx: Context) -> None:  # noqa: ANN001 - FastAPI app, called by create_app
    """Refuse a basemap datum we cannot draw for at start-up, not on the first page view."""
    try:
        check_datum(ctx.settings.tile_crs)
    except ValueError as exc:
        raise ConfigError(f"FLOODPOST_TILE_CRS: {exc}", field="tile_crs") from exc
