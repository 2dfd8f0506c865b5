"""The post-event review page `/review` (issue 5). Its JSON twins are the `/api/stats/*` routes,
built by the same ReviewStats; the tables are rendered on the server (they print without
JavaScript), the charts, map and time slider are drawn by web/static/js/review.js."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from floodpost.hydro.review import warning_review
from floodpost.web.deps import get_ctx
from floodpost.web.routers.stats import REVIEW_ROLES, review_stats
from floodpost.web.security import Principal, csrf_token, require_page_role
from floodpost.web.templating import render, translator_for

router = APIRouter(tags=["pages"])


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request, user: Principal = Depends(require_page_role(*REVIEW_ROLES))
) -> HTMLResponse:
    ctx = get_ctx(request)
    data = review_stats(ctx).review()
    return render(
        request,
        "review.html",
        user=user,
        csrf_token=csrf_token(request),
        county_name=ctx.catalogue.county_name,
        review=data,
        warnings=warning_review(ctx.store, ctx.catalogue),
        js_texts=translator_for(request).subset("review.js."),
        tile_url=ctx.settings.tile_url,
        tile_attribution=ctx.settings.tile_attribution,
    )
