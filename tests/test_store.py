"""The storage interface, run on every backend: idempotency, conflicts, audit, aggregates."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from floodpost.errors import Conflict, NotFound
from floodpost.reports.model import parse_report
from floodpost.reports.stored import build_stored
from floodpost.storage.base import User


@dataclass(frozen=True)
class _Routing:
    township_code: str | None = "430527100"
    village_code: str | None = "430527100001"
    zone_id: str | None = "Z001"
    responsible: str | None = "示例党支部"
    outside_county: bool = False
    distance_outside_m: float = 0.0


def _report(**over):
    data = {
        "id": str(uuid.uuid4()),
        "kind": "evacuation",
        "occurred_at": "2017-06-30T08:15:00+08:00",
        "lon": 110.15,
        "lat": 26.58,
        "people": 12,
        "note": "示例",
    }
    data.update(over)
    parsed = parse_report(data)
    return build_stored(parsed, _Routing(), reporter="alice"), parsed.content_hash()


def test_create_then_identical_resend_returns_stored(store):
    report, chash = _report()
    stored, created = store.create_report(report, chash, actor="alice")
    assert created
    again, created_again = store.create_report(report, chash, actor="alice")
    assert not created_again
    assert again == stored
    assert store.get_report(report["id"]) == stored


def test_same_id_other_content_conflicts_and_changes_nothing(store):
    report, chash = _report()
    store.create_report(report, chash, actor="alice")
    other, other_hash = _report(id=report["id"], people=99)
    with pytest.raises(Conflict):
        store.create_report(other, other_hash, actor="alice")
    assert store.get_report(report["id"])["people"] == 12
    assert len(store.audit_log(report["id"])) == 1


def test_parallel_identical_creates_store_one(store):
    report, chash = _report()
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: store.create_report(report, chash, actor="a"), range(20)))
    assert sum(created for _, created in results) == 1
    rows, _ = store.list_reports()
    assert len(rows) == 1


def test_modify_appends_audit_and_moves_aggregates(store):
    report, chash = _report(people=10)
    store.create_report(report, chash, actor="alice")

    def correct(r):
        r["people"] = 7
        return r

    new = store.modify_report(
        report["id"], correct, actor="bob", action="correct", reason="recount"
    )
    assert new["people"] == 7 and new["version"] == 2
    log = store.audit_log(report["id"])
    assert [c.action for c in log] == ["create", "correct"]
    assert log[1].actor == "bob" and log[1].reason == "recount"
    total = store.read("SELECT SUM(people) AS p FROM agg WHERE kind = ?", ("evacuation",))
    assert total[0]["p"] == 7

    def retract(r):
        r["status"] = "retracted"
        return r

    store.modify_report(report["id"], retract, actor="bob", action="retract", reason="dup")
    total = store.read("SELECT COALESCE(SUM(people), 0) AS p FROM agg")
    assert total[0]["p"] == 0
    assert store.get_report(report["id"])["status"] == "retracted"


def test_modify_unknown_report_is_not_found(store):
    with pytest.raises(NotFound):
        store.modify_report(
            str(uuid.uuid4()), lambda r: r, actor="x", action="correct", reason=None
        )


def test_changes_after_pages_in_order(store):
    ids = []
    for _ in range(5):
        report, chash = _report()
        store.create_report(report, chash, actor="a")
        ids.append(report["id"])
    changes = store.changes_after(0)
    assert [c.report_id for c in changes] == ids
    assert store.changes_after(changes[2].seq) == changes[3:]
    assert store.last_change_seq() == changes[-1].seq


def test_list_reports_filters_and_cursor(store):
    for i in range(7):
        report, chash = _report(kind="rescue" if i % 2 else "evacuation")
        store.create_report(report, chash, actor="a")
    page, cursor = store.list_reports(limit=3)
    assert len(page) == 3 and cursor is not None
    rest, end = store.list_reports(after_seq=cursor, limit=10)
    assert len(rest) == 4 and end is None
    rescues, _ = store.list_reports(kind="rescue")
    assert len(rescues) == 3


def test_bulk_load_and_aggregates_agree(store):
    items = [_report(people=i) for i in range(50)]
    assert store.bulk_load(items, actor="sim") == 50
    rows = store.read("SELECT SUM(people) AS p, SUM(reports) AS n FROM agg")
    assert rows[0]["p"] == sum(range(50)) and rows[0]["n"] == 50


def test_users_and_meta(store):
    store.add_user(User("alice", "field", "hash", 0.0))
    with pytest.raises(Conflict):
        store.add_user(User("alice", "staff", "hash", 0.0))
    assert store.get_user("alice").role == "field"
    assert store.get_user("nobody") is None
    store.set_meta("k", "v1")
    store.set_meta("k", "v2")
    assert store.get_meta("k") == "v2"


def test_reopen_keeps_everything(store_url):
    from floodpost.storage import open_store

    s = open_store(store_url)
    report, chash = _report()
    s.create_report(report, chash, actor="a")
    s.close()
    s2 = open_store(store_url)
    try:
        assert s2.get_report(report["id"])["people"] == 12
    finally:
        s2.close()


def test_closing_while_another_thread_reads_neither_crashes_nor_hangs(sqlite_url):
    """A background thread (the live map's warm-up) may still be reading when the app stops."""
    import threading

    from floodpost.errors import Unavailable
    from floodpost.storage import open_store

    s = open_store(sqlite_url)
    items = [_report(people=i) for i in range(2000)]
    s.bulk_load(items, actor="sim")
    outcome = []

    def reader():
        try:
            while True:
                s.read("SELECT SUM(people) AS p FROM reports GROUP BY kind")
        except Unavailable:
            outcome.append("unavailable")

    t = threading.Thread(target=reader)
    t.start()
    s.close()
    t.join(timeout=10)
    assert outcome == ["unavailable"]
    with pytest.raises(Unavailable):
        s.create_report(*_report(), actor="late")
