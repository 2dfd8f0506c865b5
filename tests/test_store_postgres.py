"""What only the PostgreSQL/PostGIS store has to show: PostGIS geometry, migrations run once across
restarts and racing workers, durability through a server crash, seq order across processes, and
`read()` giving the same answers as SQLite for the same portable SQL."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from floodpost.errors import Conflict
from floodpost.storage import open_store
from floodpost.storage.postgres import PostgresStore, to_psycopg_sql
from floodpost.storage.postgres_schema import MIGRATIONS
from tests.test_store import _report

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_database_url):
    s = open_store(pg_database_url)
    try:
        yield s
    finally:
        s.close()


def test_open_store_picks_postgres(pg_store):
    assert isinstance(pg_store, PostgresStore)


def test_geom_is_generated_from_lon_lat_and_indexed(pg_store):
    placed, chash = _report(lon=110.15, lat=26.58)
    pg_store.create_report(placed, chash, actor="a")
    by_village, vhash = _report(lon=None, lat=None, village_code="430527100001")
    pg_store.create_report(by_village, vhash, actor="a")
    rows = pg_store.read(
        "SELECT id, ST_X(geom) AS x, ST_Y(geom) AS y, ST_SRID(geom) AS srid FROM reports"
    )
    got = {r["id"]: (r["x"], r["y"], r["srid"]) for r in rows}
    assert got[placed["id"]] == (110.15, 26.58, 4326)
    assert got[by_village["id"]] == (None, None, None)
    near = pg_store.read(
        "SELECT id FROM reports WHERE ST_DWithin(geom::geography, "
        "ST_SetSRID(ST_MakePoint(?, ?), 4326)::geography, ?)",
        (110.151, 26.58, 500),
    )
    assert [r["id"] for r in near] == [placed["id"]]
    index = pg_store.read("SELECT indexdef FROM pg_indexes WHERE indexname = 'reports_geom'")
    assert "gist" in index[0]["indexdef"].lower()


def test_geom_follows_a_moved_report(pg_store):
    report, chash = _report(lon=110.15, lat=26.58)
    pg_store.create_report(report, chash, actor="a")

    def move(r):
        r["lon"], r["lat"] = 110.2, 26.6
        return r

    pg_store.modify_report(report["id"], move, actor="b", action="correct", reason="gps")
    row = pg_store.read("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM reports")[0]
    assert (row["x"], row["y"]) == (110.2, 26.6)


def test_migrations_run_once_across_restarts_and_racing_workers(pg_database_url):
    # Four workers starting at once against an empty database: one migrates, none fails.
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(pg_database_url), range(4)))
    for s in stores:
        s.close()
    again = PostgresStore(pg_database_url)
    try:
        versions = again.read("SELECT version FROM schema_version ORDER BY version")
        assert versions == [{"version": v} for v in range(1, len(MIGRATIONS) + 1)]
    finally:
        again.close()


def test_acknowledged_writes_survive_a_server_crash(pg_cluster, pg_store):
    ids = []
    for _ in range(20):
        report, chash = _report()
        pg_store.create_report(report, chash, actor="a")
        ids.append(report["id"])
    pg_store.set_meta("k", "v")
    # Immediate shutdown: no checkpoint, the data files are stale; only the WAL can bring it back.
    pg_cluster.crash_restart()
    # The same store carries on: dead pooled connections are replaced, not handed out again.
    rows, _ = pg_store.list_reports()
    assert [r["id"] for r in rows] == ids
    assert pg_store.get_meta("k") == "v"
    report, chash = _report()
    assert pg_store.create_report(report, chash, actor="a")[1]
    # Sequences skip ahead after a crash (PostgreSQL logs 32 values in advance); the stream only
    # needs seq to keep increasing.
    seqs = [c.seq for c in pg_store.changes_after(0)]
    assert len(seqs) == 21 and seqs == sorted(set(seqs))
    assert pg_store.last_change_seq() == seqs[-1]


def test_seq_order_holds_across_processes(pg_database_url):
    """Two stores (as two uvicorn workers would have) write at once while a follower pages
    through changes_after; it must end up with every change — none skipped by a lower seq
    committing after a higher one."""
    a, b = PostgresStore(pg_database_url), PostgresStore(pg_database_url)
    follower = PostgresStore(pg_database_url)
    seen: list[int] = []
    done = threading.Event()

    def follow():
        cursor = 0
        while True:
            finished = done.is_set()
            for change in follower.changes_after(cursor):
                seen.append(change.seq)
                cursor = change.seq
            if finished:
                return

    def write(store):
        report, chash = _report()
        store.create_report(report, chash, actor="w")

    thread = threading.Thread(target=follow)
    thread.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, [a, b] * 60))
    finally:
        done.set()
        thread.join()
    try:
        everything = [c.seq for c in follower.changes_after(0, limit=1000)]
        assert len(everything) == 120
        assert seen == everything
    finally:
        for s in (a, b, follower):
            s.close()


def test_bulk_load_is_all_or_nothing_per_chunk(pg_store):
    existing, chash = _report()
    pg_store.create_report(existing, chash, actor="a")
    items = [_report() for _ in range(5)] + [(existing, chash)]
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg_store.bulk_load(items, actor="sim")
    assert pg_store.read("SELECT COUNT(*) AS n FROM reports") == [{"n": 1}]
    assert pg_store.read("SELECT SUM(reports) AS n FROM agg") == [{"n": 1}]


def test_modify_creates_linked_report_in_same_transaction(pg_store):
    help_req, chash = _report(kind="help_request", people=3)
    pg_store.create_report(help_req, chash, actor="a")
    rescue, rhash = _report(id=str(uuid.uuid5(uuid.UUID(help_req["id"]), "rescue")), kind="rescue")

    def resolve(r):
        r["state"] = "resolved"
        return r, [(rescue, rhash)]

    pg_store.modify_report(help_req["id"], resolve, actor="s", action="resolve", reason=None)
    assert pg_store.get_report(rescue["id"]) == rescue
    # Resolving again (a retried request) does not create a second rescue.
    pg_store.modify_report(help_req["id"], resolve, actor="s", action="resolve", reason=None)
    assert pg_store.read("SELECT COUNT(*) AS n FROM reports WHERE kind = ?", ("rescue",)) == [
        {"n": 1}
    ]


def test_failed_modify_rolls_back_alone(pg_store):
    report, chash = _report(people=4)
    pg_store.create_report(report, chash, actor="a")

    def broken(r):
        raise ValueError("boom")

    with pytest.raises(ValueError):
        pg_store.modify_report(report["id"], broken, actor="b", action="correct", reason=None)
    assert pg_store.get_report(report["id"])["version"] == 1
    assert pg_store.read("SELECT SUM(people) AS p FROM agg") == [{"p": 4}]


def test_database_error_in_modify_rolls_back_and_the_store_carries_on(pg_store):
    report, chash = _report(people=4)
    pg_store.create_report(report, chash, actor="a")

    def unkind(r):
        r["kind"] = None  # violates NOT NULL inside the pipelined writes
        return r

    with pytest.raises(psycopg.errors.NotNullViolation):
        pg_store.modify_report(report["id"], unkind, actor="b", action="correct", reason=None)
    assert pg_store.get_report(report["id"])["version"] == 1
    assert len(pg_store.audit_log(report["id"])) == 1
    other, ohash = _report()
    assert pg_store.create_report(other, ohash, actor="a")[1]


def test_conflicts_in_a_busy_batch_fail_alone(pg_store):
    """Creates arriving together share a transaction; the conflicting ones must fail without
    taking their neighbours down."""
    taken = [_report() for _ in range(10)]
    for report, chash in taken:
        pg_store.create_report(report, chash, actor="a")
    clashing = [_report(id=r["id"], people=999) for r, _ in taken]
    fresh = [_report() for _ in range(10)]

    def attempt(item):
        try:
            return pg_store.create_report(item[0], item[1], actor="b")[1]
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(
            pool.map(attempt, [x for pair in zip(clashing, fresh, strict=True) for x in pair])
        )
    assert outcomes == ["conflict", True] * 10
    assert pg_store.read("SELECT COUNT(*) AS n, SUM(people) AS p FROM reports") == [
        {"n": 20, "p": sum(r["people"] for r, _ in taken + fresh)}
    ]
    assert pg_store.read("SELECT SUM(reports) AS n FROM agg") == [{"n": 20}]
    assert len(pg_store.changes_after(0)) == 20


def test_read_is_read_only(pg_store):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        pg_store.read("DELETE FROM reports")


@pytest.mark.parametrize(
    ("portable", "expected"),
    [
        ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
        ("SELECT 1 WHERE note LIKE '%?%' AND x = ?", "SELECT 1 WHERE note LIKE '%%?%%' AND x = %s"),
        ("SELECT 'it''s ?' AS \"odd?\" -- why?\n, ?", "SELECT 'it''s ?' AS \"odd?\" -- why?\n, %s"),
        ("SELECT 5 % 3 /* 50% ? */", "SELECT 5 %% 3 /* 50%% ? */"),
    ],
)
def test_placeholders_translate_outside_literals(portable, expected):
    assert to_psycopg_sql(portable) == expected


PORTABLE_QUERIES = [
    (
        "SELECT kind, SUM(people) AS people, SUM(reports) AS n FROM agg GROUP BY kind ORDER BY kind",
        (),
    ),
    ("SELECT COUNT(*) AS n, MAX(seq) AS last, SUM(seq) AS s FROM reports", ()),
    ("SELECT AVG(people) AS mean, MIN(occurred_ts) AS first FROM reports", ()),
    ("SELECT township_code, kind, people FROM reports WHERE people >= ? ORDER BY people, id", (5,)),
    ("SELECT id, body FROM reports ORDER BY seq", ()),
    ("SELECT id, kind FROM reports WHERE kind LIKE ? ORDER BY seq", ("res%",)),
    ("SELECT COALESCE(SUM(people), 0) AS p FROM reports WHERE status = ?", ("retracted",)),
]


def test_read_results_match_sqlite(pg_database_url, sqlite_url):
    items = [
        _report(kind="rescue" if i % 3 else "evacuation", people=i, note=f"第{i}号 50%")
        for i in range(12)
    ]
    results = []
    for url in (sqlite_url, pg_database_url):
        s = open_store(url)
        try:
            s.bulk_load(items[:6], actor="sim")
            for report, chash in items[6:]:
                s.create_report(report, chash, actor="a")
            results.append([s.read(sql, params) for sql, params in PORTABLE_QUERIES])
        finally:
            s.close()
    sqlite_rows, pg_rows = results
    for (sql, _), lite, pg in zip(PORTABLE_QUERIES, sqlite_rows, pg_rows, strict=True):
        assert pg == lite, sql
        assert [[type(v) for v in r.values()] for r in pg] == [
            [type(v) for v in r.values()] for r in lite
        ], sql
