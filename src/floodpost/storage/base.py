"""The storage interface every backend implements, and the SQL both backends share.

Two backends sit behind it: SQLite (the laptop at the command post) and PostgreSQL/PostGIS (a city
or province). Domain code talks only to this interface, through named methods: it sends no SQL
against the tables below (the read methods are in storage/reads.py; new entities write their own
tables with portable SQL inside `Store.transact`). `Store.read` runs portable ad-hoc SQL with `?`
placeholders for tools and tests.

Tables
- reports: the current state of each report (one row per id); `body` is the public JSON.
- changes: the append-only audit log and the event stream — one row per create/correct/retract/
  lifecycle step, with the snapshot after it. `seq` is the SSE event id. Since migration 3 every
  entity logs here (`entity`: 'report', 'warning', 'order'...; `report_id` holds its id). A create row's body is
  NULL while the report is unchanged (the snapshot is reports.body; see storage/common.py), so
  read it through `changes_after`/`audit_log`; rows before any other change always have a body.
- agg: people and report counts per local hour × kind × subtype × township × zone × village ×
  shelter, for active reports, maintained in the same transaction as every write, so statistics
  over a million reports read a few thousand rows.
- users, meta.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from floodpost.timefmt import local_hour

T = TypeVar("T")

# Columns copied out of the JSON body so they can be indexed and filtered.
REPORT_COLUMNS = (
    "id",
    "kind",
    "subtype",
    "occurred_ts",
    "received_ts",
    "updated_ts",
    "lon",
    "lat",
    "village_code",
    "township_code",
    "zone_id",
    "shelter_id",
    "reservoir_id",
    "people",
    "status",
    "state",
    "reporter",
    "version",
    "resolved_ts",  # help requests: when resolved (migration 2), for time-to-resolution figures
)

# A bulk-load chunk as storage.bulk.bulk_rows prepares it: (reports rows, changes rows,
# aggregate upsert rows).
BulkRows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]

AGG_KEYS = ("hour", "kind", "subtype", "township_code", "zone_id", "village_code", "shelter_id")

# A modification returns the new report, optionally with new reports to create in the same
# transaction (a help request resolved as "rescued N" creates its rescue report).
# Each new report comes with its content hash, as in create_report.
Modifier = Callable[
    [dict[str, Any]],
    "dict[str, Any] | tuple[dict[str, Any], list[tuple[dict[str, Any], str]]]",
]


@dataclass(frozen=True)
class ReportQuery:
    """Filters of `Store.find_reports`/`count_reports` (OGC API items): all optional, ANDed.
    occurred_* bound occurred_ts inclusively; bbox is (min lon, min lat, max lon, max lat)."""

    kind: str | None = None
    township: str | None = None
    reporter: str | None = None
    occurred_from: float | None = None
    occurred_to: float | None = None
    bbox: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str
    created_ts: float
    disabled: bool = False
    # Tokens issued before this moment are void (password change, disable; migration 4).
    sessions_after_ts: float = 0.0


@dataclass(frozen=True)
class Change:
    """One row of the change log. For a report, `report` is its snapshot after the change; for any
    other entity it is the body that was logged (the field keeps its name for compatibility)."""

    seq: int
    report_id: str
    at_ts: float
    actor: str | None
    action: str
    reason: str | None
    report: dict[str, Any]
    entity: str = "report"

    @property
    def entity_id(self) -> str:
        return self.report_id


@dataclass(frozen=True)
class AggregateGroups:
    """The `agg` table folded three ways, read as one snapshot with the newest change's seq."""

    seq: int
    # township, zone, village, shelter, kind, subtype, reports, people
    area: list[tuple[str, str, str, str, str, str, int, int]]
    # local hour 'YYYY-MM-DDTHH', kind, subtype, reports, people
    hourly: list[tuple[str, str, str, int, int]]
    # evacuations: local date 'YYYY-MM-DD', village, shelter, reports, people
    evac_day: list[tuple[str, str, str, int, int]]


class WriteTx(Protocol):
    """One write transaction inside the store's single writer (see `Store.transact`).

    SQL is portable: `?` placeholders, `ON CONFLICT ... DO UPDATE/NOTHING`, no dialect functions.
    """

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns its rowcount."""
        ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows read inside this transaction (they see its own writes)."""
        ...

    def log(
        self,
        entity: str,
        entity_id: str,
        action: str,
        body: dict[str, Any],
        *,
        actor: str | None,
        reason: str | None = None,
    ) -> int:
        """Append a change of `entity` to the change log; returns its seq. Reports are logged
        by create_report/modify_report, never through here."""
        ...

    def now(self) -> float:
        """The store's injected clock (epoch seconds)."""
        ...


def report_row(
    report: dict[str, Any], content_hash: str, body: str | None = None
) -> tuple[Any, ...]:
    """The reports row; `body` is dumps(report) if the caller has it already."""
    return (*map(report.get, REPORT_COLUMNS), content_hash, dumps(report) if body is None else body)


# local_hour by UTC hour: Asia/Shanghai has been a whole number of hours from UTC since the
# 1940s, so every timestamp of one UTC hour falls in one local hour. Bulk loads ask a million
# times for a few thousand distinct hours (the tz conversion was a fifth of their Python time).
_HOURS: dict[int, str] = {}


def hour_of(ts: float) -> str:
    bucket = int(ts // 3600)
    hour = _HOURS.get(bucket)
    if hour is None:
        hour = local_hour(ts)
        if ts >= 0 and len(_HOURS) < 1_000_000:
            _HOURS[bucket] = hour
    return hour


def agg_key(report: dict[str, Any]) -> tuple[str, ...]:
    return (
        hour_of(report["occurred_ts"]),
        report["kind"],
        report.get("subtype") or "",
        report.get("township_code") or "",
        report.get("zone_id") or "",
        report.get("village_code") or "",
        report.get("shelter_id") or "",
    )


def agg_delta(report: dict[str, Any], sign: int) -> tuple[tuple[str, ...], int, int] | None:
    """What one report adds to (sign=1) or removes from (sign=-1) the aggregates."""
    if report.get("status") != "active":
        return None
    return agg_key(report), sign, sign * int(report.get("people") or 0)


# One encoder for every body: json.dumps with options builds a new encoder on each call, a
# quarter of the cost of a report's body in bulk loads.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(obj: Any) -> str:
    return _ENCODER.encode(obj)


class Store(Protocol):
    """What floodpost needs from storage. Every write returns only once it is durable."""

    url: str

    def migrate(self) -> None: ...
    def close(self) -> None: ...

    # reports -------------------------------------------------------------------------------
    def create_report(
        self, report: dict[str, Any], content_hash: str, *, actor: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Store a new report. Returns (stored, True); for an identical resend (same id, same
        content hash) returns (the stored one, False); raises Conflict for the same id with other
        content. Durable before it returns."""
        ...

    def create_report_future(
        self,
        report: dict[str, Any],
        content_hash: str,
        *,
        actor: str | None,
        body: str | None = None,
    ) -> Future[tuple[dict[str, Any], bool]]:
        """create_report without blocking: the Future resolves once the report is durable (the
        async ingest route awaits it with asyncio.wrap_future, parking no thread). `body`:
        `dumps(report)` when the caller has encoded it already (the route answers with it)."""
        ...

    def modify_report(
        self,
        report_id: str,
        modify: Modifier,
        *,
        actor: str | None,
        action: str,
        reason: str | None,
    ) -> dict[str, Any]:
        """Apply `modify` to the current state inside one write transaction, bump the version,
        append to the audit log, adjust the aggregates. Raises NotFound."""
        ...

    def bulk_load(self, reports: Iterable[tuple[dict[str, Any], str]], *, actor: str | None) -> int:
        """Load many new reports fast (replay, simulate); each still gets its audit row."""
        ...

    def bulk_load_rows(self, chunks: Iterable[BulkRows], *, actor: str | None) -> int:
        """bulk_load of reports already turned into rows by storage.bulk.bulk_rows, chunk by
        chunk, e.g. in another process (replay/simulate.py); one transaction per chunk, all
        durable when it returns."""
        ...

    def get_report(self, report_id: str) -> dict[str, Any] | None: ...

    def list_reports(
        self,
        *,
        kind: str | None = None,
        township: str | None = None,
        since_ts: float | None = None,
        reporter: str | None = None,
        after_seq: int = 0,
        limit: int = 10000,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Reports in the order they were received; returns (reports, next cursor or None)."""
        ...

    # generic writes: any entity's tables and its change-log rows in one transaction ---------
    def transact(self, work: Callable[[WriteTx], T]) -> T:
        """`work(tx)` inside one transaction of the single writer, durable before this returns.
        If `work` raises, nothing it did is kept and the exception reaches the caller (other
        writes grouped in the same commit are unaffected). `work` runs on the writer thread: it
        must not call the store's other write methods (that would wait for itself)."""
        ...

    def transact_future(self, work: Callable[[WriteTx], T]) -> Future[T]:
        """transact without blocking: the Future resolves once the work is durable."""
        ...

    def report_field_rows(
        self,
        fields: Sequence[str],
        *,
        kind: str | None = None,
        township: str | None = None,
        since_ts: float | None = None,
        after_seq: int = 0,
        limit: int = 10000,
    ) -> tuple[list[list[Any]], int | None]:
        """Like list_reports, but each report as the list of its `fields` (two or more top-level
        keys; None where absent), picked out by the database (storage/field_rows.py)."""
        ...

    def find_reports(
        self, query: ReportQuery, *, after_seq: int = 0, limit: int = 1000
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Reports matching `query` in the order received (by seq), one page after `after_seq`;
        returns (reports, next cursor or None when this page is the last)."""
        ...

    def find_report_texts(
        self, query: ReportQuery, *, after_seq: int = 0, limit: int = 1000
    ) -> tuple[list[tuple[str, float | None, float | None, str]], int | None]:
        """As find_reports, but each report as (id, lon, lat, stored JSON text): a server
        streaming a million reports copies the text instead of parsing and re-encoding it."""
        ...

    def count_reports(self, query: ReportQuery) -> int:
        """How many reports match `query` (whatever page is read)."""
        ...

    # the change log: every entity, in seq order ----------------------------------------------
    def changes_after(
        self, seq: int, limit: int = 1000, entities: Collection[str] | None = None
    ) -> list[Change]:
        """Up to `limit` changes after `seq` in order; only those of `entities` if given."""
        ...

    def last_change_seq(self) -> int: ...
    def watch_changes(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake()` (from another thread) soon after a write commits: this process's at
        once, another process's within milliseconds (storage/signals.py). Spurious calls are
        allowed; returns the function that stops watching."""
        ...

    def audit_log(self, report_id: str) -> list[Change]:
        """Every change of one entity id (a report's or any other entity's), oldest first."""
        ...

    def version_before(self, entity_id: str, seq: int) -> dict[str, Any] | None:
        """The body of `entity_id`'s latest change before `seq` (its previous version), or
        None if it had none."""
        ...

    # named reads for the projections and screens (domain code sends no SQL of its own) -----
    def newest_reports(
        self,
        *,
        kind: str | None = None,
        township: str | None = None,
        reporter: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The newest reports first (by receipt), optionally of one kind / township / reporter."""
        ...

    def aggregate_groups(self) -> AggregateGroups:
        """agg by area, by hour and (evacuations) by day, with the seq they include."""
        ...

    def evacuated_between(self, first_hour: str, last_hour: str) -> list[tuple[str, str, int]]:
        """(village, shelter, people) evacuated in the local hours first..last (inclusive)."""
        ...

    def reservoir_incidents(self) -> list[dict[str, Any]]:
        """Active incident reports naming a reservoir."""
        ...

    def open_help_requests(self) -> list[dict[str, Any]]:
        """Active help requests in state new, assigned or en_route."""
        ...

    def last_report_by_zone(self, zone_ids: Sequence[str]) -> dict[str, float | None]:
        """Latest occurred time of any report (retracted ones too) per zone; None: never."""
        ...

    # ad-hoc reads (portable SQL, `?` placeholders): tools and tests, not domain modules -----
    def read(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...

    # accounts and settings -------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        """Raises Conflict if the name is taken."""
        ...

    def get_user(self, name: str) -> User | None: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...

    # sessions, sign-in throttling and the account audit log (storage/auth_store.py) ----------
    def list_users(self) -> list[User]: ...
    def update_user(
        self,
        name: str,
        *,
        at_ts: float,
        actor: str | None,
        action: str,
        password_hash: str | None = None,
        disabled: bool | None = None,
    ) -> bool:
        """Change an account and void its sessions (sessions_after_ts = at_ts); False if absent."""
        ...

    def revoke_token(
        self, nonce: str, expires_ts: float, *, account: str, at_ts: float
    ) -> None: ...
    def auth_generation(self) -> int: ...
    def revoked_nonces(self, now_ts: float) -> set[str]: ...
    def record_login_failure(
        self, scopes: Sequence[str], at_ts: float, *, audit: dict[str, Any] | None = None
    ) -> None: ...
    def login_failures(self, scope: str, since_ts: float) -> list[float]: ...
    def clear_login_failures(self, scope: str) -> None: ...
    def add_auth_audit(
        self, *, at_ts: float, account: str | None, address: str | None, actor: str | None,
        action: str, detail: str | None = None,
    ) -> None: ...  # fmt: skip
    def auth_audit(self, account: str | None = None, limit: int = 200) -> list[dict[str, Any]]: ...
