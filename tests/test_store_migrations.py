"""Schema migration 2 (reports.resolved_ts, create snapshots kept once) on both backends:
an existing v1 database upgrades in place, the audit log keeps every exact snapshot, and
time to resolution survives a later correction."""

from __future__ import annotations

import json
import sqlite3
import time

import psycopg
import pytest

from floodpost.clock import ManualClock
from floodpost.geo.routing import ReportRouter
from floodpost.reports import corrections, lifecycle
from floodpost.reports.lifecycle import Resolution
from floodpost.stats.service import ReviewStats
from floodpost.storage import open_store, postgres_schema, sqlite_schema
from floodpost.storage.base import REPORT_COLUMNS
from tests.live_support import T0, make_report, village_seat

V1_COLUMNS = REPORT_COLUMNS[: REPORT_COLUMNS.index("resolved_ts")]


@pytest.fixture(scope="module")
def router(catalogue):
    return ReportRouter(catalogue)


def _v1_rows(router, catalogue):
    """A resolved help request and an evacuation, as a v1 store would have written them."""
    lon, lat, _ = village_seat(catalogue, 2)
    req, req_hash = make_report(router, received_ts=T0, lon=lon, lat=lat)
    req.update(state="resolved", resolution="not_needed", resolved_ts=T0 + 1800, version=2)
    evac, evac_hash = make_report(router, received_ts=T0 + 5, kind="evacuation", lon=lon, lat=lat)
    return [(req, req_hash), (evac, evac_hash)]


def _v1_params(report, chash):
    return (*[report.get(c) for c in V1_COLUMNS], chash, json.dumps(report, ensure_ascii=False))


def _make_v1(url, rows):
    insert = (
        f"INSERT INTO reports ({', '.join(V1_COLUMNS)}, content_hash, body) "
        f"VALUES ({', '.join('?' * (len(V1_COLUMNS) + 2))})"
    )
    change = (
        "INSERT INTO changes (report_id, at_ts, actor, action, reason, body) VALUES (?,?,?,?,?,?)"
    )
    params = [_v1_params(r, h) for r, h in rows]
    changes = [
        (r["id"], r["received_ts"], "old", "create", None, p[-1])
        for (r, _), p in zip(rows, params, strict=True)
    ]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.executescript(sqlite_schema.MIGRATIONS[0])
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.executemany(insert, params)
        conn.executemany(change, changes)
        conn.close()
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute(postgres_schema.MIGRATIONS[0])
        conn.execute("INSERT INTO schema_version VALUES (1)")
        with conn.cursor() as cur:
            cur.executemany(insert.replace("?", "%s"), params)
            cur.executemany(change.replace("?", "%s"), changes)


def test_a_v1_database_upgrades_in_place(store_url, router, catalogue):
    rows = _v1_rows(router, catalogue)
    _make_v1(store_url, rows)
    store = open_store(store_url)
    try:
        versions = store.read("SELECT version FROM schema_version ORDER BY version")
        # Every migration ran once, in order: 3 (changes.entity, issue 8), 4 (sessions and sign-in
        # failures, issue 13) and any later one, numbered alike on both backends.
        assert len(sqlite_schema.MIGRATIONS) == len(postgres_schema.MIGRATIONS) >= 4
        assert [v["version"] for v in versions] == list(range(1, len(sqlite_schema.MIGRATIONS) + 1))
        got = store.read("SELECT id, resolved_ts FROM reports ORDER BY seq")
        assert [(r["id"], r["resolved_ts"]) for r in got] == [
            (rows[0][0]["id"], T0 + 1800),
            (rows[1][0]["id"], None),
        ]
        # The old audit rows come through unchanged, and the log goes on after them.
        before = store.changes_after(0)
        assert [(c.seq, c.report_id, c.report, c.entity) for c in before] == [
            (1, rows[0][0]["id"], rows[0][0], "report"),
            (2, rows[1][0]["id"], rows[1][0], "report"),
        ]
        lon, lat, _ = village_seat(catalogue, 2)
        new, chash = make_report(router, received_ts=T0 + 60, lon=lon, lat=lat)
        store.create_report(new, chash, actor="li")
        assert store.last_change_seq() == 3
        assert store.get_report(rows[0][0]["id"]) == rows[0][0]
    finally:
        store.close()


def test_create_snapshot_is_kept_once_and_survives_changes(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 4)
    report, chash = make_report(router, received_ts=T0, lon=lon, lat=lat)
    store.create_report(report, chash, actor="li")
    store.bulk_load([make_report(router, received_ts=T0 + 1, lon=lon, lat=lat)], actor="bulk")
    # Stored once: the create rows leave their snapshot to reports.body.
    assert [r["body"] for r in store.read("SELECT body FROM changes ORDER BY seq")] == [None] * 2
    assert store.audit_log(report["id"])[0].report == report

    def correct(r):
        r["people"] = 9
        return r

    store.modify_report(report["id"], correct, actor="staff", action="correct", reason="recount")
    store.modify_report(report["id"], correct, actor="staff", action="correct", reason="again")
    log = store.audit_log(report["id"])
    assert [c.action for c in log] == ["create", "correct", "correct"]
    assert log[0].report == report  # the original, not the corrected body
    assert [c.report["version"] for c in log] == [1, 2, 3]
    assert store.changes_after(0)[0].report == report
    # The step before each change is readable straight from the table (live and stats do so).
    prev = store.read(
        "SELECT body FROM changes WHERE report_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
        (report["id"], log[1].seq),
    )
    assert json.loads(prev[0]["body"]) == report


def test_resolution_time_survives_a_later_correction(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 3)
    req, chash = make_report(router, received_ts=T0, lon=lon, lat=lat, people=2)
    store.create_report(req, chash, actor="li")
    clock = ManualClock(T0 + 600)
    lifecycle.assign(store, req["id"], "蓝天救援队", actor="wang", clock=clock)
    clock.advance(1800)
    lifecycle.resolve(store, req["id"], Resolution("rescued", rescued=2), actor="z", clock=clock)
    stats = ReviewStats(store, catalogue, clock=time.time)
    assert stats.summary()["help"]["median_minutes_to_resolution"] == 40.0
    # Corrected long after (updated_ts moves to now): the resolution time stays 40 minutes.
    body = {"note": "二楼被困 / trapped upstairs", "reason": "note completed"}
    corrected = corrections.correct_report(store, router, req["id"], body, actor="staff")
    assert corrected["updated_ts"] - corrected["received_ts"] > 86400
    assert corrected["resolved_ts"] == T0 + 2400
    assert stats.summary()["help"]["median_minutes_to_resolution"] == 40.0
    fresh = ReviewStats(store, catalogue, clock=time.time)
    assert fresh.summary()["help"]["median_minutes_to_resolution"] == 40.0
    rows = store.read("SELECT resolved_ts FROM reports WHERE id = ?", (req["id"],))
    assert rows == [{"resolved_ts": T0 + 2400}]
