"""The change-log interface on both backends (issue 8): migration 3 (changes.entity),
Store.transact / transact_future with WriteTx, log rows of any entity in changes_after and
audit_log, the injected clock, create_report_future, and the one writer's gate after close."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from floodpost.clock import ManualClock
from floodpost.errors import Unavailable
from floodpost.storage import open_store
from floodpost.storage.base import Store, WriteTx
from tests.test_store import _report

T = 1_500_000_000.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T)


@pytest.fixture
def cstore(store_url, clock):
    s = open_store(store_url, clock=clock)
    try:
        yield s
    finally:
        s.close()


def _meta(key: str, value: str):
    def work(tx: WriteTx) -> int:
        return tx.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    return work


def _hold_writer(store: Store) -> tuple[threading.Event, Future]:
    """Keep the writer busy inside one op until the event is set, so what is submitted
    meanwhile lands in the next group commit together."""
    entered, release = threading.Event(), threading.Event()

    def work(tx: WriteTx) -> None:
        entered.set()
        release.wait(10)

    fut = store.transact_future(work)
    assert entered.wait(10)
    return release, fut


def test_transact_commits_and_returns_the_value(cstore):
    assert cstore.transact(_meta("k", "v")) == 1
    assert cstore.get_meta("k") == "v"
    rows = cstore.transact(lambda tx: tx.query("SELECT key, value FROM meta WHERE key = ?", ["k"]))
    assert rows == [{"key": "k", "value": "v"}]


def test_a_failing_transaction_rolls_back_alone_within_its_group_commit(cstore):
    class Boom(Exception):
        pass

    def failing(tx: WriteTx) -> None:
        tx.execute("INSERT INTO meta (key, value) VALUES (?, ?)", ("bad", "x"))
        tx.log("warning", "w-bad", "issue", {"id": "w-bad"}, actor="hydro")
        raise Boom("no")

    release, held = _hold_writer(cstore)
    before = cstore.commit_count
    futures = [
        cstore.transact_future(_meta("a", "1")),
        cstore.transact_future(failing),
        cstore.transact_future(
            lambda tx: tx.log("warning", "w-1", "issue", {"id": "w-1"}, actor="hydro")
        ),
        cstore.transact_future(_meta("b", "2")),
    ]
    release.set()
    held.result(10)
    assert futures[0].result(10) == 1
    with pytest.raises(Boom):
        futures[1].result(10)
    seq = futures[2].result(10)
    assert futures[3].result(10) == 1
    # The held op's commit, then one commit for all four; only the failing one was undone.
    assert cstore.commit_count - before == 2
    assert cstore.get_meta("a") == "1" and cstore.get_meta("b") == "2"
    assert cstore.get_meta("bad") is None
    assert [(c.entity, c.entity_id, c.seq) for c in cstore.changes_after(0)] == [
        ("warning", "w-1", seq)
    ]
    assert cstore.audit_log("w-bad") == []


def test_executemany_and_reads_inside_see_own_writes(cstore):
    def work(tx: WriteTx) -> list[dict]:
        tx.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)", [("m1", "a"), ("m2", "b"), ("m3", "c")]
        )
        n = tx.execute("UPDATE meta SET value = ? WHERE key LIKE ?", ("z", "m%"))
        assert n == 3
        return tx.query("SELECT COUNT(*) AS n, MAX(value) AS v FROM meta WHERE key LIKE 'm%'")

    assert cstore.transact(work) == [{"n": 3, "v": "z"}]


def test_logged_changes_of_every_entity_follow_the_reports_in_seq_order(cstore, clock):
    report, chash = _report()
    cstore.create_report(report, chash, actor="alice")
    body = {"id": "w-7", "level": "orange", "note": "水位上涨"}
    clock.advance(60)

    def issue(tx: WriteTx) -> int:
        assert tx.now() == T + 60
        return tx.log("warning", "w-7", "issue", body, actor="hydro", reason="gauge")

    seq = cstore.transact(issue)
    clock.advance(60)
    seq2 = cstore.transact(
        lambda tx: tx.log("warning", "w-7", "lift", {**body, "level": None}, actor="hydro")
    )
    changes = cstore.changes_after(0)
    assert [(c.entity, c.entity_id, c.action) for c in changes] == [
        ("report", report["id"], "create"),
        ("warning", "w-7", "issue"),
        ("warning", "w-7", "lift"),
    ]
    assert changes[0].report == report and changes[0].entity_id == report["id"]
    logged = changes[1]
    assert (logged.seq, logged.report, logged.at_ts) == (seq, body, T + 60)
    assert (logged.actor, logged.reason) == ("hydro", "gauge")
    assert cstore.last_change_seq() == seq2 > seq
    assert [c.action for c in cstore.audit_log("w-7")] == ["issue", "lift"]
    assert [c.entity for c in cstore.audit_log(report["id"])] == ["report"]
    assert cstore.version_before("w-7", seq2) == body
    assert cstore.version_before("w-7", seq) is None
    assert cstore.version_before(report["id"], seq) == report


def test_reports_are_not_logged_through_transact(cstore):
    with pytest.raises(ValueError):
        cstore.transact(lambda tx: tx.log("report", "x", "create", {}, actor=None))
    assert cstore.last_change_seq() == 0


def test_tx_is_unusable_after_its_work(cstore):
    kept = cstore.transact(lambda tx: tx)
    with pytest.raises(RuntimeError):
        kept.execute("DELETE FROM meta")


def test_a_write_inside_a_transaction_fails_instead_of_waiting_for_itself(cstore):
    with pytest.raises(RuntimeError):
        cstore.transact(lambda tx: cstore.set_meta("k", "v"))


def test_updates_are_stamped_by_the_injected_clock(cstore, clock):
    report, chash = _report()
    cstore.create_report(report, chash, actor="alice")
    clock.advance(3600)
    new = cstore.modify_report(
        report["id"], lambda r: {**r, "people": 3}, actor="bob", action="correct", reason="r"
    )
    assert new["updated_ts"] == T + 3600
    assert cstore.get_report(report["id"])["updated_ts"] == T + 3600
    assert cstore.audit_log(report["id"])[-1].at_ts == T + 3600


def test_create_report_future_resolves_once_durable(cstore):
    report, chash = _report()
    fut = cstore.create_report_future(report, chash, actor="alice")
    assert fut.result(10) == (report, True)
    assert cstore.create_report_future(report, chash, actor="alice").result(10) == (report, False)


def test_writes_after_close_fail_at_once_and_queued_ones_finish(store_url):
    s = open_store(store_url)
    release, held = _hold_writer(s)
    queued = s.transact_future(_meta("q", "1"))
    closer = threading.Thread(target=s.close)
    closer.start()
    # Closing waits for the queued work; meanwhile new work is refused, not queued forever.
    for _ in range(500):  # probes sent before the close began are queued and run harmlessly
        probe = s.transact_future(lambda tx: None)
        if probe.done():
            break
        release.wait(0.01)
    with pytest.raises(Unavailable):
        probe.result(0)
    late = s.transact_future(_meta("late", "1"))
    with pytest.raises(Unavailable):
        late.result(0)  # refused at once, while the writer is still busy
    release.set()
    closer.join(30)
    assert not closer.is_alive()
    held.result(5)
    assert queued.result(5) == 1
    report, chash = _report()
    for attempt in (
        lambda: s.create_report(report, chash, actor="a"),
        lambda: s.create_report_future(report, chash, actor="a").result(5),
        lambda: s.set_meta("k", "v"),
        lambda: s.transact(_meta("k", "v")),
        lambda: s.modify_report(report["id"], dict, actor="a", action="correct", reason=None),
    ):
        with pytest.raises(Unavailable):
            attempt()
    s2 = open_store(store_url)
    try:
        assert s2.get_meta("q") == "1" and s2.get_meta("late") is None
    finally:
        s2.close()
