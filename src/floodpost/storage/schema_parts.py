"""Table bodies both schema files share, written once with the column types as placeholders.

`{text}` and `{real}` become TEXT / REAL on SQLite and TEXT COLLATE "C" / DOUBLE PRECISION on
PostgreSQL (see postgres_schema.py for why), so the two schemas cannot drift apart column by
column. The rendered text of migration 1 is byte for byte what it was when written out in full.
"""

REPORTS_COLUMNS = """
        id {text} NOT NULL UNIQUE,
        kind {text} NOT NULL,
        subtype {text},
        occurred_ts {real} NOT NULL,
        received_ts {real} NOT NULL,
        updated_ts {real} NOT NULL,
        lon {real},
        lat {real},
        village_code {text},
        township_code {text},
        zone_id {text},
        shelter_id {text},
        reservoir_id {text},
        people INTEGER NOT NULL DEFAULT 0,
        status {text} NOT NULL,
        state {text},
        reporter {text},
        version INTEGER NOT NULL,
        content_hash {text} NOT NULL,
        body TEXT NOT NULL"""

REPORTS_INDEXES = """
    CREATE INDEX reports_kind_seq ON reports(kind, seq);
    CREATE INDEX reports_township_seq ON reports(township_code, seq);
    CREATE INDEX reports_occurred ON reports(occurred_ts);
    CREATE INDEX reports_zone_occurred ON reports(zone_id, occurred_ts);
    CREATE INDEX reports_reporter_seq ON reports(reporter, seq);
    CREATE INDEX reports_open_help ON reports(kind, state) WHERE kind = 'help_request';
    CREATE INDEX reports_reservoir ON reports(reservoir_id, occurred_ts)
        WHERE reservoir_id IS NOT NULL;"""

# `{body}`: NOT NULL in migration 1; from migration 2 a create row may leave its snapshot to
# reports.body (storage/common.py).
CHANGES_COLUMNS = """
        report_id {text} NOT NULL,
        at_ts {real} NOT NULL,
        actor {text},
        action {text} NOT NULL,
        reason TEXT,
        body TEXT{body}
    );"""
CHANGES_INDEX = """
    CREATE INDEX changes_report ON changes(report_id, seq);"""

AGG_COLUMNS = """
        hour {text} NOT NULL,
        kind {text} NOT NULL,
        subtype {text} NOT NULL,
        township_code {text} NOT NULL,
        zone_id {text} NOT NULL,
        village_code {text} NOT NULL,
        shelter_id {text} NOT NULL,
        reports INTEGER NOT NULL,
        people INTEGER NOT NULL,
        PRIMARY KEY (hour, kind, subtype, township_code, zone_id, village_code, shelter_id)
    )"""

USERS_AND_META = """
    CREATE TABLE users (
        name {text} PRIMARY KEY,
        role {text} NOT NULL,
        password_hash TEXT NOT NULL,
        created_ts {real} NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE meta (key {text} PRIMARY KEY, value TEXT NOT NULL);
"""

# Migration 2, both backends: help requests' resolution time as a column (filled on every write
# from the report's resolved_ts, REPORT_COLUMNS), and an index covering the help-request figures:
# help requests by state and status, with both times, so the median time to resolution and
# the latest resolutions are read from the index alone.
HELP_RESOLVED_INDEX = """
    CREATE INDEX reports_help_resolved
        ON reports(kind, state, status, resolved_ts, received_ts)
        WHERE kind = 'help_request'"""


# Migration 3, both backends: every entity logs to `changes` (warnings, orders, roll-call...),
# named by `entity`; `report_id` holds the entity's id, so the changes_report index serves every
# entity's audit trail. Existing rows are reports. A constant default: no table rewrite.
CHANGES_ENTITY = """
    ALTER TABLE changes ADD COLUMN entity {text} NOT NULL DEFAULT 'report'"""


# Migration 4 (issue 13), both backends: sessions that really end and sign-in throttling that
# survives a restart.
# - users.sessions_after_ts: tokens issued before it are void (password change, disable, "end
#   all sessions"); revoked_tokens: single tokens ended by POST /logout, until they expire.
# - login_failures: failed sign-ins by scope ("pair:<account>|<address>", "account:<account>").
# - auth_audit: the account audit log (lock-outs, sign-outs, password changes, disables).
# meta 'auth_generation' counts revocations, so servers notice one with a single cached read.
AUTH_TABLES = """
    ALTER TABLE users ADD COLUMN sessions_after_ts {real} NOT NULL DEFAULT 0;

    CREATE TABLE revoked_tokens (nonce {text} PRIMARY KEY, expires_ts {real} NOT NULL);

    CREATE TABLE login_failures (scope {text} NOT NULL, at_ts {real} NOT NULL);
    CREATE INDEX login_failures_scope ON login_failures(scope, at_ts);

    CREATE TABLE auth_audit (
        seq {serial},
        at_ts {real} NOT NULL,
        account {text},
        address {text},
        actor {text},
        action {text} NOT NULL,
        detail TEXT
    );
    CREATE INDEX auth_audit_account ON auth_audit(account, seq);
"""


def render(template: str, *, text: str, real: str, body: str = "", serial: str = "") -> str:
    return template.format(text=text, real=real, body=body, serial=serial)
