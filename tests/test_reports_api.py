"""POST/GET /api/reports: the contract's statuses, routing, idempotency and hostile input."""

from __future__ import annotations

import json

import pytest
import shapely

from tests.reports_support import new_report, quick_user


@pytest.fixture
def ctx(app):
    return app.state.ctx


@pytest.fixture
def users(client, ctx):
    """Bearer headers for one account of each role (plus a second field member)."""
    out = {}
    for name, role in (
        ("cmd", "commander"),
        ("staff", "staff"),
        ("li", "field"),
        ("wang", "field"),
        ("view", "viewer"),
    ):
        out[name] = quick_user(ctx, name, role)
    return out


def _west_of_county(ctx, km: float) -> tuple[float, float]:
    """A point `km` west of the county's westernmost vertex (so about `km` outside it)."""
    county = ctx.catalogue.county_geometry
    coords = shapely.get_coordinates(county.boundary)
    lon, lat = min(coords, key=lambda c: c[0])
    return float(lon) - km / 99.6, float(lat)  # ~99.6 km per degree of longitude at 26.5°N


def test_create_then_identical_resend_then_conflict(client, users):
    body = new_report()
    r = client.post("/api/reports", json=body, headers=users["li"])
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["id"] == body["id"]
    for key in ("received_at", "township_code", "village_code", "zone_id", "responsible"):
        assert stored[key], key
    assert stored["reporter"] == "li" and stored["outside_county"] is False
    assert r.headers["location"] == f"/api/reports/{body['id']}"

    again = client.post("/api/reports", json=body, headers=users["li"])
    assert again.status_code == 200 and again.json() == stored

    changed = client.post("/api/reports", json={**body, "people": 13}, headers=users["li"])
    assert changed.status_code == 409 and changed.json()["code"] == "id_conflict"
    assert client.get(f"/api/reports/{body['id']}", headers=users["cmd"]).json()["people"] == 12


def test_core_fields_only_each_kind(client, users):
    for kind in ("evacuation", "rescue", "incident", "help_request"):
        body = new_report(kind=kind)
        del body["note"]
        r = client.post("/api/reports", json=body, headers=users["li"])
        assert r.status_code == 201, r.text
    hr = client.post("/api/reports", json=new_report(kind="help_request"), headers=users["li"])
    assert hr.json()["urgency"] == "normal" and hr.json()["state"] == "new"


def test_village_code_only(client, ctx, users):
    code = next(iter(ctx.catalogue.records("villages")))
    body = new_report(village_code=code)
    del body["lon"], body["lat"]
    r = client.post("/api/reports", json=body, headers=users["li"])
    assert r.status_code == 201 and r.json()["village_code"] == code


def test_just_outside_accepted_far_outside_refused(client, ctx, users):
    lon, lat = _west_of_county(ctx, 2)
    r = client.post("/api/reports", json=new_report(lon=lon, lat=lat), headers=users["li"])
    assert r.status_code == 201, r.text
    assert r.json()["outside_county"] is True and r.json()["distance_outside_m"] > 1000
    lon, lat = _west_of_county(ctx, 10)
    r = client.post("/api/reports", json=new_report(lon=lon, lat=lat), headers=users["li"])
    assert r.status_code == 422 and r.json()["field"] == "lon"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"id": 12345}, "id"),
        ({"kind": "party"}, "kind"),
        ({"people": -1}, "people"),
        ({"people": 5001}, "people"),
        ({"people": "many"}, "people"),
        ({"people": 10**30}, "people"),
        ({"lon": 200.0}, "lon"),
        ({"lat": -91}, "lat"),
        ({"lon": [110.1]}, "lon"),
        ({"lat": {"deg": 26}}, "lat"),
        ({"note": "x" * 2001}, "note"),
        ({"note": "nul\x00"}, "note"),
        ({"note": ["nested", {"junk": [1, 2]}]}, "note"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2017-07-01T10:00:00"}, "occurred_at"),
        ({"kind": "incident", "subtype": "alien"}, "subtype"),
        ({"kind": "help_request", "urgency": "soon"}, "urgency"),
        ({"surprise": 1}, "surprise"),
        ({"village_code": "12"}, "village_code"),
    ],
)
def test_invalid_fields_are_named(client, users, change, field):
    r = client.post("/api/reports", json=new_report(**change), headers=users["li"])
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_missing_place_and_half_a_point(client, users):
    body = new_report()
    del body["lon"], body["lat"]
    r = client.post("/api/reports", json=body, headers=users["li"])
    assert r.status_code == 422 and r.json()["field"] == "lon"
    body = new_report()
    del body["lat"]
    assert client.post("/api/reports", json=body, headers=users["li"]).json()["field"] == "lat"


RAW_BODIES = [
    b"",
    b"   ",
    b"null",
    b"[]",
    b"[1, 2, 3]",
    b'"a string"',
    b"42",
    b"{",
    b'{"id": NaN}',
    b'{"lon": Infinity, "lat": -Infinity}',
    b'{"people": 1e999}',
    b'{"people": ' + b"9" * 5000 + b"}",
    b"[" * 20000 + b"]" * 20000,
    b'{"a": ' * 5000 + b"1" + b"}" * 5000,
    b"\xff\xfe\x00garbage",
    b'{"note": "\\u0000"}',
    b"\x00\x00\x00\x00",
]


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_hostile_bodies_never_500(client, users, raw):
    headers = {**users["li"], "Content-Type": "application/json"}
    r = client.post("/api/reports", content=raw, headers=headers)
    assert r.status_code == 422, (r.status_code, r.text[:200])
    assert r.json()["field"]


def test_nan_inside_otherwise_valid_report(client, users):
    raw = json.dumps(new_report()).replace('"lon": 110.15', '"lon": NaN').encode()
    r = client.post(
        "/api/reports", content=raw, headers={**users["li"], "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["field"] == "body"


def test_non_json_content_type(client, users):
    r = client.post("/api/reports", data={"id": "x"}, headers=users["li"])
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = client.post(
        "/api/reports",
        content=b"<xml/>",
        headers={**users["li"], "Content-Type": "application/xml"},
    )
    assert r.status_code == 422


def test_oversized_body_413(client, ctx, users):
    limit = ctx.settings.max_body_bytes
    big = new_report(note="x" * (limit + 10))
    r = client.post("/api/reports", json=big, headers=users["li"])
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks():  # no Content-Length: streamed with chunked transfer encoding
        for _ in range(limit // 1000 + 5):
            yield b" " * 1000

    r = client.post(
        "/api/reports",
        content=chunks(),
        headers={**users["li"], "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_roles_for_submitting(client, users):
    assert client.post("/api/reports", json=new_report()).status_code == 401
    assert client.post("/api/reports", json=new_report(), headers=users["view"]).status_code == 403
    for who in ("cmd", "staff", "li"):
        assert client.post("/api/reports", json=new_report(), headers=users[who]).status_code == 201


def test_listing_and_visibility(client, users):
    mine = [new_report() for _ in range(3)]
    for body in mine:
        client.post("/api/reports", json=body, headers=users["li"])
    theirs = new_report(kind="rescue")
    client.post("/api/reports", json=theirs, headers=users["wang"])

    own = client.get("/api/reports", headers=users["li"]).json()
    assert [r["id"] for r in own["reports"]] == [b["id"] for b in mine]
    assert own["next_cursor"] is None
    for who in ("cmd", "staff", "view"):
        assert len(client.get("/api/reports", headers=users[who]).json()["reports"]) == 4
    assert client.get(f"/api/reports/{theirs['id']}", headers=users["li"]).status_code == 404
    assert client.get(f"/api/reports/{theirs['id']}", headers=users["view"]).status_code == 200
    assert (
        client.get(f"/api/reports/{theirs['id'].upper()}", headers=users["wang"]).status_code == 200
    )
    assert client.get("/api/reports/not-a-uuid", headers=users["cmd"]).status_code == 404

    rescues = client.get("/api/reports?kind=rescue", headers=users["cmd"]).json()["reports"]
    assert [r["id"] for r in rescues] == [theirs["id"]]
    township = rescues[0]["township_code"]
    assert client.get(f"/api/reports?township={township}", headers=users["cmd"]).json()["reports"]

    page1 = client.get("/api/reports?limit=3", headers=users["cmd"]).json()
    assert len(page1["reports"]) == 3 and page1["next_cursor"]
    page2 = client.get(
        f"/api/reports?limit=3&cursor={page1['next_cursor']}", headers=users["cmd"]
    ).json()
    assert [r["id"] for r in page2["reports"]] == [theirs["id"]] and page2["next_cursor"] is None

    future = client.get("/api/reports?since=2999-01-01T00:00:00Z", headers=users["cmd"]).json()
    assert future["reports"] == []
    past = client.get("/api/reports?since=2000-01-01T00:00:00%2B08:00", headers=users["cmd"]).json()
    assert len(past["reports"]) == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=last-week", "since"),
        ("since=2017-07-01T00:00:00", "since"),
        ("kind=party", "kind"),
        ("limit=0", "limit"),
        ("limit=100001", "limit"),
        ("limit=abc", "limit"),
        ("cursor=-5", "cursor"),
        ("cursor=xyz", "cursor"),
    ],
)
def test_listing_bad_filters(client, users, query, field):
    r = client.get(f"/api/reports?{query}", headers=users["cmd"])
    assert r.status_code == 422 and r.json()["field"] == field


def test_listing_default_limit_is_ten_thousand(client, users, ctx, catalogue):
    from floodpost.replay.simulate import build_reports

    reports = build_reports(catalogue, 10_050, seed=3)  # a few events are corrections
    n = len(reports)
    assert n > 10_000
    ctx.store.bulk_load(reports, actor="test")
    default = client.get("/api/reports", headers=users["cmd"]).json()
    assert len(default["reports"]) == 10_000 and default["next_cursor"]
    rest = client.get(f"/api/reports?cursor={default['next_cursor']}", headers=users["cmd"]).json()
    assert len(rest["reports"]) == n - 10_000 and rest["next_cursor"] is None
    r = client.get("/api/reports?limit=100000", headers=users["cmd"])
    assert r.status_code == 200
    assert len(r.json()["reports"]) == n and r.json()["next_cursor"] is None


def test_fast_path_and_fastapi_route_agree(settings, catalogue):
    """IngestFastPath serves POST /api/reports; without it the FastAPI route must answer the same."""
    from fastapi.testclient import TestClient

    from floodpost.web.app import create_app
    from floodpost.web.routers.reports import IngestFastPath

    def statuses(without_fast_path: bool) -> list[int]:
        app = create_app(
            settings.model_copy(update={"db_url": settings.db_url + str(without_fast_path)}),
            catalogue=catalogue,
        )
        if without_fast_path:
            app.user_middleware = [m for m in app.user_middleware if m.cls is not IngestFastPath]
        ctx = app.state.ctx
        field, viewer = quick_user(ctx, "li", "field"), quick_user(ctx, "v", "viewer")
        body = new_report()
        with TestClient(app) as c:
            return [
                c.post("/api/reports", json=body, headers=field).status_code,
                c.post("/api/reports", json=body, headers=field).status_code,
                c.post("/api/reports", json={**body, "people": 1}, headers=field).status_code,
                c.post("/api/reports", json=new_report(people=-1), headers=field).status_code,
                c.post("/api/reports", content=b"{", headers=field).status_code,
                c.post(
                    "/api/reports", json=new_report(note="x" * 70000), headers=field
                ).status_code,
                c.post("/api/reports", json=new_report(), headers=viewer).status_code,
                c.post("/api/reports", json=new_report()).status_code,
            ]

    expected = [201, 200, 409, 422, 422, 413, 403, 401]
    assert statuses(False) == expected
    assert statuses(True) == expected
