"""Exports opened with the tools users rely on: csv (Excel's BOM), openpyxl, pyogrio/GDAL."""

from __future__ import annotations

import csv
import io
import json
import uuid

import openpyxl
import pyogrio
import pytest

from floodpost.export.columns import neutralise
from floodpost.replay.demo import load_all
from tests.reports_support import add_user, bearer

HOSTILE = {
    "note": '=HYPERLINK("http://x","click")',
    "team": "+1+2",
    "contact": "@SUM(A1)",
}


@pytest.fixture
def export_client(client, catalogue):
    store = client.app.state.ctx.store
    load_all(store, catalogue)
    add_user(store, "viewer", "viewer")
    add_user(store, "field", "field")
    add_user(store, "staff", "staff")
    staff = bearer(client, "staff")
    # Reports whose text would be a formula in a spreadsheet; one evacuation of -… note.
    for kind, extra in (
        ("rescue", {"team": HOSTILE["team"], "note": HOSTILE["note"]}),
        ("help_request", {"contact": HOSTILE["contact"], "note": "-2+3"}),
        ("evacuation", {"note": "\tTab", "people": 7}),
    ):
        body = {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "occurred_at": "2017-07-01T12:00:00+08:00",
            "lon": 110.15,
            "lat": 26.6,
            "people": extra.pop("people", 3),
            **extra,
        }
        r = client.post("/api/reports", json=body, headers=staff)
        assert r.status_code == 201, r.text
    client.headers.update(bearer(client, "viewer"))
    return client


def _download(client, fmt):
    r = client.get("/api/export", params={"format": fmt})
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f'.{fmt}"' in disposition
    assert "floodpost-reports-20" in disposition
    return r


def test_neutralise():
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("长铺镇") == "长铺镇"
    assert neutralise(-5) == -5 and neutralise(2.5) == 2.5


def test_csv_has_bom_rfc4180_and_no_formulas(export_client):
    raw = _download(export_client, "csv").content
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) > 1300
    assert sum(int(r["people"]) for r in rows if r["kind"] == "evacuation") == 59_700 + 7
    notes = {r["note"] for r in rows} | {r["team"] for r in rows}
    assert "'" + HOSTILE["note"] in notes and "'" + HOSTILE["team"] in notes
    assert "'-2+3" in notes and "'\tTab" in notes
    assert not any(n and n[0] in "=+-@\t\r" for n in notes)
    assert any("示例" in (r["responsible"] or "") for r in rows)


def test_xlsx_sheets_numbers_and_neutralised_text(export_client, tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(_download(export_client, "xlsx").content)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["summary", "by township", "by zone", "by day", "reports"]
    summary = dict(wb["summary"].iter_rows(values_only=True))
    assert summary["evacuated"] == 59_707 and isinstance(summary["evacuated"], int)
    rows = list(wb["reports"].iter_rows(values_only=True))
    header = rows[0]
    people = header.index("people")
    note = header.index("note")
    assert all(isinstance(r[people], int) for r in rows[1:])
    assert isinstance(rows[1][header.index("lon")], float)
    texts = [r[note] for r in rows[1:] if r[note]]
    assert "'" + HOSTILE["note"] in texts
    assert not any(t[0] in "=+-@\t\r" for t in texts)
    township_rows = list(wb["by township"].iter_rows(values_only=True))[1:]
    assert sum(r[3] for r in township_rows) == 59_707
    days = list(wb["by day"].iter_rows(values_only=True))
    assert days[1][0] == "2017-06-24"


def test_geojson_is_a_feature_collection(export_client):
    doc = json.loads(_download(export_client, "geojson").content)
    assert doc["type"] == "FeatureCollection"
    f = doc["features"][0]
    assert f["geometry"]["type"] == "Point" and len(f["geometry"]["coordinates"]) == 2
    assert {"id", "kind", "people", "township_code", "zone_id"} <= set(f["properties"])
    assert (
        sum(
            x["properties"]["people"]
            for x in doc["features"]
            if x["properties"]["kind"] == "rescue" and x["properties"]["status"] == "active"
        )
        == 1_960 + 3
    )


def test_geopackage_layers_crs_and_totals(export_client, tmp_path):
    path = tmp_path / "x.gpkg"
    path.write_bytes(_download(export_client, "gpkg").content)
    layers = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    assert set(layers) == {"reports", "villages", "zones"}
    for name in layers:
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:4326"
    reports = pyogrio.read_dataframe(path, layer="reports")
    assert len(reports) > 1300 and reports.geometry.notna().all()
    villages = pyogrio.read_dataframe(path, layer="villages")
    zones = pyogrio.read_dataframe(path, layer="zones")
    assert int(villages["evacuated"].sum()) == int(zones["evacuated"].sum()) == 59_707
    assert {"population_at_risk", "rescued", "owner"} <= set(zones.columns)


def test_export_refuses_unknown_format_and_field_role(export_client):
    r = export_client.get("/api/export", params={"format": "pdf"})
    assert r.status_code == 422 and r.json()["field"] == "format"
    r = export_client.get(
        "/api/export", params={"format": "csv"}, headers=bearer(export_client, "field")
    )
    assert r.status_code == 403
