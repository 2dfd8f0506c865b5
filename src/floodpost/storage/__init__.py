"""Storage backends, chosen from the --db URL."""

from __future__ import annotations

from floodpost.errors import ConfigError
from floodpost.storage.base import Store


def open_store(url: str, **limits: float) -> Store:
    """sqlite:///path (the embedded default) or postgresql://… (PostGIS). `limits`:
    busy_timeout_s and max_queue (storage/faults.py; the settings db_busy_timeout_s and
    write_queue_max)."""
    if url.startswith("sqlite:///"):
        from floodpost.storage.sqlite import SQLiteStore

        return SQLiteStore(url, **limits)  # type: ignore[arg-type]
    if url.startswith(("postgresql://", "postgres://")):
        from floodpost.storage.postgres import PostgresStore

        return PostgresStore(url, **limits)  # type: ignore[arg-type]
    raise ConfigError(f"--db: unsupported store URL {url!r} (use sqlite:///path or postgresql://…)")
