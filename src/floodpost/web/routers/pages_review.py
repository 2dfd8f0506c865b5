"""The post-event review page `/review` (issue 5). Its JSON twins are the `/api/stats/*` routes,
built by the same ReviewStats; the tables are rendered on the server (they print without
JavaScript), the charts, map and time slider are drawn by web/static/js/review.js."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from floodpost.web.deps import SettingsDep, StatsDep
from floodpost.web.security import REVIEW_ROLES, Principal, csrf_token, require_page_role
from floodpost.web.templating import render, translator_for

router = APIRouter(tags=["pages"])


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    stats: StatsDep,
    settings: SettingsDep,
    user: Principal = Depends(require_page_role(*REVIEW_ROLES)),
) -> HTMLResponse:
    data = stats.review()
    return render(
        request,
        "review.html",
        user=user,
        csrf_token=csrf_token(request),
        review=data,
        js_texts=translator_for(request).subset("review.js."),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
    )
