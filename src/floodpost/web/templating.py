"""Page rendering shared by every page router: Jinja2 templates, language choice, ``_()``.

A page router does::

    from floodpost.web.templating import render

    @router.get("/review", response_class=HTMLResponse)
    def review_page(request: Request) -> HTMLResponse:
        return render(request, "review.html", rows=...)

and its template starts with ``{% extends "_base.html" %}``. Every template sees ``_`` (the
translator's gettext for the request's language), ``lang``, ``html_lang``, ``languages``,
``lang_urls`` (the current URL in each language), ``county_name``, ``demo`` (show the demo-data badge),
``vendor`` (URLs of vendored libraries) and ``request``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from floodpost.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, choose_language
from floodpost.mapview.assets import VENDOR_URLS
from floodpost.paths import web_dir

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600

# One environment for every page; what it holds is fixed here, at import. Values that depend on
# the app or the request are passed by render(), never written into these globals later.
templates = Jinja2Templates(directory=str(web_dir() / "templates"))
templates.env.globals["vendor"] = VENDOR_URLS
templates.env.globals["languages"] = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


def _default_language(request: Request) -> str:
    ctx = getattr(request.app.state, "ctx", None)
    return ctx.settings.default_locale if ctx is not None else "zh_CN"


def language_for(request: Request) -> str:
    """``?lang=`` first, then the ``lang`` cookie, then Accept-Language, then the default."""
    return choose_language(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(LANG_COOKIE),
        accept_language=request.headers.get("accept-language"),
        default=_default_language(request),
    )


def translator_for(request: Request) -> Translator:
    return Translator(language_for(request))


def shows_demo_badge(request: Request) -> bool:
    """True when the service runs in demo mode or any loaded layer is demo data."""
    ctx = getattr(request.app.state, "ctx", None)
    return bool(ctx.pages.demo) if ctx is not None else False


def county_name_for(request: Request, lang: str) -> str | None:
    """The county's name for page titles ("绥宁县防汛指挥"), in the page language."""
    ctx = getattr(request.app.state, "ctx", None)
    return ctx.pages.county_names.get(lang) if ctx is not None else None


def _recognised_user(request: Request) -> Any:
    found = getattr(request.state, "fp_principal", None)
    return found[0] if isinstance(found, tuple) else None


def render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``web/templates/<name>`` in the request's language.

    An explicit ``?lang=`` is remembered in a cookie so the choice follows the user to the
    next page.
    """
    translator = translator_for(request)
    # Relative links (path and query only): right behind any proxy or host name.
    lang_urls = {}
    for code in LANGUAGES:
        url = request.url.include_query_params(lang=code)
        lang_urls[code] = f"{url.path}?{url.query}"
    values: dict[str, Any] = {
        "_": translator.gettext,
        "lang": translator.lang,
        "html_lang": translator.html_lang,
        "lang_urls": lang_urls,
        "demo": shows_demo_badge(request),
        "county_name": county_name_for(request, translator.lang),
        "path": request.url.path,
        # Whoever the security dependencies recognised on this request, so every page's nav
        # shows the signed-in user without each router passing it.
        "user": _recognised_user(request),
        # This response's Content-Security-Policy nonce for inline scripts, drawn now that a
        # page uses it (web/headers.py).
        "csp_nonce": str(getattr(request.state, "csp_nonce", "")),
    }
    if values["user"] is not None:
        # Every page with a signed-in user has the sign-out form, which needs the CSRF value.
        from floodpost.web.security import csrf_token

        values["csrf_token"] = csrf_token(request)
    values.update(context)
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    query_lang = request.query_params.get("lang")
    if query_lang and query_lang == translator.lang:
        response.set_cookie(
            LANG_COOKIE, translator.lang, max_age=LANG_COOKIE_MAX_AGE_S, samesite="lax"
        )
    return response
