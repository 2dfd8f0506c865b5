"""Shared fixtures: real stores in temporary directories (and on a throw-away PostGIS cluster)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from floodpost.storage import open_store
from floodpost.storage.base import Store
from tests.pg_support import pg_cluster, pg_database_url  # noqa: F401

pytest_plugins = ["tests.browser_support"]

# Every storage test runs on both backends; `-m "not postgres"` leaves PostGIS out locally.
STORE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORE_KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh, empty store URL of each backend (every storage test runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/floodpost.db"
    pg = request.getfixturevalue("pg_database_url")
    return pg


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/floodpost.db"


# -- the web app in process ------------------------------------------------------------------
@pytest.fixture(scope="session")
def catalogue():
    """The bundled Suining geodata, loaded once per test session (it is read-only)."""
    from floodpost.geo.catalogue import Catalogue
    from floodpost.paths import default_geodata

    return Catalogue.load(default_geodata())


@pytest.fixture
def settings(tmp_path):
    import secrets

    from floodpost.settings import Settings

    return Settings(
        db_url=f"sqlite:///{tmp_path}/floodpost.db",
        secret_key=secrets.token_urlsafe(32),
        tile_url="",
    )


@pytest.fixture
def app(settings, catalogue):
    from floodpost.web.app import create_app

    return create_app(settings, catalogue=catalogue)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


TEST_PASSWORD = "a long enough password"


@pytest.fixture
def bearer(app, client):
    """bearer(role) -> Authorization headers for a fresh account with that role."""
    from floodpost.auth.accounts import create_account

    def make(role: str, name: str | None = None) -> dict[str, str]:
        name = name or f"{role}-user"
        if app.state.ctx.store.get_user(name) is None:
            create_account(app.state.ctx.store, name, role, TEST_PASSWORD)
        r = client.post("/api/auth/token", data={"username": name, "password": TEST_PASSWORD})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return make
