"""The post-event review page `/review` (issue 5). Its JSON twins are the `/api/stats/*` routes,
built by the same ReviewStats; the tables are rendered on the server (they print without
JavaScript), the charts, map and time slider are drawn by web/static/js/review.js.

While the roll-ups warm up (start-up with a big log, issue 14 §5) the page says so with the
progress, answers 503 with Retry-After, and reloads itself (web/static/js/review-warming.js)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from floodpost.errors import WarmingUp
from floodpost.hydro.review import warning_review
from floodpost.web.deps import CatalogueDep, SettingsDep, StatsDep, StoreDep
from floodpost.web.security import REVIEW_ROLES, Principal, csrf_token, require_page_role
from floodpost.web.templating import render, translator_for

router = APIRouter(tags=["pages"])


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    stats: StatsDep,
    settings: SettingsDep,
    store: StoreDep,
    catalogue: CatalogueDep,
    user: Principal = Depends(require_page_role(*REVIEW_ROLES)),
) -> HTMLResponse:
    try:
        data = stats.review()
    except WarmingUp as warming:
        retry = int(warming.extra["retry_after_s"])
        page = render(
            request,
            "review.html",
            status_code=503,
            user=user,
            review=None,
            warming=warming.extra["progress"],
            percent=warming.percent,
            retry_after_s=retry,
        )
        page.headers["Retry-After"] = str(retry)
        return page
    return render(
        request,
        "review.html",
        user=user,
        csrf_token=csrf_token(request),
        review=data,
        warnings=warning_review(store, catalogue),
        js_texts=translator_for(request).subset("review.js."),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
    )
