"""Bulk loads (replay, simulate) store exactly what the normal write path stores: the same report
rows and bodies, audit rows and aggregates as create_report gives, on both backends; and
`simulate` writes the same log whether its worker process builds it or the calling thread does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from floodpost.replay.simulate import build_reports, simulate
from floodpost.storage import open_store
from floodpost.storage.base import Store
from tests.pg_support import TEMPLATE_DB

AGG_ORDER = "hour, kind, subtype, township_code, zone_id, village_code, shelter_id"


@pytest.fixture
def stores(store_url: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[list[Store]]:
    """Three fresh, empty stores of the same backend."""
    urls = [store_url]
    if store_url.startswith("sqlite"):
        urls += [f"sqlite:///{tmp_path}/twin{i}.db" for i in (1, 2)]
    else:
        cluster = request.getfixturevalue("pg_cluster")
        names = [f"twin_{uuid.uuid4().hex[:12]}" for _ in (1, 2)]
        for name in names:
            cluster.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
        urls += [cluster.url(name) for name in names]
    opened = [open_store(url) for url in urls]
    try:
        yield opened
    finally:
        for s in opened:
            s.close()
        if not store_url.startswith("sqlite"):
            for name in names:
                cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _log(store: Store) -> tuple[list, list, list]:
    reports = store.read("SELECT * FROM reports ORDER BY seq")
    changes = store.read(
        "SELECT seq, entity, report_id, at_ts, actor, action, reason, body "
        "FROM changes ORDER BY seq"
    )
    agg = store.read(f"SELECT * FROM agg ORDER BY {AGG_ORDER}")
    return reports, changes, agg


def test_bulk_load_stores_what_create_report_stores(stores, catalogue):
    bulk, one_by_one, _ = stores
    # Every kind, help requests in every lifecycle state, linked rescues.
    items = build_reports(catalogue, 3000, seed=5)
    assert bulk.bulk_load(iter(items), actor="sim") == len(items)
    for report, chash in items:
        stored, created = one_by_one.create_report(report, chash, actor="sim")
        assert created
    bulk_log, normal_log = _log(bulk), _log(one_by_one)
    assert len(bulk_log[0]) == len(items) and len(bulk_log[2]) > 100
    assert bulk_log == normal_log
    assert bulk.aggregate_groups() == one_by_one.aggregate_groups()
    assert bulk.get_report(items[-1][0]["id"]) == items[-1][0]


def _without_corrections(log: tuple[list, list, list]) -> tuple[list, list, set]:
    """The log minus the corrected reports (stamped with the wall clock: updated_at/ts, the
    time of the change; their create rows get the snapshot before it) and the corrections:
    what remains must be equal byte for byte."""
    reports, changes, _ = log
    fixes = {(c["report_id"], c["action"], c["reason"]) for c in changes if c["action"] != "create"}
    fixed = {f[0] for f in fixes}
    return (
        [r for r in reports if r["id"] not in fixed],
        [c for c in changes if c["action"] == "create" and c["report_id"] not in fixed],
        fixes,
    )


def test_simulate_in_its_worker_process_writes_what_bulk_load_writes(stores, catalogue):
    in_worker, in_thread, from_dicts = stores
    events, seed = 3000, 9
    assert simulate(in_worker, catalogue, events=events, seed=seed, worker=True) == events
    assert simulate(in_thread, catalogue, events=events, seed=seed, worker=False) == events
    worker_log, thread_log = _log(in_worker), _log(in_thread)
    # The same reports, audit rows and corrections; the aggregates do not depend on the clock.
    assert _without_corrections(worker_log) == _without_corrections(thread_log)
    assert worker_log[2] == thread_log[2]
    assert len(_without_corrections(worker_log)[2]) == events - len(worker_log[0])
    # The rows simulate writes itself are those bulk_load writes for the same reports.
    items = build_reports(catalogue, events, seed)
    from_dicts.bulk_load(iter(items), actor="simulate")
    reports, creates, _ = _without_corrections(worker_log)
    kept = {r["id"] for r in reports}
    dict_reports, dict_creates, _ = _log(from_dicts)
    assert reports == [r for r in dict_reports if r["id"] in kept]
    assert creates == [c for c in dict_creates if c["report_id"] in kept]


def test_simulate_builds_in_a_worker_process_from_the_cli_size_on(store, catalogue):
    """Big logs are built in the worker process (the default above WORKER_MIN_EVENTS); the
    counts come out exact and the stream is in received order."""
    from floodpost.replay import simulate as sim

    events = sim.WORKER_MIN_EVENTS
    assert simulate(store, catalogue, events=events, seed=1) == events
    assert store.last_change_seq() == events
    (row,) = store.read(
        "SELECT COUNT(*) AS n FROM (SELECT received_ts, "
        "LAG(received_ts) OVER (ORDER BY seq) AS prev FROM reports) AS t "
        "WHERE received_ts < prev"
    )
    assert int(row["n"]) == 0


def test_bulk_load_rows_keeps_whole_chunks_when_its_source_fails(store, catalogue):
    """A source failing half-way (simulate's worker process dying) raises; the chunks loaded
    before it stay whole (each with its audit rows and aggregates), nothing of a partial one."""
    from floodpost.storage import bulk as bulk_mod

    items = build_reports(catalogue, 2000, seed=2)

    def chunks():
        yield bulk_mod.bulk_rows(items[:1000], "sim")
        raise RuntimeError("the build process ended early")

    with pytest.raises(RuntimeError, match="ended early"):
        store.bulk_load_rows(chunks(), actor="sim")
    assert store.last_change_seq() == 1000
    (agg,) = store.read("SELECT SUM(reports) AS n FROM agg")
    assert int(agg["n"]) == sum(1 for r, _ in items[:1000] if r["status"] == "active")
    assert (
        store.bulk_load_rows([bulk_mod.bulk_rows(items[1000:], "sim")], actor="sim")
        == len(items) - 1000
    )
    assert store.last_change_seq() == len(items)
