"""The offline basemap: an MBTiles file (built here: SQLite + tiny PNG tiles) served at
/tiles/{z}/{x}/{y} with TMS rows flipped, drawn by the map and the form, credited from its
metadata."""

from __future__ import annotations

import gzip
import secrets
import sqlite3
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from floodpost.settings import Settings
from floodpost.web.app import create_app
from tests.conftest import TEST_PASSWORD


def png(rgb: tuple[int, int, int]) -> bytes:
    """A 1×1 PNG of one colour (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    raw = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def make_mbtiles(path: Path, fmt: str, tiles: dict[tuple[int, int, int], bytes]) -> Path:
    """`tiles` keyed by XYZ (z, x, y); stored as MBTiles does, in TMS rows."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                 "tile_row INTEGER, tile_data BLOB)")  # fmt: skip
    meta = {"name": "绥宁底图", "format": fmt, "attribution": "© 绥宁县自然资源局 <b>x</b>",
            "bounds": "109.8,26.2,110.6,27.2", "minzoom": "1", "maxzoom": "2"}  # fmt: skip
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    for (z, x, y), data in tiles.items():
        conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, data))
    conn.commit()
    conn.close()
    return path


RED, BLUE = png((255, 0, 0)), png((0, 0, 255))


@pytest.fixture
def basemap_app(tmp_path: Path, catalogue: Any) -> Any:
    file = make_mbtiles(tmp_path / "suining.mbtiles", "png", {(2, 3, 0): RED, (2, 3, 3): BLUE})
    settings = Settings(db_url=f"sqlite:///{tmp_path}/f.db", secret_key=secrets.token_urlsafe(32),
                        basemap=file)  # fmt: skip
    app = create_app(settings, catalogue=catalogue)
    with TestClient(app) as client:
        from floodpost.auth.accounts import create_account

        create_account(app.state.ctx.store, "boss", "commander", TEST_PASSWORD)
        r = client.post("/api/auth/token", data={"username": "boss", "password": TEST_PASSWORD})
        client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        yield app, client


def test_settings_take_url_and_attribution_from_the_file(tmp_path: Path) -> None:
    file = make_mbtiles(tmp_path / "a.mbtiles", "png", {})
    s = Settings(basemap=file)
    assert s.tile_url == "/tiles/{z}/{x}/{y}"
    assert s.tile_attribution == "© 绥宁县自然资源局 <b>x</b>"
    assert Settings(basemap=file, tile_attribution="mine").tile_attribution == "mine"


def test_tiles_are_served_with_rows_flipped(basemap_app: Any) -> None:
    _app, client = basemap_app
    top = client.get("/tiles/2/3/0")
    assert top.status_code == 200 and top.headers["content-type"] == "image/png"
    assert top.content == RED  # XYZ row 0 = TMS row 3
    assert client.get("/tiles/2/3/3.png").content == BLUE
    assert client.get("/tiles/2/3/1").status_code == 404
    assert client.get("/tiles/2/9/0").status_code == 404
    assert client.get("/tiles/2/3/x").status_code == 404


def test_tiles_need_sign_in(basemap_app: Any) -> None:
    app, _client = basemap_app
    with TestClient(app) as anonymous:
        r = anonymous.get("/tiles/2/3/0", headers={"Accept": "image/png"})
        assert r.status_code == 401


def test_map_and_form_draw_the_file(basemap_app: Any) -> None:
    _app, client = basemap_app
    page = client.get("/").text
    assert "/tiles/{z}/{x}/{y}" in page
    assert "tile.openstreetmap.org" not in page
    # Credited (folium writes the option as JSON, non-ASCII escaped) and HTML-escaped.
    credit = "绥宁县自然资源局".encode("ascii", "backslashreplace").decode()
    assert credit in page and "<b>x</b>" not in page
    form = client.get("/report").text
    assert 'data-tile-url="/tiles/{z}/{x}/{y}"' in form


def test_vector_tiles_keep_their_type(tmp_path: Path, catalogue: Any) -> None:
    pbf = gzip.compress(b"\x1a\x02vector")
    file = make_mbtiles(tmp_path / "v.mbtiles", "pbf", {(1, 0, 0): pbf})
    settings = Settings(db_url=f"sqlite:///{tmp_path}/f.db", secret_key=secrets.token_urlsafe(32),
                        basemap=file)  # fmt: skip
    assert settings.tile_url == ""  # Leaflet cannot draw vector tiles: no broken images
    app = create_app(settings, catalogue=catalogue)
    with TestClient(app) as client:
        from floodpost.auth.accounts import create_account

        create_account(app.state.ctx.store, "v", "viewer", TEST_PASSWORD)
        r = client.post("/api/auth/token", data={"username": "v", "password": TEST_PASSWORD})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = client.get("/tiles/1/0/0", headers=headers)
        assert r.headers["content-type"] == "application/x-protobuf"
        assert r.content == b"\x1a\x02vector"  # httpx undid the Content-Encoding: gzip


def test_a_file_that_is_not_mbtiles_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.mbtiles"
    bad.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(Exception, match="MBTiles"):
        Settings(basemap=bad)
