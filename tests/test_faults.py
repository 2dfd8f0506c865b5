"""Store faults answer 503 with Retry-After, never 500, and leave nothing half-written (issue 13):
a full disk (a real tmpfs), a database locked by another connection for longer than the bounded
wait, a writer queue over its bound, PostgreSQL's lock wait and lost connections."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from floodpost.errors import Unavailable
from floodpost.storage import faults
from floodpost.storage.sqlite import SQLiteStore
from tests.reports_support import new_report, quick_user


def _app(settings, catalogue, **overrides):
    from floodpost.web.app import create_app

    return create_app(settings.model_copy(update=overrides), catalogue=catalogue)


def _consistent(db: str) -> None:
    """Every stored report has its create row and its aggregate; nothing else was left."""
    with sqlite3.connect(db) as conn:
        (reports,) = conn.execute("SELECT COUNT(*) FROM reports").fetchone()
        (creates,) = conn.execute("SELECT COUNT(*) FROM changes WHERE action='create'").fetchone()
        (agg,) = conn.execute("SELECT COALESCE(SUM(reports), 0) FROM agg").fetchone()
    assert reports == creates == agg


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (we run as root in CI); fails, never skips, if it cannot be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (needs root): {proc.stderr}", pytrace=False)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> Path:
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_full_disk_answers_503_then_recovers(small_disk, settings, catalogue):
    db = small_disk / "floodpost.db"
    app = _app(settings, catalogue, db_url=f"sqlite:///{db}")
    with TestClient(app) as client:
        head = quick_user(app.state.ctx, "li", "field")
        assert client.post("/api/reports", json=new_report(), headers=head).status_code == 201
        filler = _fill(small_disk)
        tried = []
        for _ in range(5):
            body = new_report(note="满" * 500)
            r = client.post("/api/reports", json=body, headers=head)
            tried.append(body)
            assert r.status_code == 503, r.text
            assert int(r.headers["retry-after"]) > 0
            assert r.json()["error"] == "unavailable" and r.json()["reason"] == "disk_full"
        health = client.get("/healthz").json()
        assert health == {"status": "degraded", "reason": "disk_full"}
        os.remove(filler)
        for body in tried:  # the outbox sends them again
            assert client.post("/api/reports", json=body, headers=head).status_code == 201
        assert client.get("/healthz").json() == {"status": "ok"}
    _consistent(str(db))


def test_a_lock_held_longer_than_the_wait_answers_503(settings, catalogue, tmp_path):
    db = tmp_path / "locked.db"
    app = _app(settings, catalogue, db_url=f"sqlite:///{db}", db_busy_timeout_s=1.0)
    with TestClient(app) as client:
        head = quick_user(app.state.ctx, "li", "field")
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another program holds the database
        try:
            body = new_report()
            started = time.monotonic()
            r = client.post("/api/reports", json=body, headers=head)
            waited = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert r.json()["reason"] == "busy" and "retry-after" in r.headers
            assert 0.9 <= waited < 10
            assert client.get("/healthz").json()["status"] == "degraded"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert client.post("/api/reports", json=body, headers=head).status_code == 201
    _consistent(str(db))


def test_writer_queue_over_its_bound_is_refused_at_once(tmp_path):
    db = tmp_path / "q.db"
    store = SQLiteStore(f"sqlite:///{db}", busy_timeout_s=2.0, max_queue=2)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        futures = [store._writer.submit_nowait(lambda conn: 1) for _ in range(6)]
        time.sleep(0.2)
        refused = [f for f in futures if f.done() and isinstance(f.exception(), Unavailable)]
        assert len(refused) >= 3
        assert all(f.exception().extra["reason"] == "queue_full" for f in refused)
    finally:
        other.execute("ROLLBACK")
        other.close()
        store.close()


def test_classify_knows_the_faults_and_nothing_else(tmp_path):
    assert faults.cause_of(OSError(28, "No space left on device")) == "disk_full"
    assert faults.cause_of(sqlite3.OperationalError("database is locked")) == "busy"
    assert faults.classify(ValueError("a bug")) is None
    assert faults.classify(sqlite3.ProgrammingError("a bug")) is None
    import psycopg

    with pytest.raises(psycopg.OperationalError) as lost:
        psycopg.connect(f"postgresql://nobody@/x?host={tmp_path}&port=1", connect_timeout=1)
    assert faults.cause_of(lost.value) == "connection"
    assert faults.cause_of(psycopg.errors.DiskFull()) == "disk_full"


@pytest.mark.postgres
def test_postgres_lock_wait_and_lost_connection_answer_503(pg_database_url, settings, catalogue):
    import psycopg

    from floodpost.storage.postgres import _WRITE_LOCK

    app = _app(settings, catalogue, db_url=pg_database_url, db_busy_timeout_s=1.0)
    dbname = pg_database_url.split("@/", 1)[1].split("?")[0]
    admin_url = pg_database_url.replace(f"@/{dbname}?", "@/postgres?")
    with TestClient(app) as client:
        head = quick_user(app.state.ctx, "li", "field")
        body = new_report()
        with psycopg.connect(pg_database_url) as other:
            other.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
            r = client.post("/api/reports", json=body, headers=head)
            assert r.status_code == 503 and r.json()["reason"] == "busy", r.text
            other.rollback()
        assert client.post("/api/reports", json=body, headers=head).status_code == 201

        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (dbname,),
            )
            try:
                lost = new_report()
                r = client.post("/api/reports", json=lost, headers=head)
                assert r.status_code == 503 and r.json()["reason"] == "connection", r.text
                r = client.get("/api/reports", headers=head)
                assert r.status_code == 503 and "retry-after" in r.headers
                assert client.get("/healthz").json()["status"] == "degraded"
            finally:
                admin.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        assert client.post("/api/reports", json=lost, headers=head).status_code == 201
