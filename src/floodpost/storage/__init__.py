"""Storage backends, chosen from the --db URL."""

from __future__ import annotations

from floodpost.errors import ConfigError
from floodpost.storage.base import Store


def open_store(url: str) -> Store:
    """sqlite:///path (the embedded default) or postgresql://… (PostGIS)."""
    if url.startswith("sqlite:///"):
        from floodpost.storage.sqlite import SQLiteStore

        return SQLiteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        from floodpost.storage.postgres import PostgresStore

        return PostgresStore(url)
    raise ConfigError(f"--db: unsupported store URL {url!r} (use sqlite:///path or postgresql://…)")
