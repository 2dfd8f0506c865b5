"""Storage backends, chosen from the --db URL."""

from __future__ import annotations

from floodpost.clock import Clock, system_clock
from floodpost.errors import ConfigError
from floodpost.storage.base import Store


def open_store(url: str, *, clock: Clock = system_clock) -> Store:
    """sqlite:///path (the embedded default) or postgresql://… (PostGIS). `clock` stamps
    changes and updates (a ManualClock in tests)."""
    # Imported when chosen: psycopg is only needed for PostgreSQL.
    if url.startswith("sqlite:///"):
        from floodpost.storage.sqlite import SQLiteStore

        return SQLiteStore(url, clock=clock)
    if url.startswith(("postgresql://", "postgres://")):
        from floodpost.storage.postgres import PostgresStore

        return PostgresStore(url, clock=clock)
    raise ConfigError(f"--db: unsupported store URL {url!r} (use sqlite:///path or postgresql://…)")
