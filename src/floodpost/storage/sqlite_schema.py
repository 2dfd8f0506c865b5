"""SQLite schema migrations, applied in order; the version is kept in schema_version."""

MIGRATIONS: list[str] = [
    # 1: reports, audit log / event stream, aggregates, accounts
    """
    CREATE TABLE reports (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        subtype TEXT,
        occurred_ts REAL NOT NULL,
        received_ts REAL NOT NULL,
        updated_ts REAL NOT NULL,
        lon REAL,
        lat REAL,
        village_code TEXT,
        township_code TEXT,
        zone_id TEXT,
        shelter_id TEXT,
        reservoir_id TEXT,
        people INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        state TEXT,
        reporter TEXT,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX reports_kind_seq ON reports(kind, seq);
    CREATE INDEX reports_township_seq ON reports(township_code, seq);
    CREATE INDEX reports_occurred ON reports(occurred_ts);
    CREATE INDEX reports_zone_occurred ON reports(zone_id, occurred_ts);
    CREATE INDEX reports_reporter_seq ON reports(reporter, seq);
    CREATE INDEX reports_open_help ON reports(kind, state) WHERE kind = 'help_request';
    CREATE INDEX reports_reservoir ON reports(reservoir_id, occurred_ts)
        WHERE reservoir_id IS NOT NULL;

    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        report_id TEXT NOT NULL,
        at_ts REAL NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        reason TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX changes_report ON changes(report_id, seq);

    CREATE TABLE agg (
        hour TEXT NOT NULL,
        kind TEXT NOT NULL,
        subtype TEXT NOT NULL,
        township_code TEXT NOT NULL,
        zone_id TEXT NOT NULL,
        village_code TEXT NOT NULL,
        shelter_id TEXT NOT NULL,
        reports INTEGER NOT NULL,
        people INTEGER NOT NULL,
        PRIMARY KEY (hour, kind, subtype, township_code, zone_id, village_code, shelter_id)
    ) WITHOUT ROWID;

    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_ts REAL NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
]
