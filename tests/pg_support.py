"""A throw-away PostgreSQL 15 + PostGIS cluster for the test session, and a fresh database per test.

The cluster runs as the `postgres` OS user (initdb refuses root) in a temporary directory, listens
only on a Unix socket in that directory, and keeps fsync on so durability tests mean something.
Missing binaries FAIL the postgres tests (never skip): CI must install them, and a silent skip
would hide a missing install step.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

PG_BIN = Path(os.environ.get("FLOODPOST_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path(
    os.environ.get(
        "FLOODPOST_POSTGIS_CONTROL", "/usr/share/postgresql/15/extension/postgis.control"
    )
)
APT_HINT = "apt-get install -y postgresql-15 postgresql-15-postgis-3"
TEMPLATE_DB = "floodpost_template"


def _missing() -> str | None:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 binaries not found in {PG_BIN}; install them with `{APT_HINT}`"
    if not POSTGIS_CONTROL.exists():
        return (
            f"PostGIS for PostgreSQL 15 not found ({POSTGIS_CONTROL}); install it with `{APT_HINT}`"
        )
    return None


def _free_port() -> int:
    # With listen_addresses='' the port only names the socket file, but a free TCP port keeps
    # the name unique if another cluster on this machine uses the same temp dir naming.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgCluster:
    root: Path
    data: Path
    sockdir: Path
    port: int
    log: Path

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@/{dbname}?host={self.sockdir}&port={self.port}"

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(sql)

    def _run(self, *args: str) -> None:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}"
            )

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.sockdir} -c listen_addresses='' -c fsync=on "
            "-c synchronous_commit=on -c max_connections=300 -c full_page_writes=on"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            opts,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def crash_restart(self) -> None:
        """Kill the server without a checkpoint (like a power cut for PostgreSQL) and restart it:
        what survives is what was flushed to the WAL."""
        self.stop("immediate")
        self.start()


def _reap_orphans() -> None:
    """Stop clusters left behind by test sessions that were killed (a timeout's SIGKILL skips
    teardown); each cluster directory names the pid of the session that owns it."""
    for owner in Path(tempfile.gettempdir()).glob("fp-pg-*/owner.pid"):
        try:
            os.kill(int(owner.read_text()), 0)
            continue  # its session is still running
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue
        root = owner.parent
        orphan = PgCluster(root, root / "data", root / "s", 0, root / "server.log")
        if (orphan.data / "postmaster.pid").exists():
            try:
                orphan.stop("immediate")
            except RuntimeError:
                continue
        shutil.rmtree(root, ignore_errors=True)


def start_cluster() -> PgCluster:
    missing = _missing()
    if missing:
        pytest.fail(missing, pytrace=False)
    _reap_orphans()
    root = Path(tempfile.mkdtemp(prefix="fp-pg-"))
    (root / "owner.pid").write_text(str(os.getpid()))
    cluster = PgCluster(root, root / "data", root / "s", _free_port(), root / "server.log")
    cluster.sockdir.mkdir()
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        for p in (root, cluster.sockdir):
            os.chown(p, pg.pw_uid, pg.pw_gid)
    # --no-sync only for initdb's own files (a throw-away directory); the server runs with fsync on.
    cluster._run(
        "initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust",
        "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
    )  # fmt: skip
    cluster.start()
    try:
        # One PostGIS template: copying it is much faster than CREATE EXTENSION per test.
        cluster.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        cluster.execute("CREATE EXTENSION postgis", TEMPLATE_DB)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: PgCluster) -> None:
    try:
        cluster.stop()
    except RuntimeError:
        cluster.stop("immediate")
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


_db_numbers = itertools.count(1)


@pytest.fixture
def pg_database_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh PostGIS database for one test; dropped afterwards (with any connection left open)."""
    name = f"test_{next(_db_numbers)}"
    pg_cluster.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
