"""/ogc in process: the pitfalls other OGC API servers' users reported (STANDARDS.md §4.5), the
400s, access, the OpenAPI 3.0 document, and Store.find_reports/count_reports on both backends."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from floodpost.storage.base import ReportQuery
from tests.conftest import TEST_PASSWORD
from tests.live_support import T0, add_report, village_seat


def _basic(name: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{TEST_PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def viewer(app: Any, client: Any, bearer: Any) -> dict[str, str]:
    bearer("viewer")  # creates the account
    return _basic("viewer-user")


@pytest.fixture
def reports(app: Any, catalogue: Any) -> list[dict[str, Any]]:
    ctx = app.state.ctx
    out = []
    for i in range(25):
        lon, lat, _code = village_seat(catalogue, i % 7)
        kind = ("evacuation", "rescue", "help_request")[i % 3]
        when = datetime.fromtimestamp(T0 + i * 3600, UTC).isoformat()
        out.append(
            add_report(ctx.store, ctx.router, received_ts=T0 + i * 3600, kind=kind,
                       lon=lon, lat=lat, occurred_at=when, contact="13900000000")
        )  # fmt: skip
    return out


def _walk(client: Any, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    pages = []
    while url:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/geo+json"
        page = r.json()
        pages.append(page)
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    return pages


def test_landing_page_links(client: Any, viewer: dict) -> None:
    doc = client.get("/ogc", headers=viewer).json()
    rels = {link["rel"]: link for link in doc["links"]}
    assert set(rels) >= {"self", "service-desc", "conformance", "data"}
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    # No Accept header, or */*: JSON.
    assert client.get("/ogc", headers={**viewer, "Accept": "*/*"}).json() == doc


def test_no_credentials_is_a_basic_challenge(client: Any) -> None:
    r = client.get("/ogc/collections")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic ")
    r = client.get("/ogc/collections", headers=_basic("nobody"))
    assert r.status_code == 401


def test_bearer_and_basic_both_work(client: Any, bearer: Any) -> None:
    assert client.get("/ogc/conformance", headers=bearer("staff")).status_code == 200
    assert client.get("/ogc/conformance", headers=_basic("staff-user")).status_code == 200


@pytest.mark.parametrize("total,limit", [(25, 5), (25, 7), (25, 25), (25, 100)])
def test_paging_pitfalls(client: Any, viewer: dict, reports: list, total: int, limit: int) -> None:
    pages = _walk(client, f"/ogc/collections/reports/items?limit={limit}&f=json", viewer)
    ids = [f["id"] for p in pages for f in p["features"]]
    assert len(ids) == len(set(ids)) == total
    assert all(p["numberMatched"] == total for p in pages)  # independent of limit and page
    assert all(p["numberReturned"] == len(p["features"]) > 0 for p in pages)  # no empty page
    assert len(pages) == -(-total // limit)
    for p in pages[:-1]:
        nxt = next(link["href"] for link in p["links"] if link["rel"] == "next")
        assert f"limit={limit}" in nxt and "f=json" in nxt


def test_layer_paging_stops_exactly(client: Any, viewer: dict, catalogue: Any) -> None:
    total = catalogue.count("villages")
    pages = _walk(client, f"/ogc/collections/villages/items?limit={total // 2}", viewer)
    assert sum(p["numberReturned"] for p in pages) == total
    assert pages[-1]["numberReturned"] > 0


def test_bbox_numbers_with_float_noise(client: Any, viewer: dict, reports: list) -> None:
    lons = sorted({r["lon"] for r in reports})
    lats = sorted(r["lat"] for r in reports)
    cut = lons[2]  # the reports of the two westernmost villages fall outside
    clean = f"{cut},{lats[0]},{lons[-1]},{lats[-1]}"
    noisy = f"{cut!r}00000000001,{lats[0] - 1e-12!r},{lons[-1] + 1e-12!r},{lats[-1]}"
    base = "/ogc/collections/reports/items?bbox="
    a = client.get(base + clean, headers=viewer).json()
    b = client.get(base + noisy, headers=viewer).json()
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]
    expected = {r["id"] for r in reports if r["lon"] >= cut}
    assert 0 < len(expected) < len(reports)
    assert {f["id"] for f in a["features"]} == expected
    # CRS84: coordinates are [lon, lat].
    f = a["features"][0]
    assert f["geometry"]["coordinates"] == [f["properties"]["lon"], f["properties"]["lat"]]


def test_datetime_instants_and_intervals(client: Any, viewer: dict, reports: list) -> None:
    def count(value: str) -> int:
        r = client.get("/ogc/collections/reports/items", params={"datetime": value}, headers=viewer)
        assert r.status_code == 200, r.text
        return r.json()["numberMatched"]

    t = [r["occurred_ts"] for r in reports]
    mid = datetime.fromtimestamp(T0 + 10 * 3600, UTC).isoformat().replace("+00:00", "Z")
    assert count(f"{mid}/..") == sum(1 for x in t if x >= T0 + 10 * 3600)
    assert count(f"../{mid}") == sum(1 for x in t if x <= T0 + 10 * 3600)
    assert count(f"/{mid}") == count(f"../{mid}")
    assert count(mid) == 1
    assert count("2017-07-01") == sum(
        1 for x in t if datetime(2017, 7, 1, tzinfo=UTC).timestamp() <= x
        < datetime(2017, 7, 2, tzinfo=UTC).timestamp()
    )  # fmt: skip
    assert count("2017-06-01T00:00:00+08:00/2017-06-02T00:00:00+08:00") == 0


@pytest.mark.parametrize(
    "query,field",
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=110,27,109,28", "bbox"),
        ("bbox=27,110,28,111", "bbox"),  # lat/lon swapped: latitude beyond 90
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2017-06-23T00:00:00", "datetime"),  # no offset
        ("datetime=2017-06-24T00:00:00Z/2017-06-23T00:00:00Z", "datetime"),
        ("datetime=../..", "datetime"),
        ("foo=1", "foo"),
        ("limit=5&limit=6", "limit"),
        ("cursor=-1", "cursor"),
        ("kind=flood", "kind"),
        ("township=12", "township"),
        ("f=html", "f"),
        ("bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326", "bbox-crs"),
    ],
)
def test_bad_parameters_are_400_naming_them(
    client: Any, viewer: dict, query: str, field: str
) -> None:
    r = client.get(f"/ogc/collections/reports/items?{query}", headers=viewer)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    assert r.json()["detail"]


def test_layer_takes_offset_not_cursor(client: Any, viewer: dict) -> None:
    assert client.get("/ogc/collections/villages/items?cursor=3", headers=viewer).status_code == 400
    r = client.get("/ogc/collections/villages/items?offset=3&limit=2", headers=viewer)
    assert r.status_code == 200 and r.json()["numberReturned"] == 2


def test_limit_above_maximum_is_capped(client: Any, viewer: dict, reports: list) -> None:
    r = client.get("/ogc/collections/reports/items?limit=1000000", headers=viewer)
    assert r.status_code == 200 and r.json()["numberReturned"] == len(reports)


def test_unknown_collection_and_feature_are_404(client: Any, viewer: dict) -> None:
    assert client.get("/ogc/collections/nope", headers=viewer).status_code == 404
    assert client.get("/ogc/collections/nope/items", headers=viewer).status_code == 404
    assert client.get("/ogc/collections/villages/items/1", headers=viewer).status_code == 404
    assert client.get("/ogc/collections/reports/items/x", headers=viewer).status_code == 404


def test_collection_document(client: Any, viewer: dict, catalogue: Any) -> None:
    doc = client.get("/ogc/collections/villages", headers=viewer).json()
    assert doc["itemType"] == "feature"
    minx, miny, maxx, maxy = doc["extent"]["spatial"]["bbox"][0]
    assert 100 < minx < maxx < 120 and 20 < miny < maxy < 30  # lon first
    assert any(link["rel"] == "items" and link["type"] == "application/geo+json"
               for link in doc["links"])  # fmt: skip
    q = client.get("/ogc/collections/reports/queryables", headers=viewer).json()
    assert set(q["properties"]) == {"kind", "township"}


def test_reports_temporal_extent(client: Any, viewer: dict, reports: list) -> None:
    doc = client.get("/ogc/collections/reports", headers=viewer).json()
    start, end = doc["extent"]["temporal"]["interval"][0]
    first = min(r["occurred_ts"] for r in reports)
    last = max(r["occurred_ts"] for r in reports)
    assert datetime.fromisoformat(start).timestamp() == first
    assert datetime.fromisoformat(end).timestamp() == last
    q = client.get("/ogc/collections/reports/queryables", headers=viewer).json()
    assert set(q["properties"]) == {"kind", "township"}


def test_filters_by_kind_and_township(client: Any, viewer: dict, reports: list) -> None:
    r = client.get("/ogc/collections/reports/items?kind=rescue", headers=viewer).json()
    assert r["numberMatched"] == sum(1 for x in reports if x["kind"] == "rescue")
    town = reports[0]["township_code"]
    r = client.get(f"/ogc/collections/reports/items?township={town}", headers=viewer).json()
    assert r["numberMatched"] == sum(1 for x in reports if x["township_code"] == town)


def test_contacts_only_for_roles_that_act(client: Any, bearer: Any, reports: list) -> None:
    bearer("viewer")
    for who, sees in (("viewer-user", False), ("staff-user", True)):
        bearer(who.removesuffix("-user"))
        headers = _basic(who)
        zones = client.get("/ogc/collections/zones/items?limit=3", headers=headers).json()
        assert ("contact" in zones["features"][0]["properties"]) is sees
        rid = reports[2]["id"]  # a help request with a contact
        one = client.get(f"/ogc/collections/reports/items/{rid}", headers=headers).json()
        assert ("contact" in one["properties"]) is sees


def test_field_member_reads_only_own_reports(client: Any, bearer: Any, reports: list) -> None:
    bearer("field")
    page = client.get("/ogc/collections/reports/items", headers=_basic("field-user")).json()
    assert page["numberMatched"] == 0  # the fixture's reports are li's
    rid = reports[0]["id"]
    r = client.get(f"/ogc/collections/reports/items/{rid}", headers=_basic("field-user"))
    assert r.status_code == 404


def test_openapi_document_is_valid_openapi_30(client: Any, viewer: dict) -> None:
    from openapi_spec_validator import validate

    r = client.get("/ogc/api", headers=viewer)
    doc = r.json()
    assert doc["openapi"].startswith("3.0")
    validate(doc)  # raises on an invalid document
    # The OGC-specific static check: required paths for the declared conformance classes.
    import ogcapi_registry

    classes = client.get("/ogc/conformance", headers=viewer).json()["conformsTo"]
    result = ogcapi_registry.validate_ogc_api(doc, classes)
    assert result.is_valid and not result.has_critical_errors, result.get_summary()
    broken = {**doc, "paths": {k: v for k, v in doc["paths"].items() if k != "/conformance"}}
    assert ogcapi_registry.validate_ogc_api(broken, classes).has_critical_errors  # it can fail
    for path in ("/", "/conformance", "/collections", "/collections/{collectionId}",
                 "/collections/{collectionId}/items",
                 "/collections/{collectionId}/items/{featureId}"):  # fmt: skip
        assert path in doc["paths"]
    limit = next(
        p
        for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 10000 and limit["schema"]["default"] == 1000


# -- the Store methods behind the reports collection, on both backends ------------------------
def test_find_and_count_reports(store: Any, catalogue: Any) -> None:
    from floodpost.geo.routing import ReportRouter

    router = ReportRouter(catalogue)
    made = []
    for i in range(12):
        lon, lat, _ = village_seat(catalogue, i % 4)
        when = datetime.fromtimestamp(T0 + i * 60, UTC).isoformat()
        made.append(
            add_report(store, router, received_ts=T0 + i * 60, lon=lon, lat=lat,
                       occurred_at=when, kind=("rescue", "evacuation")[i % 2])
        )  # fmt: skip
    everything = ReportQuery()
    assert store.count_reports(everything) == 12
    first, cursor = store.find_reports(everything, limit=5)
    assert [r["id"] for r in first] == [r["id"] for r in made[:5]] and cursor is not None
    rest, last = store.find_reports(everything, after_seq=cursor, limit=7)
    assert len(rest) == 7 and last is None  # no cursor to an empty page
    q = ReportQuery(kind="rescue", occurred_from=T0 + 120, occurred_to=T0 + 480)
    assert store.count_reports(q) == 4
    lon, lat, _ = village_seat(catalogue, 0)
    q = ReportQuery(bbox=(lon - 1e-6, lat - 1e-6, lon + 1e-6, lat + 1e-6))
    assert store.count_reports(q) == 3
    assert store.count_reports(ReportQuery(reporter="someone-else")) == 0
    texts, cursor = store.find_report_texts(ReportQuery(kind="rescue"), limit=4)
    assert [t[0] for t in texts] == [r["id"] for r in made[0:8:2]] and cursor is not None
    rid, tlon, tlat, body = texts[0]
    assert json.loads(body) == made[0] and (tlon, tlat) == (made[0]["lon"], made[0]["lat"])
    rest, last = store.find_report_texts(ReportQuery(kind="rescue"), after_seq=cursor, limit=2)
    assert len(rest) == 2 and last is None
