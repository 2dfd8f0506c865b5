"""SQLite schema migrations, applied in order; the version is kept in schema_version.

Shared table bodies come from schema_parts.py; append new migrations, never edit an applied one.
"""

from floodpost.storage.schema_parts import (
    AGG_COLUMNS,
    AUTH_TABLES,
    CHANGES_COLUMNS,
    CHANGES_INDEX,
    HELP_RESOLVED_INDEX,
    REPORTS_COLUMNS,
    REPORTS_INDEXES,
    USERS_AND_META,
    render,
)

_T = {"text": "TEXT", "real": "REAL"}

MIGRATIONS: list[str] = [
    # 1: reports, audit log / event stream, aggregates, accounts
    f"""
    CREATE TABLE reports (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,{render(REPORTS_COLUMNS, **_T)}
    );{REPORTS_INDEXES}

    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,{render(CHANGES_COLUMNS, **_T, body=" NOT NULL")}{CHANGES_INDEX}

    CREATE TABLE agg ({render(AGG_COLUMNS, **_T)} WITHOUT ROWID;
{render(USERS_AND_META, **_T)}    """,
    # 2: reports.resolved_ts (backfilled from the body) with its index; changes.body may be NULL
    # for a create whose snapshot is still reports.body. SQLite cannot drop a NOT NULL
    # constraint, so the changes table is copied into its new shape (seq values kept).
    f"""
    ALTER TABLE reports ADD COLUMN resolved_ts REAL;
    UPDATE reports SET resolved_ts = json_extract(body, '$.resolved_ts')
        WHERE kind = 'help_request';{HELP_RESOLVED_INDEX};

    CREATE TABLE changes_v2 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,{render(CHANGES_COLUMNS, **_T)}
    INSERT INTO changes_v2 (seq, report_id, at_ts, actor, action, reason, body)
        SELECT seq, report_id, at_ts, actor, action, reason, body FROM changes;
    DROP TABLE changes;
    ALTER TABLE changes_v2 RENAME TO changes;{CHANGES_INDEX}
    """,
    # Issue 13 — assigned migration number 4. Numbered 3 in the `harden` branch because the runner
    # needs contiguous numbers and `core`'s migration 3 is not here yet; on merge it goes after
    # it. Revocation (sessions_after_ts, revoked_tokens), persisted sign-in failures, account audit.
    render(AUTH_TABLES, **_T, serial="INTEGER PRIMARY KEY AUTOINCREMENT"),
]
