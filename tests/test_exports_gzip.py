"""The gzip middleware and the exports (web/gzip_types.py): a browser (Accept-Encoding: gzip)
gets the XLSX as the zip it is, not gzipped again; CSV, GeoJSON and GeoPackage are gzipped."""

from __future__ import annotations

import gzip
import io
import zipfile

import openpyxl
import pyogrio
import pytest

from floodpost.replay.demo import load_all
from tests.reports_support import add_user, bearer


@pytest.fixture
def browser(client, catalogue):
    load_all(client.app.state.ctx.store, catalogue)
    add_user(client.app.state.ctx.store, "viewer", "viewer")
    client.headers.update(bearer(client, "viewer"))
    return client


def _raw(client, fmt: str, encoding: str) -> tuple[dict[str, str], bytes]:
    """The response headers and its body bytes as sent (not decoded by the client)."""
    params = {"format": fmt}
    with client.stream(
        "GET", "/api/export", params=params, headers={"Accept-Encoding": encoding}
    ) as r:
        assert r.status_code == 200
        return dict(r.headers), b"".join(r.iter_raw())


def test_xlsx_is_sent_as_the_zip_it_is(browser):
    headers, body = _raw(browser, "xlsx", "gzip, deflate")
    assert "content-encoding" not in headers
    assert body.startswith(b"PK\x03\x04")  # the file itself: a zip, no gzip layer
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    assert "reports" in book.sheetnames
    # Byte for byte what a client without gzip gets (the zip's member dates aside: compared
    # member by member).
    _, plain = _raw(browser, "xlsx", "identity")
    with zipfile.ZipFile(io.BytesIO(body)) as a, zipfile.ZipFile(io.BytesIO(plain)) as b:
        assert a.namelist() == b.namelist()
        assert all(a.read(n) == b.read(n) for n in a.namelist())


@pytest.mark.parametrize(
    ("fmt", "start"),
    [("csv", "\ufeffid,".encode()), ("geojson", b'{"type":"FeatureCollection"'), ("gpkg", None)],
)
def test_text_and_geopackage_exports_are_gzipped(browser, tmp_path, fmt, start):
    headers, body = _raw(browser, fmt, "gzip")
    assert headers["content-encoding"] == "gzip"
    data = gzip.decompress(body)
    assert len(body) < len(data) / 2
    if start is not None:
        assert data.startswith(start)
    else:
        assert data.startswith(b"SQLite format 3\x00")
        path = tmp_path / "x.gpkg"
        path.write_bytes(data)
        assert pyogrio.read_info(path, layer="reports")["features"] > 1000
