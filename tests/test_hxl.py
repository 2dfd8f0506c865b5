"""HXL (issue 12): `hxl=1` CSVs of the report log and the statistics tables, read over real HTTP
by libhxl (the reference HXL library) and checked with its validator."""

from __future__ import annotations

import csv
import io

import httpx
import hxl
import pytest

from floodpost.export.columns import FIELD_NAMES
from floodpost.export.hxl import REPORT_TAGS
from floodpost.export.hxl_places import HXL_FIELDS, HXL_TAGS
from floodpost.replay.demo import load_all
from floodpost.web.app import create_app
from tests.live_support import ThreadServer
from tests.reports_support import add_user, bearer

TABLES = [
    "/api/stats/by-township",
    "/api/stats/by-zone",
    "/api/stats/by-village",
    "/api/stats/by-day",
    "/api/stats/by-day?date=2017-07-01",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, catalogue):
    import secrets

    from floodpost.settings import Settings

    folder = tmp_path_factory.mktemp("hxl")
    settings = Settings(
        db_url=f"sqlite:///{folder}/floodpost.db",
        secret_key=secrets.token_urlsafe(32),
        tile_url="",
    )
    app = create_app(settings, catalogue=catalogue)
    load_all(app.state.ctx.store, catalogue)
    add_user(app.state.ctx.store, "viewer", "viewer")
    with ThreadServer(app) as srv, httpx.Client(base_url=srv.url) as http:
        assert app.state.ctx.follower.wait_ready(120)  # roll-ups warm (issue 14 §5)
        srv.auth = bearer(http, "viewer")  # type: ignore[attr-defined]
        yield srv


def _hxl(server, path: str) -> hxl.model.Dataset:
    """libhxl reading the URL itself (allow_local: the server is on 127.0.0.1)."""
    options = hxl.InputOptions(allow_local=True, http_headers=server.auth)
    return hxl.data(server.url + path, options)


def _valid(report: dict) -> bool:
    assert report["validator"] == "libhxl-python"
    return bool(report["is_valid"])


def _clean(report: dict) -> bool:
    """No error and no warning. libhxl's default schema also flags possible numeric outliers at
    severity "info" (and then says is_valid False): a county's biggest township is data."""
    assert report["validator"] == "libhxl-python"
    stats = report["stats"]
    return stats["error"] == 0 and stats["warning"] == 0 and stats.get("external", 0) == 0


def test_report_log_csv_with_hxl_row_is_valid_hxl(server):
    data = _hxl(server, "/api/export?format=csv&hxl=1")
    tags = [column.display_tag for column in data.columns]
    assert tags == [REPORT_TAGS[name] for name in FIELD_NAMES] + [HXL_TAGS[n] for n in HXL_FIELDS]
    assert {"#date+occurred", "#adm4+code", "#adm5+code", "#geo+lat", "#geo+lon"} <= set(tags)
    assert {"#affected+ind", "#affected+rescued+ind", "#org+team"} <= set(tags)
    rows = list(data)
    assert len(rows) > 1300
    assert all(row.get("#adm5+code") is None or len(row.get("#adm5+code")) == 12 for row in rows)
    report = hxl.validate(_hxl(server, "/api/export?format=csv&hxl=1"))
    assert _valid(report), report["issues"][:3]


def test_hxl_row_sits_under_the_header_and_only_when_asked(server):
    with httpx.Client(base_url=server.url, headers=server.auth) as http:
        tagged = http.get("/api/export", params={"format": "csv", "hxl": "1", "kind": "rescue"})
        plain = http.get("/api/export", params={"format": "csv", "kind": "rescue"})
    rows = list(csv.reader(io.StringIO(tagged.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(FIELD_NAMES + HXL_FIELDS)
    assert rows[1] == [REPORT_TAGS[n] for n in FIELD_NAMES] + [HXL_TAGS[n] for n in HXL_FIELDS]
    plain_rows = list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"), newline="")))
    # The plain CSV keeps the documented columns; the HXL one adds the partners' columns after.
    width = len(FIELD_NAMES)
    assert plain_rows[0] == rows[0][:width]
    assert plain_rows[1:] == [r[:width] for r in rows[2:]]
    assert {r[1] for r in rows[2:]} == {"rescue"}  # filters and hxl together


# Every tag CONTRACT.md's export row and issue 12 name, matched as libhxl matches a pattern.
CONTRACT_TAGS = (
    "#date", "#adm1+name", "#adm2+code", "#adm3+name", "#loc+name", "#geo+lat", "#geo+lon",
    "#affected+displaced", "#affected+rescued", "#org",
)  # fmt: skip


def test_report_log_carries_every_tag_partners_join_on(server, catalogue):
    data = _hxl(server, "/api/export?format=csv&hxl=1")
    for tag in CONTRACT_TAGS:
        pattern = hxl.model.TagPattern.parse(tag)
        assert any(pattern.match(c) for c in data.columns), tag
    rows = list(data)
    at_org = [c.display_tag for c in data.columns].index(
        "#org"
    )  # `#org` alone also matches #org+team
    county = catalogue.county_code
    inside = [r for r in rows if r.get("#adm5+code")]
    assert inside
    for row in inside[:200]:
        code = row.get("#adm5+code")
        village = catalogue.village(code)
        assert row.get("#adm1+name") == "湖南省"
        assert row.get("#adm2+code") == county[:4] == "4305"
        assert row.get("#adm3+code") == county and row.get("#adm3+name") == "绥宁县"
        assert row.get("#adm4+name") == catalogue.township(village["township_code"])["name"]
        assert row.get("#loc+name") == village["name"]
        assert row.values[at_org] == "绥宁县防汛抗旱指挥部"
    kinds = {r.get("#event+type") for r in rows}
    assert "evacuation" in kinds
    for row in rows:
        displaced = int(row.get("#affected+displaced+ind"))
        if row.get("#event+type") == "evacuation":
            assert displaced == int(row.get("#affected+ind") or 0)
        else:
            assert displaced == 0
    assert sum(int(r.get("#affected+displaced+ind")) for r in rows) > 0
    assert sum(int(r.get("#affected+rescued+ind") or 0) for r in rows) > 0


@pytest.mark.parametrize("path", TABLES)
def test_statistics_tables_export_as_valid_hxl(server, path):
    sep = "&" if "?" in path else "?"
    data = _hxl(server, f"{path}{sep}format=csv&hxl=1")
    tags = [column.display_tag for column in data.columns]
    assert "#affected+displaced+ind" in tags and "#affected+rescued+ind" in tags
    with httpx.Client(base_url=server.url, headers=server.auth) as http:
        table = http.get(path).json()
    rows = list(data)
    assert len(rows) == len(table["rows"])
    total = sum(int(row.get("#affected+displaced+ind")) for row in rows)
    assert total == sum(r["evacuated"] for r in table["rows"])
    if "township" in path:
        assert tags[:2] == ["#adm4+code", "#adm4+name"]
        assert rows[0].get("#adm4+name") == table["rows"][0]["name"]
    report = hxl.validate(_hxl(server, f"{path}{sep}format=csv&hxl=1"))
    assert _clean(report), report["issues"][:3]
    assert {i["severity"] for i in report["issues"]} <= {"info"}


def test_statistics_tables_still_answer_json_and_refuse_bad_formats(server):
    with httpx.Client(base_url=server.url, headers=server.auth) as http:
        r = http.get("/api/stats/by-township")
        assert r.headers["content-type"].startswith("application/json") and r.json()["rows"]
        r = http.get("/api/stats/by-zone", params={"format": "csv"})
        assert r.headers["content-type"].startswith("text/csv")
        assert 'filename="floodpost-by-zone-' in r.headers["content-disposition"]
        assert r.content.startswith(b"\xef\xbb\xbfzone_id,name,")
        for params, field in (({"format": "xlsx"}, "format"), ({"hxl": "1"}, "hxl")):
            r = http.get("/api/stats/by-village", params=params)
            assert r.status_code == 422 and r.json()["field"] == field


def test_the_validator_catches_a_bad_row(server):
    """Not a validator that passes anything: a count that is not a number is an error."""
    with httpx.Client(base_url=server.url, headers=server.auth) as http:
        text = http.get("/api/stats/by-township?format=csv&hxl=1").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    col = rows[1].index("#affected+displaced+ind")
    rows[2][col] = "abc"
    report = hxl.validate(hxl.data(rows))
    assert not _valid(report)
    assert any(
        loc["hashtag"] == "#affected+displaced+ind" and loc["location_value"] == "abc"
        for issue in report["issues"]
        for loc in issue["locations"]
    )


def test_every_tag_is_documented():
    from pathlib import Path

    from floodpost.export.hxl import NAME_TAGS, STATS_TAGS

    doc = (Path(__file__).resolve().parents[1] / "docs" / "API.md").read_text(encoding="utf-8")
    flat = " ".join(doc.split())  # the statistics list wraps over lines
    for column, tag in {**REPORT_TAGS, **HXL_TAGS}.items():
        assert f"`{column}` | `{tag}`" in doc, column
    for column, tag in {**STATS_TAGS, **NAME_TAGS}.items():
        assert f"`{tag}`" in flat and f"`{column}`" in flat, column
