"""Storage backends, chosen from the --db URL."""

from __future__ import annotations

from floodpost.clock import Clock, system_clock
from floodpost.errors import ConfigError
from floodpost.storage.base import Store


def open_store(url: str, *, clock: Clock = system_clock, **limits: float) -> Store:
    """sqlite:///path (the embedded default) or postgresql://… (PostGIS). `clock` stamps
    changes and updates (a ManualClock in tests). `limits`: busy_timeout_s and max_queue
    (storage/faults.py; the settings db_busy_timeout_s and write_queue_max)."""
    # Imported when chosen: psycopg is only needed for PostgreSQL.
    if url.startswith("sqlite:///"):
        from floodpost.storage.sqlite import SQLiteStore

        return SQLiteStore(url, clock=clock, **limits)  # type: ignore[arg-type]
    if url.startswith(("postgresql://", "postgres://")):
        from floodpost.storage.postgres import PostgresStore

        return PostgresStore(url, clock=clock, **limits)  # type: ignore[arg-type]
    raise ConfigError(f"--db: unsupported store URL {url!r} (use sqlite:///path or postgresql://…)")
