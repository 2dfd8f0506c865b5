"""Exports stream (issue 14 §2): made a page at a time, sent chunked, filtered like the report
list, and every row present when read back with openpyxl, pyogrio and json."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import tempfile
import time
import zipfile
from contextlib import closing

import httpx
import openpyxl
import pyogrio
import pytest

from floodpost.export import columns, export_stream, formats
from floodpost.replay.demo import load_all
from tests.live_support import ThreadServer, add_report
from tests.reports_support import add_user, bearer


@pytest.fixture
def demo(client, catalogue):
    """The demo log (about 1,300 reports) and a viewer's bearer token on the test client."""
    store = client.app.state.ctx.store
    load_all(store, catalogue)
    add_user(store, "viewer", "viewer")
    client.headers.update(bearer(client, "viewer"))
    return client


def _ctx(client):
    return client.app.state.ctx


def _stats(client):
    return _ctx(client).stats


def _listed_ids(client, **filters) -> list[str]:
    """The ids GET /api/reports gives for these filters, every page."""
    ids, cursor = [], None
    while True:
        params = {**filters, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/reports", params=params).json()
        ids += [r["id"] for r in page["reports"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def _new_report(client, catalogue, note: str) -> str:
    ctx = _ctx(client)
    lon, lat, _ = _village(catalogue)
    report = add_report(
        ctx.store, ctx.router, received_ts=time.time(), kind="rescue", lon=lon, lat=lat, note=note
    )
    return str(report["id"])


def _village(catalogue):
    code, v = next(iter(catalogue.records("villages").items()))
    return float(v["seat_lon"]), float(v["seat_lat"]), code


# -- made a page at a time --------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "geojson", "xlsx"])
def test_first_chunk_is_sent_before_the_reports_are_read(demo, catalogue, monkeypatch, fmt):
    """The first chunk comes out of the generator before the log is read: a report stored after
    it was taken is in the rest of the download (a body built whole first could not hold it)."""
    monkeypatch.setattr(columns, "PAGE", 100)
    _, chunks = export_stream(_stats(demo), fmt)
    assert next(chunks) == b""  # lets the headers go out before any work
    first = next(chunks)
    assert first.startswith({"csv": b"\xef\xbb\xbfid,", "geojson": b'{"type"', "xlsx": b"PK"}[fmt])
    late = _new_report(demo, catalogue, "stored after the first chunk")
    body = first + b"".join(chunks)
    if fmt == "csv":
        ids = [r["id"] for r in _csv_rows(body)]
    elif fmt == "geojson":
        ids = [f["id"] for f in json.loads(body)["features"]]
    else:
        wb = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        ids = [r[0] for r in wb["reports"].iter_rows(min_row=2, values_only=True)]
    assert late in ids and ids[-1] == late
    assert len(ids) == len(_listed_ids(demo))


@pytest.mark.parametrize("fmt", ["csv", "geojson", "xlsx", "gpkg"])
def test_http_download_is_chunked(demo, settings, catalogue, fmt):
    """Over a real server the answer has no Content-Length: it is sent as it is made, in many
    chunks (a page of reports each for csv/geojson)."""
    from floodpost.web.app import create_app

    app = create_app(settings, catalogue=catalogue)  # the same store, under a real uvicorn
    # identity: the bytes as the export makes them (the app gzips for clients that ask)
    headers = {"Authorization": demo.headers["Authorization"], "Accept-Encoding": "identity"}
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url, headers=headers) as http:
        with http.stream("GET", "/api/export", params={"format": fmt}) as r:
            assert r.status_code == 200
            assert r.headers.get("transfer-encoding") == "chunked"
            assert "content-length" not in r.headers
            raw = r.iter_raw()
            first = next(raw)
            assert first
            rest = b"".join(raw)
    body = first + rest
    signature = {"csv": b"\xef\xbb\xbf", "geojson": b"{", "xlsx": b"PK", "gpkg": b"SQLite format 3"}
    assert body.startswith(signature[fmt])


# -- filters ----------------------------------------------------------------------------------
FILTERS = [
    {"kind": "rescue"},
    {"township": "430527100"},
    {"kind": "evacuation", "township": "430527100"},
    {"since": "2017-07-01T00:00:00+08:00"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "&".join(f"{k}" for k in f))
def test_export_filters_are_the_report_lists(demo, tmp_path, filters):
    want = _listed_ids(demo, **filters)
    assert 0 < len(want) < len(_listed_ids(demo))  # the filter does select something
    got = {}
    for fmt in ("csv", "geojson", "xlsx", "gpkg"):
        r = demo.get("/api/export", params={"format": fmt, **filters})
        assert r.status_code == 200, r.text
        if fmt == "csv":
            rows = _csv_rows(r.content)
            got[fmt] = [row["id"] for row in rows]
        elif fmt == "geojson":
            rows = [f["properties"] for f in json.loads(r.content)["features"]]
            got[fmt] = [row["id"] for row in rows]
        elif fmt == "xlsx":
            wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
            table = list(wb["reports"].iter_rows(values_only=True))
            rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
            got[fmt] = [row["id"] for row in rows]
        else:
            path = tmp_path / f"{len(got)}.gpkg"
            path.write_bytes(r.content)
            frame = pyogrio.read_dataframe(path, layer="reports")
            rows = frame.to_dict("records")
            got[fmt] = list(frame["id"])
        if "kind" in filters:
            assert {row["kind"] for row in rows} == {filters["kind"]}
        if "township" in filters:
            assert {row["township_code"] for row in rows} == {filters["township"]}
    assert got == dict.fromkeys(got, want)


def test_export_refuses_bad_filters_naming_the_field(demo):
    cases = [
        ({"kind": "flood"}, "kind"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2017-07-01T00:00:00"}, "since"),  # no offset
        ({"format": "xlsx", "hxl": "1"}, "hxl"),
        ({"hxl": "maybe"}, "hxl"),
    ]
    for params, field in cases:
        r = demo.get("/api/export", params={"format": "csv", **params})
        assert r.status_code == 422, (params, r.text)
        assert r.json()["field"] == field


# -- round trips ------------------------------------------------------------------------------
def test_xlsx_round_trip_every_report_and_sheet_continuation(demo, monkeypatch):
    """openpyxl reads every report back; past the per-sheet limit they continue on
    `reports (2)`, … with the header repeated (the limit lowered to keep the test small)."""
    monkeypatch.setattr(formats, "XLSX_MAX_DATA_ROWS", 500)
    monkeypatch.setattr(columns, "PAGE", 333)  # pages that straddle the sheet limit
    want = _listed_ids(demo)
    r = demo.get("/api/export", params={"format": "xlsx"})
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    parts = [n for n in wb.sheetnames if n.startswith("reports")]
    assert parts[:2] == ["reports", "reports (2)"] and len(parts) == -(-len(want) // 500)
    ids = []
    for name in parts:
        rows = list(wb[name].iter_rows(values_only=True))
        assert rows[0] == columns.FIELD_NAMES
        assert len(rows) - 1 == (500 if name != parts[-1] else len(want) - 500 * (len(parts) - 1))
        ids += [row[0] for row in rows[1:]]
    assert ids == want
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.testzip() is None


def test_xlsx_cells_keep_types_and_escape_markup(demo, catalogue):
    tricky = "<b>&amp; \x01 长铺</b>  "
    _new_report(demo, catalogue, tricky)
    r = demo.get("/api/export", params={"format": "xlsx", "kind": "rescue"})
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    table = list(wb["reports"].iter_rows(values_only=True))
    header = table[0]
    last = dict(zip(header, table[-1], strict=True))
    assert last["note"] == "<b>&amp; \ufffd 长铺</b>  "
    assert isinstance(last["people"], int) and isinstance(last["lon"], float)
    assert last["outside_county"] is False and last["subtype"] is None


def test_gpkg_round_trip_every_report_with_spatial_index(demo, tmp_path):
    want = _listed_ids(demo)
    path = tmp_path / "all.gpkg"
    path.write_bytes(demo.get("/api/export", params={"format": "gpkg"}).content)
    info = pyogrio.read_info(path, layer="reports")
    assert info["features"] == len(want) and info["crs"] == "EPSG:4326"
    assert info["capabilities"]["fast_spatial_filter"]  # the R-tree is there and registered
    with closing(sqlite3.connect(path)) as conn:  # packed by export/rtree.py: SQLite accepts it
        assert conn.execute("SELECT rtreecheck('rtree_reports_geom')").fetchone()[0] == "ok"
        placed = conn.execute("SELECT COUNT(*) FROM reports WHERE geom IS NOT NULL").fetchone()
        assert conn.execute("SELECT COUNT(*) FROM rtree_reports_geom").fetchone() == placed
    frame = pyogrio.read_dataframe(path, layer="reports")
    assert list(frame["id"]) == want
    placed = frame[frame["lon"].notna()]
    assert (placed.geometry.x == placed["lon"]).all() and (placed.geometry.y == placed["lat"]).all()
    # A bounding-box read goes through the R-tree and finds the same features as a full scan.
    lon, lat = float(placed["lon"].iloc[0]), float(placed["lat"].iloc[0])
    box = (lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    inside = placed[placed["lon"].between(box[0], box[2]) & placed["lat"].between(box[1], box[3])]
    assert set(pyogrio.read_dataframe(path, layer="reports", bbox=box)["id"]) == set(inside["id"])
    # GDAL's own triggers are back: a feature added by GDAL is counted and indexed.
    extra = frame.head(1).copy()
    pyogrio.write_dataframe(extra, path, layer="reports", append=True)
    assert pyogrio.read_info(path, layer="reports")["features"] == len(want) + 1


def test_xlsx_sheets_stay_below_the_zip_entry_limit_without_zip64(demo, monkeypatch):
    """A sheet's XML past MAX_SHEET_BYTES continues on the next sheet, so no entry needs ZIP64
    (which Excel refuses in some streamed forms); every report is still there, once."""
    from floodpost.export import xlsx

    monkeypatch.setattr(xlsx, "MAX_SHEET_BYTES", 300_000)
    monkeypatch.setattr(columns, "PAGE", 200)
    want = _listed_ids(demo)
    r = demo.get("/api/export", params={"format": "xlsx"})
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        sheets = [i for i in z.infolist() if i.filename.startswith("xl/worksheets/")]
        assert all(i.file_size < 300_000 + 400_000 for i in sheets)  # one page past at most
        assert all(b"\x01\x00" not in i.extra[:2] for i in z.infolist())  # no ZIP64 extra
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    parts = [n for n in wb.sheetnames if n.startswith("reports")]
    assert len(parts) > 2
    ids = [row[0] for name in parts for row in wb[name].iter_rows(min_row=2, values_only=True)]
    assert ids == want


@pytest.mark.parametrize("hxl", [False, True])
def test_csv_pages_are_the_neutralised_rows_with_and_without_hxl(demo, catalogue, monkeypatch, hxl):
    """Byte for byte the CSV of every cell passed through text_row, on small pages of which
    some hold formula-like or negative cells and most do not, with the HXL columns too."""
    ctx = _ctx(demo)
    lon, lat, _ = _village(catalogue)
    for note in ("-3 people", "=SUM(A1)", '"quoted", with comma', "\tTab", "plain"):
        add_report(ctx.store, ctx.router, received_ts=time.time(), kind="rescue", lon=lon,
                   lat=lat, note=note)  # fmt: skip
    monkeypatch.setattr(columns, "PAGE", 40)
    got = b"".join(formats.csv_stream(_stats(demo), columns.ALL, hxl))
    extend = formats.hxl_extender(catalogue) if hxl else (lambda row: row)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for page in columns.iter_rows(ctx.store):
        writer.writerows(columns.text_row(extend(values)) for values in page)
    assert got.endswith(buf.getvalue().encode("utf-8"))
    assert got.count(b"\r\n") - buf.getvalue().count("\r\n") == (2 if hxl else 1)  # header(s)
    notes = [r["note"] for r in _csv_rows(got)[-5:]]
    assert notes == ["'-3 people", "'=SUM(A1)", '"quoted", with comma', "'\tTab", "plain"]


def test_gpkg_temporary_file_is_removed_when_the_client_goes_away(
    demo, settings, catalogue, tmp_path, monkeypatch
):
    """A client that hangs up after the first bytes of a GeoPackage leaves no temporary file
    behind on the server (nor does a complete download)."""
    from floodpost.web.app import create_app

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    monkeypatch.setattr(formats, "CHUNK_BYTES", 4096)  # many chunks: the file outlives the first
    app = create_app(settings, catalogue=catalogue)
    headers = {"Authorization": demo.headers["Authorization"], "Accept-Encoding": "identity"}
    with ThreadServer(app) as srv:
        with httpx.Client(base_url=srv.url, headers=headers) as http:
            with http.stream("GET", "/api/export", params={"format": "gpkg"}) as r:
                first = next(r.iter_raw())
                assert first.startswith(b"SQLite format 3")
                assert list(spool.iterdir())  # the file being sent
            # the response is closed here, most of the file unread: the connection goes
        deadline = time.monotonic() + 10
        while list(spool.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not list(spool.iterdir())
        with httpx.Client(base_url=srv.url, headers=headers) as http:
            body = http.get("/api/export", params={"format": "gpkg"}).content
        assert body.startswith(b"SQLite format 3") and not list(spool.iterdir())
