"""One group commit, many operations (storage.common.GroupWriter), on both backends: the writer
takes every queued operation into one transaction — on PostgreSQL a run of report creates is sent
in one pipelined round trip — and each one still succeeds or fails alone, in order, exactly once."""

from __future__ import annotations

import threading

from floodpost.errors import Conflict
from tests.test_store import _report


def _queued_behind_a_held_writer(store, submit):
    """Hold the writer in an operation, queue `submit()`'s futures behind it, then let go: the
    queued operations all arrive in the writer's next group."""
    entered, release = threading.Event(), threading.Event()

    def hold(tx):
        entered.set()
        release.wait(10)

    held = store.transact_future(hold)
    assert entered.wait(10)
    commits = store.commit_count
    futures = submit()
    release.set()
    held.result(10)
    outcomes = []
    for fut in futures:
        try:
            outcomes.append(fut.result(10))
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes.append(exc)
    return outcomes, store.commit_count - commits


def _totals(store):
    return store.read(
        "SELECT (SELECT COUNT(*) FROM reports) AS n, (SELECT SUM(people) FROM reports) AS p, "
        "(SELECT SUM(reports) FROM agg) AS agg_n, (SELECT SUM(people) FROM agg) AS agg_p, "
        "(SELECT COUNT(*) FROM changes) AS changes"
    )[0]


def test_a_failing_create_in_a_group_fails_alone(store):
    good = [_report(people=i) for i in range(1, 9)]
    bad, bad_hash = _report(people=100)
    bad["kind"] = None  # NOT NULL: the database refuses this one row

    def submit():
        items = good[:4] + [(bad, bad_hash)] + good[4:]
        return [store.create_report_future(r, h, actor="a") for r, h in items]

    outcomes, commits = _queued_behind_a_held_writer(store, submit)
    assert commits <= 2  # the held op's group and (at most) one more: they shared a commit
    assert isinstance(outcomes[4], Exception)  # the backend's NOT NULL error, as it was
    assert [o[1] for i, o in enumerate(outcomes) if i != 4] == [True] * 8
    people = sum(r["people"] for r, _ in good)
    assert _totals(store) == {"n": 8, "p": people, "agg_n": 8, "agg_p": people, "changes": 8}
    assert store.get_report(bad["id"]) is None


def test_resends_and_conflicts_in_one_group(store):
    first, chash = _report(people=3)
    clash, clash_hash = _report(id=first["id"], people=7)
    other, other_hash = _report(people=5)

    def submit():
        items = [(first, chash), (dict(first), chash), (clash, clash_hash), (other, other_hash)]
        return [store.create_report_future(r, h, actor="a") for r, h in items]

    outcomes, _ = _queued_behind_a_held_writer(store, submit)
    assert outcomes[0] == (first, True)
    assert outcomes[1][1] is False and outcomes[1][0]["id"] == first["id"]  # identical resend
    assert isinstance(outcomes[2], Conflict)
    assert outcomes[3][1] is True
    assert _totals(store) == {"n": 2, "p": 8, "agg_n": 2, "agg_p": 8, "changes": 2}


def test_a_write_between_creates_sees_the_creates_before_it_only(store):
    a, a_hash = _report(people=2)
    b, b_hash = _report(people=4)

    def count(tx):
        return tx.query("SELECT id FROM reports")

    def submit():
        return [
            store.create_report_future(a, a_hash, actor="a"),
            store.transact_future(count),
            store.create_report_future(b, b_hash, actor="a"),
            store.transact_future(count),
        ]

    outcomes, commits = _queued_behind_a_held_writer(store, submit)
    assert commits <= 2
    assert outcomes[0][1] is True and outcomes[2][1] is True
    assert outcomes[1] == [{"id": a["id"]}]
    assert sorted(r["id"] for r in outcomes[3]) == sorted([a["id"], b["id"]])


def test_a_group_written_whole_writes_what_each_create_writes_alone(store):
    """The whole-batch path (SQLite's one INSERT through a trigger, PostgreSQL's pipeline)
    leaves exactly the rows the op-by-op path's statements would (storage/common.py)."""
    from floodpost.storage.base import REPORT_COLUMNS, agg_delta, report_row
    from floodpost.storage.common import REPORT_FIELDS

    items = [
        _report(kind=kind, people=p, note=f"第{p}批 ' \" ; --")
        for p, kind in enumerate(["evacuation", "rescue", "incident", "evacuation"] * 3)
    ]

    def submit():
        return [store.create_report_future(r, h, actor="王") for r, h in items]

    outcomes, commits = _queued_behind_a_held_writer(store, submit)
    assert commits <= 2 and [o[1] for o in outcomes] == [True] * len(items)
    sums: dict[tuple, list[int]] = {}
    for report, chash in items:
        [row] = store.read(f"SELECT {REPORT_FIELDS} FROM reports WHERE id = ?", [report["id"]])
        names = [*REPORT_COLUMNS, "content_hash", "body"]
        expected = dict(zip(names, report_row(report, chash), strict=True))
        assert {k: row[k] for k in expected if k != "body"} == {
            k: v for k, v in expected.items() if k != "body"
        }
        assert row["body"] == expected["body"]
        [change] = store.read(
            "SELECT at_ts, actor, action, reason, body FROM changes WHERE report_id = ?",
            [report["id"]],
        )
        assert change == {
            "at_ts": report["received_ts"], "actor": "王", "action": "create",
            "reason": None, "body": None,
        }  # fmt: skip
        key, n, people = agg_delta(report, +1)
        total = sums.setdefault(key, [0, 0])
        total[0] += n
        total[1] += people
    agg = store.read(
        "SELECT hour, kind, subtype, township_code, zone_id, village_code, shelter_id, "
        "reports, people FROM agg"
    )
    assert {tuple(r.values())[:7]: [r["reports"], r["people"]] for r in agg} == sums
