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


# Migration 6 (issue 11), both backends: every SMS in and out, kept for staff to read. `id` is the
# message's idempotency key (incoming: number, text and time; outgoing: made when queued), so a
# message gammu hands over twice is one row. `phone` is the number as accounts will compare it.
SMS_MESSAGES = """
    CREATE TABLE sms_messages (
        id {text} PRIMARY KEY,
        direction {text} NOT NULL,
        number {text} NOT NULL,
        phone {text} NOT NULL,
        text TEXT NOT NULL,
        sent_ts {real},
        at_ts {real} NOT NULL,
        status {text} NOT NULL,
        command {text},
        report_id {text},
        in_reply_to {text},
        gateway_ids TEXT,
        detail TEXT
    );
    CREATE INDEX sms_messages_at ON sms_messages(at_ts);
    CREATE INDEX sms_messages_phone ON sms_messages(phone, at_ts);"""


# Migration 4 (issue 9, early warning),
# both backends: gauge readings, each station's latest reading, and warnings.
# - readings: one row per station, kind (rain/level) and end time; `units` is rain in integer
#   micro-millimetres so window sums are exact; the primary key (station, kind, ts) is the index
#   every window total is read from (a range of it, never the station's whole history).
# - station_latest: the newest reading time of each station (silent gauges; it is also the row
#   a readings transaction takes first, so intake of one station is serialised).
# - warnings: the warning records; at most one active warning per target (partial unique index).
READINGS_TABLES = """
    CREATE TABLE readings (
        station {text} NOT NULL,
        kind {text} NOT NULL,
        ts {real} NOT NULL,
        value {real} NOT NULL,
        interval_h {real},
        units BIGINT,
        body TEXT NOT NULL,
        received_ts {real} NOT NULL,
        actor {text},
        PRIMARY KEY (station, kind, ts)
    ){without_rowid};

    CREATE TABLE station_latest (
        station {text} PRIMARY KEY,
        last_ts {real} NOT NULL,
        received_ts {real} NOT NULL
    );

    CREATE TABLE warnings (
        id {text} PRIMARY KEY,
        target {text} NOT NULL,
        code {text} NOT NULL,
        level {text} NOT NULL,
        severity INTEGER NOT NULL,
        active INTEGER NOT NULL,
        since_ts {real} NOT NULL,
        updated_ts {real} NOT NULL,
        body TEXT NOT NULL
    );
    CREATE UNIQUE INDEX warnings_active ON warnings(target, code) WHERE active = 1;
    CREATE INDEX warnings_since ON warnings(since_ts);
"""


def render_readings(*, text: str, real: str, without_rowid: str) -> str:
    return READINGS_TABLES.format(text=text, real=real, without_rowid=without_rowid)


# Migration 5 (orders, issue #10), both backends: evacuation orders (the record as JSON in body,
# status and issue time as columns for listing), the villages of each order with their zone
# (what a field member sees), acknowledgements, the household roster with its roll-call status,
# and the zones and phone of field members. Progress reads "people evacuated in these villages
# since the order" from the partial index reports_evacuation_village, never by a scan; `kind`
# is among its columns although the WHERE fixes it, because SQLite does not count a partial
# index's WHERE columns as covered: without it every entry costs a table lookup (bench: 34 ms →
# 0.4 ms for 50 villages). Roster sizes per village are kept in household_totals by the import
# (marks never change them), so a progress read only visits the households marked since the
# order (PostgreSQL: 27 ms → a few ms for 20,000 households).
ORDERS_TABLES = """
    CREATE TABLE orders (
        id {text} PRIMARY KEY,
        level {text} NOT NULL,
        status {text} NOT NULL,
        issued_ts {real} NOT NULL,
        issued_by {text},
        content_hash {text} NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX orders_issued ON orders(issued_ts);
    CREATE TABLE order_villages (
        order_id {text} NOT NULL,
        village_code {text} NOT NULL,
        zone_id {text},
        PRIMARY KEY (order_id, village_code)
    );
    CREATE INDEX order_villages_zone ON order_villages(zone_id, order_id);
    CREATE INDEX order_villages_village ON order_villages(village_code, order_id);
    CREATE TABLE order_acks (
        order_id {text} NOT NULL,
        village_code {text} NOT NULL,
        user_name {text} NOT NULL,
        at_ts {real} NOT NULL,
        PRIMARY KEY (order_id, village_code, user_name)
    );
    CREATE TABLE households (
        id {text} PRIMARY KEY,
        village_code {text} NOT NULL,
        zone_id {text},
        people INTEGER NOT NULL,
        status {text} NOT NULL,
        status_ts {real},
        status_by {text},
        note TEXT,
        content_hash {text} NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX households_village ON households(village_code, status, status_ts, people);
    CREATE TABLE household_totals (
        village_code {text} PRIMARY KEY,
        households INTEGER NOT NULL,
        people INTEGER NOT NULL
    );
    CREATE TABLE user_zones (
        user_name {text} NOT NULL,
        zone_id {text} NOT NULL,
        PRIMARY KEY (user_name, zone_id)
    );
    ALTER TABLE users ADD COLUMN phone {text};
    CREATE UNIQUE INDEX users_phone ON users(phone) WHERE phone IS NOT NULL;
    CREATE INDEX reports_evacuation_village
        ON reports(village_code, kind, occurred_ts, status, people) WHERE kind = 'evacuation';
"""

# Migration 7 (issue 13), both backends: sessions that really end and sign-in throttling that
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
