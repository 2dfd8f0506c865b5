"""One error model for every status, declared in /openapi.json with every request body (issue 13)."""

from __future__ import annotations

from tests.reports_support import quick_user


def _is_error(body: dict) -> bool:
    return isinstance(body.get("error"), str) and isinstance(body.get("detail"), str)


def test_router_errors_use_the_error_model(client, app):
    head = quick_user(app.state.ctx, "cmd", "commander")
    r = client.get("/api/no-such-route", headers=head)
    assert r.status_code == 404 and _is_error(r.json()) and r.json()["error"] == "not_found"
    r = client.delete("/api/reports", headers=head)
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert r.headers["allow"]
    r = client.get("/api/reports", params={"limit": "many"}, headers=head)
    assert r.status_code == 422 and _is_error(r.json()) and r.json()["field"] == "limit"


def test_pages_still_redirect_to_sign_in(client):
    r = client.get("/review", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_openapi_declares_the_error_model_and_the_bodies(client):
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Error"]["required"]) == {"error", "detail"}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for status in ("422", "4XX", "5XX"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, status)
    post = doc["paths"]["/api/reports"]["post"]["requestBody"]["content"]["application/json"]
    assert {"id", "kind", "occurred_at"} <= set(post["schema"]["required"])
    patch = doc["paths"]["/api/reports/{report_id}"]["patch"]["requestBody"]
    assert patch["content"]["application/json"]["schema"]["required"] == ["reason"]
    retract = doc["paths"]["/api/reports/{report_id}/retract"]["post"]["requestBody"]
    assert retract["required"] is True
    # Every POST/PATCH/PUT that takes a body declares it (forms included).
    bodyless = {
        "/logout",
        "/api/reports/{report_id}/en-route",
        "/api/layers/reload",
        "/api/orders/{order_id}/ack",
    }
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if method in ("post", "patch", "put") and path not in bodyless:
                assert "requestBody" in op, (method, path)
