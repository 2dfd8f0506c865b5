"""The figures the live panel shows beside the same figures from the review (/api/stats/*).

`panel_figures(live)` and `review_figures(...)` pick, from a live snapshot and from the review's
answers, every figure both screens show, under the same names; the acceptance tests (issue 8)
assert the two are equal at the same log position.
"""

from __future__ import annotations

from typing import Any


def panel_figures(live: dict[str, Any]) -> dict[str, Any]:
    t, svc = live["totals"], live["service"]
    return {
        "evacuated": t["evacuated"],
        "rescued": t["rescued"],
        "deaths": t["deaths"],
        "missing": t["missing"],
        "open_help_requests": t["open_help_requests"],
        "reservoirs_in_danger": t["reservoirs_in_danger"],
        "reservoirs_failed": t["reservoirs_failed"],
        "help_received": svc["received"],
        "help_resolved": svc["resolved"],
        "help_open": svc["open"],
        "median_minutes_to_resolution": svc["median_resolution_min"],
        "population_at_risk": sum(v["at_risk"] for v in live["villages"]),
        "villages": {
            v["code"]: (v["at_risk"], v["evacuated"], v["rescued"]) for v in live["villages"]
        },
        "shelters": {s["id"]: s["occupancy"] for s in live["shelters"]},
        "reservoirs": {r["id"]: r["status"] for r in live["reservoirs"]},
    }


def review_figures(
    summary: dict[str, Any],
    by_village: dict[str, Any],
    shelters: dict[str, Any],
    reservoirs: dict[str, Any],
    live: dict[str, Any],
) -> dict[str, Any]:
    """The review's figures for the places the live map shows (`live`: its snapshot)."""
    villages = {r["village_code"]: r for r in by_village["rows"]}
    occupancy = {s["shelter_id"]: s["occupancy"] for s in shelters["rows"]}
    status = {r["reservoir_id"]: r["status"] for r in reservoirs["rows"]}
    help_ = summary["help"]
    return {
        "evacuated": summary["evacuated"],
        "rescued": summary["rescued"],
        "deaths": summary["deaths"],
        "missing": summary["missing"],
        "open_help_requests": summary["open_help_requests"],
        "reservoirs_in_danger": summary["reservoirs_in_danger"],
        "reservoirs_failed": summary["reservoirs_failed"],
        "help_received": help_["received"],
        "help_resolved": help_["resolved"],
        "help_open": help_["open"],
        "median_minutes_to_resolution": help_["median_minutes_to_resolution"],
        "population_at_risk": summary["population_at_risk"],
        "villages": {
            code: (
                villages[code]["population_at_risk"],
                villages[code]["evacuated"],
                villages[code]["rescued"],
            )
            for code in (v["code"] for v in live["villages"])
        },
        "shelters": {s["id"]: occupancy.get(s["id"], 0) for s in live["shelters"]},
        "reservoirs": {r["id"]: status.get(r["id"], "normal") for r in live["reservoirs"]},
    }


def assert_screens_agree(live: dict[str, Any], review: dict[str, Any]) -> None:
    panel = panel_figures(live)
    assert panel.keys() == review.keys()
    for name in panel:
        assert panel[name] == review[name], name


def http_figures(client: Any, headers: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(live snapshot, review figures) read over HTTP, with nothing written in between."""

    def get(path: str) -> dict[str, Any]:
        r = client.get(path, headers=headers)
        if r.status_code == 503 and r.json()["error"] == "warming_up":
            # The roll-ups are (re)built in the background (issue 14 §5): retry once they are,
            # as the map and the review page do.
            assert client.app.state.ctx.follower.wait_ready(300)
            r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.text)
        body: dict[str, Any] = r.json()
        return body

    live = get("/api/live/state")
    review = review_figures(
        get("/api/stats/summary"),
        get("/api/stats/by-village"),
        get("/api/stats/shelters"),
        get("/api/stats/reservoirs"),
        live,
    )
    return live, review


def domain_figures(
    live_state: Any, stats: Any, now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same from the domain objects (LiveState, ReviewStats) in process."""
    live = live_state.snapshot(now)
    review = review_figures(
        stats.summary(), stats.by_area("village"), stats.shelters(), stats.reservoirs(), live
    )
    return live, review
