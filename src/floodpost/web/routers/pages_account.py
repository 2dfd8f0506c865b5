"""`/account` (issue 13): everyone changes their own password (the old one is required); a
commander also sees every account and can set a password, end an account's sessions or disable
it. Each of these ends the account's sessions at once (floodpost.auth.sessions)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from floodpost.auth import accounts
from floodpost.errors import FloodpostError
from floodpost.web.deps import Context, CtxDep
from floodpost.web.security import (
    Principal,
    clear_session_cookie,
    csrf_token,
    require_page_role,
    require_page_user,
)
from floodpost.web.templating import render

router = APIRouter(tags=["pages"])
commander = require_page_role("commander")
_NOTICES = {"passwd", "disable", "end_sessions", "error"}


@router.get("/account", response_class=HTMLResponse)
def account_page(
    request: Request,
    ctx: CtxDep,
    done: str | None = None,
    user: Principal = Depends(require_page_user),
) -> HTMLResponse:
    users = ctx.store.list_users() if user.role == "commander" else []
    response = render(
        request,
        "account.html",
        user=user,
        csrf_token=csrf_token(request),
        users=users,
        notice=done if done in _NOTICES else None,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _back(notice: str) -> RedirectResponse:
    return RedirectResponse(f"/account?done={quote(notice)}", status_code=303)


@router.post("/account/password")
async def change_own_password(
    request: Request,
    ctx: CtxDep,
    old_password: str = Form(..., max_length=4096),
    new_password: str = Form(..., max_length=4096),
    user: Principal = Depends(require_page_user),
) -> Response:
    try:
        await run_in_threadpool(
            accounts.change_password,
            ctx.store,
            user.name,
            new_password,
            actor=user.name,
            old_password=old_password,
        )
    except FloodpostError:
        return _back("error")
    ctx.sessions.refresh()
    # This session ended with the others: sign in again with the new password.
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response


@router.post("/account/users/{name}/password")
async def set_password(
    ctx: CtxDep,
    name: str,
    new_password: str = Form(..., max_length=4096),
    user: Principal = Depends(commander),
) -> Response:
    try:
        await run_in_threadpool(
            accounts.change_password,
            ctx.store,
            name,
            new_password,
            actor=user.name,
            authority=True,
        )
    except FloodpostError:
        return _back("error")
    ctx.sessions.refresh()
    return _back("passwd")


# The form's only field; checked by the security dependency (declared here for /openapi.json).
CSRF_FORM = Form("", description="the fp_csrf cookie's value (cookie sessions)")


@router.post("/account/users/{name}/disable")
async def disable(
    ctx: CtxDep, name: str, csrf_token: str = CSRF_FORM, user: Principal = Depends(commander)
) -> Response:
    return await _act(ctx, accounts.disable_account, name, user, "disable")


@router.post("/account/users/{name}/end-sessions")
async def end_sessions(
    ctx: CtxDep, name: str, csrf_token: str = CSRF_FORM, user: Principal = Depends(commander)
) -> Response:
    return await _act(ctx, accounts.end_sessions, name, user, "end_sessions")


async def _act(
    ctx: Context, action: Callable[..., None], name: str, user: Principal, notice: str
) -> Response:
    try:
        await run_in_threadpool(action, ctx.store, name, actor=user.name)
    except FloodpostError:
        return _back("error")
    ctx.sessions.refresh()
    return _back(notice)
