"""Statistics: sums of people, corrections and retractions respected, breakdowns add up."""

from __future__ import annotations

import time
import uuid
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floodpost.geo.routing import ReportRouter
from floodpost.reports.model import parse_report
from floodpost.reports.stored import build_stored, local_hour
from floodpost.stats.breakdowns import METRICS
from floodpost.stats.service import ReviewStats

KINDS = ("evacuation", "rescue", "incident", "help_request")
SUBTYPES = ("death", "missing", "landslide", "seepage", "other")
HOURS = [f"2017-06-{d:02d}T{h:02d}:30:00+08:00" for d in (29, 30) for h in (0, 9, 23)]

report_st = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "subtype": st.sampled_from(SUBTYPES),
        "people": st.integers(0, 300),
        "when": st.sampled_from(HOURS),
        # Most reports are in a village; a few are unroutable to a village or a zone.
        "place": st.sampled_from(["v0", "v1", "v2", "gap", "outside"]),
        "then": st.sampled_from(["keep", "keep", "correct", "retract"]),
        "new_people": st.integers(0, 300),
    }
)


def _payload(spec, catalogue, villages):
    body = {
        "id": str(uuid.uuid4()),
        "kind": spec["kind"],
        "occurred_at": spec["when"],
        "people": spec["people"],
    }
    if spec["kind"] == "incident":
        body["subtype"] = spec["subtype"]
    place = spec["place"]
    if place.startswith("v"):
        v = catalogue.village(villages[int(place[1])])
        body.update(lon=v["seat_lon"], lat=v["seat_lat"])
    else:
        # Just outside the county (routes to the nearest village or to no village at all).
        west, south, _, _ = catalogue.bounds
        body.update(lon=west - (0.001 if place == "gap" else 0.04), lat=south + 0.2)
    return body


def _expected(store):
    """What the statistics must say, computed the slow way from the reports themselves."""
    total = Counter()
    by_township = {}
    cursor = 0
    while True:
        reports, cursor = store.list_reports(after_seq=cursor or 0, limit=1000)
        for r in reports:
            if r["status"] != "active":
                continue
            m = Counter(reports=1)
            k = r["kind"]
            if k == "evacuation":
                m["evacuated"] += r["people"]
            elif k == "rescue":
                m["rescued"] += r["people"]
            elif k == "help_request":
                m["help_requests"] += 1
            else:
                m["incidents"] += 1
                if r["subtype"] == "death":
                    m["deaths"] += r["people"]
                if r["subtype"] == "missing":
                    m["missing"] += r["people"]
            total.update(m)
            by_township.setdefault(r["township_code"] or "", Counter()).update(m)
        if cursor is None:
            return total, by_township


def _check_consistency(stats, store):
    summary = stats.summary()
    expected, expected_tw = _expected(store)
    for name in METRICS:
        assert summary[name] == expected[name], name
    for level in ("township", "zone", "village"):
        res = stats.by_area(level)
        for name in METRICS:
            assert sum(r[name] for r in res["rows"]) == summary[name], (level, name)
            assert res["total"][name] == summary[name]
    tw = {r["township_code"]: r for r in stats.by_area("township")["rows"]}
    for code, m in expected_tw.items():
        assert tw[code]["evacuated"] == m["evacuated"]
        assert tw[code]["unassigned"] == (code == "")
    days = stats.by_day()
    for name in METRICS:
        assert sum(r[name] for r in days["rows"]) == summary[name]
    for row in days["rows"]:
        hourly = stats.by_day(row["date"])
        assert len(hourly["rows"]) == 24
        for name in METRICS:
            assert sum(r[name] for r in hourly["rows"]) == row[name]
    last = stats.at("2017-07-02T00:00:00+08:00")["totals"]
    assert {n: last[n] for n in METRICS} == {n: summary[n] for n in METRICS}


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(report_st, min_size=1, max_size=25))
def test_breakdowns_always_add_up_to_the_summary(store, catalogue, specs):
    # The store keeps what earlier examples wrote: the invariant must hold for the whole log.
    router = ReportRouter(catalogue)
    villages = sorted(catalogue.records("villages"))[:: len(catalogue.records("villages")) // 3]
    # One ReviewStats lives across examples and follows the change log; a fresh one seeds
    # from agg. Both must agree with the reports themselves.
    following = _FOLLOWING.setdefault(store.url, ReviewStats(store, catalogue, clock=time.time))
    following.summary()
    for i, spec in enumerate(specs):
        if i == len(specs) // 2:
            following.summary()  # catch up in the middle, so the rest is followed too
        try:
            report = parse_report(_payload(spec, catalogue, villages))
            routing = router.route(report.lon, report.lat, report.village_code)
        except Exception:  # noqa: BLE001 - too far outside: refused at intake, like the API
            continue
        stored, _ = store.create_report(
            build_stored(report, routing, reporter="t"), report.content_hash(), actor="t"
        )
        if spec["then"] == "correct":
            n = spec["new_people"]

            def correct(r, n=n):
                r["people"] = n
                return r

            store.modify_report(stored["id"], correct, actor="t", action="correct", reason="typo")
        elif spec["then"] == "retract":

            def retract(r):
                r["status"] = "retracted"
                return r

            store.modify_report(stored["id"], retract, actor="t", action="retract", reason="dup")
    fresh = ReviewStats(store, catalogue, clock=time.time)
    _check_consistency(following, store)
    _check_consistency(fresh, store)
    for level in ("township", "zone", "village"):
        assert following.by_area(level) == fresh.by_area(level)
    assert following.flows() == fresh.flows()
    assert following.summary()["help"] == fresh.summary()["help"]
    moment = "2017-06-30T09:30:00+08:00"
    assert following.at(moment) == fresh.at(moment)


_FOLLOWING: dict[str, ReviewStats] = {}


def test_retraction_and_correction_change_the_sums(sqlite_url, catalogue):
    from floodpost.storage import open_store

    store = open_store(sqlite_url)
    router = ReportRouter(catalogue)
    stats = ReviewStats(store, catalogue, clock=time.time)
    v = next(iter(catalogue.records("villages").values()))

    def add(people, kind="evacuation", **extra):
        body = {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "occurred_at": HOURS[1],
            "village_code": v["code"],
            "people": people,
            **extra,
        }
        rep = parse_report(body)
        stored = build_stored(rep, router.route(None, None, v["code"]), reporter="t")
        return store.create_report(stored, rep.content_hash(), actor="t")[0]

    try:
        a = add(100)
        add(40)
        add(3, "incident", subtype="missing")
        assert stats.summary()["evacuated"] == 140
        store.modify_report(
            a["id"], lambda r: {**r, "people": 10}, actor="t", action="correct", reason=None
        )
        assert stats.summary()["evacuated"] == 50
        store.modify_report(
            a["id"],
            lambda r: {**r, "status": "retracted"},
            actor="t",
            action="retract",
            reason=None,
        )
        s = stats.summary()
        assert s["evacuated"] == 40 and s["missing"] == 3 and s["reports"] == 2
        tw = {r["township_code"]: r for r in stats.by_area("township")["rows"]}
        assert tw[v["township_code"]]["evacuated"] == 40
        assert tw[v["township_code"]]["population_at_risk"] >= 0
        assert stats.by_day("2017-06-29")["rows"][9]["evacuated"] == 40
        assert local_hour(a["occurred_ts"]) == "2017-06-29T09"
    finally:
        store.close()


def test_help_requests_and_reservoirs(sqlite_url, catalogue):
    from floodpost.replay.demo import load_all
    from floodpost.storage import open_store

    store = open_store(sqlite_url)
    try:
        load_all(store, catalogue)
        stats = ReviewStats(store, catalogue, clock=time.time)
        h = stats.summary()["help"]
        assert h["received"] == h["resolved"] == 240 and h["open"] == 0
        assert 20 < h["median_minutes_to_resolution"] < 200
        assert 0 < h["escalated"] < 240
        # The middle of the worst day: reservoirs in danger, help requests still open.
        mid = stats.at("2017-07-01T10:00")
        assert 0 < mid["totals"]["evacuated"] < 59_700
        assert mid["open_help_requests"] >= 0
        statuses = {r["status"] for r in stats.reservoirs()["rows"]}
        assert statuses == {"normal"}
        early = stats.at("2017-06-24T00:30:00+08:00")
        assert early["totals"]["evacuated"] < mid["totals"]["evacuated"]
        flows = stats.flows()["flows"]
        assert flows and all(f["people"] > 0 for f in flows)
        shelters = stats.shelters()["rows"]
        assert all(s["occupancy"] <= s["capacity"] for s in shelters)
    finally:
        store.close()


def test_escalated_follows_the_live_rules():
    from floodpost.rules import EscalationLimits
    from floodpost.stats.requests import was_escalated
    from floodpost.stats.rollup import HelpRequest

    limits = EscalationLimits(unassigned_min=15, stale_min=60)
    t0 = 1_000_000.0

    def req(state, assigned=None, en_route=None, resolved=None):
        return HelpRequest(state, t0 - 60, t0, resolved or t0, assigned, en_route)

    quick = req("resolved", assigned=t0 + 300, en_route=t0 + 900, resolved=t0 + 3000)
    assert not was_escalated(quick, t0 + 99_999, limits)
    slow_assign = req("resolved", assigned=t0 + 20 * 60, en_route=t0 + 1500, resolved=t0 + 2000)
    assert was_escalated(slow_assign, t0, limits)
    long_trip = req("resolved", assigned=t0 + 60, en_route=t0 + 120, resolved=t0 + 2 * 3600)
    assert was_escalated(long_trip, t0, limits)
    open_new = req("new")
    assert not was_escalated(open_new, t0 + 600, limits)
    assert was_escalated(open_new, t0 + 16 * 60, limits)


def test_a_resolved_request_corrected_later_keeps_its_resolution_moment():
    from floodpost.rules import EscalationLimits
    from floodpost.stats.requests import was_escalated
    from floodpost.stats.rollup import HelpRequest

    t0 = 1_000_000.0
    body = {
        "state": "resolved",
        "occurred_ts": t0 - 60,
        "received_ts": t0,
        "assigned_ts": t0 + 60,
        "en_route_ts": t0 + 120,
        "resolved_ts": t0 + 30 * 60,
        "updated_ts": t0 + 5 * 3600,  # a note corrected hours after the rescue
    }
    h = HelpRequest.of(body)
    assert h.resolved_end == t0 - 60 + 30 * 60
    limits = EscalationLimits(unassigned_min=15, stale_min=60)
    assert not was_escalated(h, t0 + 10 * 3600, limits)
