"""SQLite schema migrations, applied in order; the version is kept in schema_version.

Shared table bodies come from schema_parts.py; append new migrations, never edit an applied one.
"""

from floodpost.storage.schema_parts import (
    AGG_COLUMNS,
    AUTH_TABLES,
    CHANGES_COLUMNS,
    CHANGES_ENTITY,
    CHANGES_INDEX,
    HELP_RESOLVED_INDEX,
    ORDERS_TABLES,
    REPORTS_COLUMNS,
    REPORTS_INDEXES,
    SMS_MESSAGES,
    USERS_AND_META,
    render,
    render_readings,
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
    # 3: the change log of every entity (issue 8): changes.entity, 'report' for existing rows
    render(CHANGES_ENTITY, **_T),
    # 4 (issue 9): gauge readings, each station's latest reading time, warnings
    render_readings(**_T, without_rowid=" WITHOUT ROWID"),
    # 5 (issue 10): evacuation orders, acknowledgements, the household roster, field members'
    # zones and phone
    render(ORDERS_TABLES, **_T),
    # 6 (issue 11): SMS in and out
    render(SMS_MESSAGES, **_T),
    # 7 (issue 13): revocation (sessions_after_ts, revoked_tokens), persisted sign-in failures,
    # the account audit log.
    render(AUTH_TABLES, **_T, serial="INTEGER PRIMARY KEY AUTOINCREMENT"),
]
