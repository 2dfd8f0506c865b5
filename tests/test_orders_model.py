"""Orders as pure domain: validation naming the field, idempotency hash, progress rules."""

from __future__ import annotations

import uuid

import pytest

from floodpost.errors import InvalidOrder
from floodpost.orders.model import build_order, canonical_order_id, parse_order
from floodpost.orders.progress import (
    VillageRoll,
    evacuated_since,
    newly_completed,
    order_progress,
    roll_of,
    rollcall_order,
    village_at_risk,
)

COUNTY = "430527"


@pytest.fixture(scope="module")
def villages(catalogue):
    return catalogue.villages_by_code


@pytest.fixture(scope="module")
def codes(villages):
    return list(villages)[:3]


def body(codes, **over):
    b = {
        "id": "6f1c1e0e-3a55-4f55-9a0f-1b2c3d4e5f60",
        "level": "evacuate",
        "villages": codes,
        "message": "立即转移",
    }
    b.update(over)
    return b


def test_a_valid_order_parses_and_builds(villages, codes):
    order = parse_order(body(codes, warning_ids=["w1"]), villages, COUNTY)
    rec = build_order(order, issued_by="cmd", issued_ts=1498262400.0)
    assert rec["id"] == "6f1c1e0e-3a55-4f55-9a0f-1b2c3d4e5f60"
    assert rec["villages"] == codes
    assert rec["warning_ids"] == ["w1"]
    assert rec["status"] == "open"
    assert rec["issued_at"] == "2017-06-24T00:00:00.000Z"
    assert rec["issued_by"] == "cmd"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"villages": []}, "villages"),
        ({"villages": "430527100201"}, "villages"),
        ({"villages": ["43052710020"]}, "villages.0"),
        ({"level": "run"}, "level"),
        ({"message": "  "}, "message"),
        ({"message": "a\x00b"}, "message"),
        ({"id": "not-a-uuid"}, "id"),
        ({"id": 12}, "id"),
        ({"warning_ids": "w1"}, "warning_ids"),
        ({"warning_ids": [""]}, "warning_ids.0"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_orders_name_the_field(villages, codes, over, field):
    with pytest.raises(InvalidOrder) as exc:
        parse_order(body(codes, **over), villages, COUNTY)
    assert exc.value.status == 422
    assert exc.value.field == field
    assert field in exc.value.message


def test_unknown_outside_and_repeated_villages_are_refused(villages, codes):
    with pytest.raises(InvalidOrder, match="unknown village") as exc:
        parse_order(body([codes[0], "430527999999"]), villages, COUNTY)
    assert exc.value.field == "villages.1"
    with pytest.raises(InvalidOrder, match="outside the county") as exc:
        parse_order(body(["430528100201"]), villages, COUNTY)
    assert exc.value.field == "villages.0"
    with pytest.raises(InvalidOrder, match="listed twice") as exc:
        parse_order(body([codes[0], codes[0]]), villages, COUNTY)
    assert exc.value.field == "villages"
    with pytest.raises(InvalidOrder) as exc:
        parse_order([1], villages, COUNTY)
    assert exc.value.field == "body"


def test_content_hash_ignores_list_order_but_not_content(villages, codes):
    a = parse_order(body(codes, warning_ids=["a", "b"]), villages, COUNTY)
    b = parse_order(body(codes[::-1], warning_ids=["b", "a"]), villages, COUNTY)
    c = parse_order(body(codes, level="prepare", warning_ids=["a", "b"]), villages, COUNTY)
    d = parse_order(body(codes[:2], warning_ids=["a", "b"]), villages, COUNTY)
    assert a.content_hash() == b.content_hash()
    assert len({a.content_hash(), c.content_hash(), d.content_hash()}) == 3


def test_canonical_order_id():
    u = uuid.uuid4()
    assert canonical_order_id(str(u).upper()) == str(u)
    assert canonical_order_id("nope") is None


def _report(code, people, ts, kind="evacuation", status="active"):
    return {
        "village_code": code,
        "people": people,
        "occurred_ts": ts,
        "kind": kind,
        "status": status,
    }


def test_evacuated_counts_active_evacuations_at_or_after_issue():
    reports = [
        _report("A", 5, 99.0),  # before the order
        _report("A", 7, 100.0),  # exactly at issue: counts
        _report("A", 11, 150.0),
        _report("A", 13, 150.0, status="retracted"),
        _report("A", 17, 150.0, kind="rescue"),
        _report("B", 19, 200.0),
        _report("C", 23, 200.0),  # not in the order
    ]
    assert evacuated_since(reports, 100.0, ["A", "B"]) == {"A": 18, "B": 19}


def _order(level="evacuate", status="open"):
    return {
        "id": "o",
        "level": level,
        "villages": ["A", "B"],
        "status": status,
        "issued_ts": 100.0,
        "message": "m",
    }


VILLAGES = {"A": {"name": "甲村", "population": 100}, "B": {"name": "乙村", "population": 50}}


def test_progress_per_village_and_overall():
    acks = {"A": [{"user": "li", "at": "2017-06-24T00:05:00.000Z", "at_ts": 400.0}]}
    rolls = {
        "B": roll_of([{"people": 3, "status": "evacuated"}, {"people": 4, "status": "missing"}])
    }
    p = order_progress(_order(), VILLAGES, {"A": 40, "B": 10}, acks, rolls)
    assert p["status"] == "open"
    assert (p["population"], p["evacuated"], p["acknowledged"]) == (150, 50, 1)
    a, b = p["villages"]
    assert a["code"] == "A" and a["name"] == "甲村"
    assert a["acknowledged_by"] == [
        {"user": "li", "at": "2017-06-24T00:05:00.000Z", "at_ts": 400.0}
    ]
    assert (p["first_ack_after_s"], p["all_ack_after_s"], p["completed_after_s"]) == (
        300.0,
        None,
        None,
    )
    assert (a["households"], a["accounted"], a["at_risk"], a["done"]) == (0, 0, 60, False)
    # B has a roster: at risk is the roster's unaccounted people, a missing household included.
    assert (b["households"], b["accounted"], b["at_risk"], b["done"]) == (2, 1, 4, False)
    assert p["at_risk"] == 64


def test_completed_when_every_village_is_evacuated_or_accounted_for():
    rolls = {"B": roll_of([{"people": 3, "status": "evacuated"}, {"people": 4, "status": "safe"}])}
    before = order_progress(_order(), VILLAGES, {"A": 99}, {}, rolls)
    after = order_progress(_order(), VILLAGES, {"A": 100}, {}, rolls)
    assert before["status"] == "open" and after["status"] == "completed"
    assert after["at_risk"] == 0
    assert newly_completed(before, after) and not newly_completed(after, after)
    cancelled = order_progress(_order(status="cancelled"), VILLAGES, {"A": 100}, {}, rolls)
    assert cancelled["status"] == "cancelled" and cancelled["at_risk"] == 0


def test_at_risk_without_roster_is_population_not_yet_evacuated():
    assert village_at_risk(100, 30, VillageRoll()) == 70
    assert village_at_risk(100, 130, VillageRoll()) == 0
    assert village_at_risk(100, 0, VillageRoll(2, 2, 5, 5)) == 0


def test_rollcall_lists_unaccounted_and_most_vulnerable_first():
    hs = [
        {"id": "1", "head": "甲", "people": 5, "needs": [], "status": "unknown"},
        {"id": "2", "head": "乙", "people": 1, "needs": ["bedridden"], "status": "evacuated"},
        {"id": "3", "head": "丙", "people": 2, "needs": ["child"], "status": "unknown"},
        {
            "id": "4",
            "head": "丁",
            "people": 2,
            "needs": ["elderly", "disabled"],
            "status": "missing",
        },
    ]
    assert [h["id"] for h in rollcall_order(hs)] == ["4", "3", "1", "2"]


def test_timings_for_the_review():
    from floodpost.orders.progress import order_timings

    order = {**_order(), "completed_ts": 1300.0}
    acks = {"A": [{"at_ts": 250.0}, {"at_ts": 160.0}], "B": [{"at_ts": 700.0}]}
    assert order_timings(order, acks) == {
        "first_ack_after_s": 60.0,
        "all_ack_after_s": 600.0,
        "completed_after_s": 1200.0,
    }
