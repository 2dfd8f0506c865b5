"""The app is assembled in create_app: middleware in one list, routers without start-up hooks,
settings refused before anything starts, and an open event stream does not hold a stop."""

from __future__ import annotations

import importlib
import threading
import time

import httpx
import pytest
from pydantic import ValidationError

from floodpost.cli import main as cli_main
from floodpost.errors import ConfigError
from floodpost.settings import Settings, load_settings
from floodpost.web import app as app_module
from floodpost.web.app import ROUTERS, create_app
from floodpost.web.headers import SecurityHeaders
from floodpost.web.limits import BodySizeLimit
from floodpost.web.routers.events import EventsFastPath
from floodpost.web.routers.reports import IngestFastPath
from floodpost.web.security import CSRFCookieMiddleware
from tests.reports_support import PASSWORD, ServerProcess


def test_middleware_is_listed_in_create_app_outermost_first(settings, catalogue):
    app = create_app(settings, catalogue=catalogue)
    names = [m.cls.__name__ for m in app.user_middleware]  # type: ignore[attr-defined]
    assert names[:5] == [
        SecurityHeaders.__name__,  # issue 13: on every response, the fast paths' included
        BodySizeLimit.__name__,
        IngestFastPath.__name__,
        EventsFastPath.__name__,
        CSRFCookieMiddleware.__name__,
    ]
    assert names[5] == "GZipMiddleware" and len(names) == 6


def test_routers_only_declare_routes():
    for name in ROUTERS:
        module = importlib.import_module(f"floodpost.web.routers.{name}")
        assert not hasattr(module, "setup"), f"{name}: start-up work belongs in create_app"
        # One router never reaches into another for its collaborators.
        source = module.__file__ and open(module.__file__, encoding="utf-8").read()
        assert "floodpost.web.routers." not in (source or ""), name


def test_creating_an_app_starts_no_thread(settings, catalogue):
    before = {t.name for t in threading.enumerate()}
    create_app(settings, catalogue=catalogue)
    started = {t.name for t in threading.enumerate()} - before
    assert not {n for n in started if n.startswith("floodpost")}


def test_collaborators_are_typed_fields_made_once(settings, catalogue):
    ctx = create_app(settings, catalogue=catalogue).state.ctx
    assert not hasattr(ctx, "services") and not hasattr(ctx, "service")
    assert ctx.pages.county_names == {"zh_CN": "绥宁县", "en": "Suining County"}
    assert ctx.pages.places_json.get() is ctx.pages.places_json.get()


@pytest.mark.parametrize(
    ("name", "value"), [("tile_crs", "mercator"), ("default_locale", "fr"), ("tile_crs", "")]
)
def test_bad_setting_is_refused_naming_its_variable(monkeypatch, name, value):
    with pytest.raises(ValidationError, match=name):
        Settings(**{name: value})
    monkeypatch.setenv(f"FLOODPOST_{name.upper()}", value)
    with pytest.raises(ConfigError, match=f"FLOODPOST_{name.upper()}"):
        load_settings()
    with pytest.raises(ConfigError, match=f"FLOODPOST_{name.upper()}"):
        app_module.app_from_env()


def test_cli_names_the_bad_setting(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FLOODPOST_DEFAULT_LOCALE", "klingon")
    db = f"sqlite:///{tmp_path}/x.db"
    assert cli_main(["serve", "--db", db, "--port", "1"]) == 2
    assert "FLOODPOST_DEFAULT_LOCALE" in capsys.readouterr().err


@pytest.mark.parametrize(("given", "kept"), [("en-US", "en"), ("zh-CN", "zh_CN"), ("en", "en")])
def test_language_tags_people_write_are_understood(given, kept):
    assert Settings(default_locale=given).default_locale == kept


@pytest.mark.slow
def test_sigterm_ends_open_event_streams(tmp_path):
    """uvicorn waits for open connections before the app's shutdown; the lifespan's signal
    handler ends the streams first, so a stop with a browser watching still finishes."""
    db_url = f"sqlite:///{tmp_path}/floodpost.db"
    assert (
        cli_main(["user", "add", "li", "--role", "staff", "--password", PASSWORD, "--db", db_url])
        == 0
    )
    srv = ServerProcess(db_url)
    srv.start()
    try:
        headers = {"Authorization": f"Bearer {srv.token('li')}"}
        with httpx.stream("GET", srv.url + "/api/events", headers=headers, timeout=30) as r:
            assert r.status_code == 200
            assert srv.proc is not None
            srv.proc.terminate()
            t0 = time.monotonic()
            for _ in r.iter_lines():  # the server ends the stream rather than waiting on it
                assert time.monotonic() - t0 < 10, "the stream outlived the stop"
            srv.proc.wait(timeout=10)
            assert time.monotonic() - t0 < 10
    finally:
        srv.stop()
