"""The read methods of the Store interface, written once for both backends.

SQL here uses `?` placeholders; a backend supplies `_rows(sql, params)` running it on a reader
connection (the PostgreSQL store translates placeholders). Domain modules never send SQL
against table internals: what they need is a named read here (`aggregate_groups` for the
review roll-up, `open_help_requests` for the live picture, ...), so the tables can change
without touching them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from floodpost.storage.base import AggregateGroups, Change, ReportQuery, User

CHANGE_SELECT = (
    "SELECT c.seq, c.report_id, c.at_ts, c.actor, c.action, c.reason, COALESCE(c.body, r.body), "
    "c.entity FROM changes AS c LEFT JOIN reports AS r ON c.body IS NULL AND r.id = c.report_id"
)
CHANGES_AFTER = f"{CHANGE_SELECT} WHERE c.seq > ? ORDER BY c.seq LIMIT ?"
AUDIT_LOG = f"{CHANGE_SELECT} WHERE c.report_id = ? ORDER BY c.seq"
# The previous version: the latest change of the id before seq (changes_report index).
VERSION_BEFORE = f"{CHANGE_SELECT} WHERE c.report_id = ? AND c.seq < ? ORDER BY c.seq DESC LIMIT 1"
LAST_CHANGE_SEQ = "SELECT MAX(seq) FROM changes"
GET_BODY = "SELECT body FROM reports WHERE id = ?"
SELECT_USER = (
    "SELECT name, role, password_hash, created_ts, disabled, sessions_after_ts "
    "FROM users WHERE name = ?"
)
GET_META = "SELECT value FROM meta WHERE key = ?"

# agg folded three ways in ONE statement, with the newest seq: one consistent snapshot (each
# statement reads one snapshot on both backends), so a roll-up seeded from it and then fed the
# changes after that seq counts every change exactly once. The 's' row always comes, even when
# agg is empty.
AGGREGATE_GROUPS = (
    "SELECT 'a' AS part, township_code AS k1, zone_id AS k2, village_code AS k3, "
    "shelter_id AS k4, kind, subtype, SUM(reports) AS n, SUM(people) AS p FROM agg "
    "GROUP BY township_code, zone_id, village_code, shelter_id, kind, subtype "
    "UNION ALL SELECT 'h', hour, '', '', '', kind, subtype, SUM(reports), SUM(people) FROM agg "
    "GROUP BY hour, kind, subtype "
    "UNION ALL SELECT 'd', substr(hour, 1, 10), '', village_code, shelter_id, kind, '', "
    "SUM(reports), SUM(people) FROM agg WHERE kind = 'evacuation' "
    "GROUP BY substr(hour, 1, 10), village_code, shelter_id, kind "
    "UNION ALL SELECT 's', '', '', '', '', '', '', 0, COALESCE((SELECT MAX(seq) FROM changes), 0)"
)
EVACUATED_BETWEEN = (
    "SELECT village_code, shelter_id, SUM(people) FROM agg WHERE hour >= ? AND hour <= ? "
    "AND kind = 'evacuation' GROUP BY village_code, shelter_id"
)
RESERVOIR_INCIDENTS = (
    "SELECT body FROM reports WHERE reservoir_id IS NOT NULL AND kind = 'incident' "
    "AND status = 'active'"
)
# No ORDER BY: it would steer SQLite onto the (kind, seq) index and past every closed request
# instead of the partial index of help requests by state.
OPEN_HELP_REQUESTS = (
    "SELECT body FROM reports WHERE kind = 'help_request' "
    "AND state IN ('new', 'assigned', 'en_route') AND status = 'active'"
)
# One indexed MAX per zone (reports_zone_occurred), never a scan of the log.
ZONE_LAST = "SELECT MAX(occurred_ts) FROM reports WHERE zone_id = ?"


def list_reports_query(
    *,
    kind: str | None,
    township: str | None,
    since_ts: float | None,
    reporter: str | None,
    after_seq: int,
    limit: int,
) -> tuple[str, list[Any]]:
    """SELECT seq, body of one page (one row more than `limit`, to know whether more follow)."""
    where = ["seq > ?"]
    params: list[Any] = [after_seq]
    for column, value in (("kind", kind), ("township_code", township), ("reporter", reporter)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since_ts is not None:
        where.append("updated_ts >= ?")
        params.append(since_ts)
    params.append(limit + 1)
    return f"SELECT seq, body FROM reports WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", params


def reports_page(
    rows: Sequence[Sequence[Any]], limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    return [json.loads(r[1]) for r in rows], (rows[-1][0] if more and rows else None)


def report_query_where(query: ReportQuery) -> tuple[str, list[Any]]:
    """WHERE clause (without the keyword) and parameters for a ReportQuery; indexed columns."""
    where = ["1 = 1"]
    params: list[Any] = []
    for column, value in (
        ("kind", query.kind),
        ("township_code", query.township),
        ("reporter", query.reporter),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if query.occurred_from is not None:
        where.append("occurred_ts >= ?")
        params.append(query.occurred_from)
    if query.occurred_to is not None:
        where.append("occurred_ts <= ?")
        params.append(query.occurred_to)
    if query.bbox is not None:
        # Plain comparisons (both backends); a report without a place never matches a bbox.
        where.append("lon >= ? AND lon <= ? AND lat >= ? AND lat <= ?")
        minx, miny, maxx, maxy = query.bbox
        params.extend((minx, maxx, miny, maxy))
    return " AND ".join(where), params


class SharedReads:
    """The read methods of the Store interface, the same on both backends; a backend provides
    `_rows(sql, params)` running `?`-style SQL on a reader connection."""

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    def get_report(self, report_id: str) -> dict[str, Any] | None:
        rows = self._rows(GET_BODY, (report_id,))
        return _body(rows[0][0]) if rows else None

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
        sql, params = list_reports_query(
            kind=kind,
            township=township,
            since_ts=since_ts,
            reporter=reporter,
            after_seq=after_seq,
            limit=limit,
        )
        return reports_page(self._rows(sql, params), limit)

    def find_reports(
        self, query: ReportQuery, *, after_seq: int = 0, limit: int = 1000
    ) -> tuple[list[dict[str, Any]], int | None]:
        where, params = report_query_where(query)
        sql = f"SELECT seq, body FROM reports WHERE seq > ? AND {where} ORDER BY seq LIMIT ?"
        return reports_page(self._rows(sql, [after_seq, *params, limit + 1]), limit)

    def find_report_texts(
        self, query: ReportQuery, *, after_seq: int = 0, limit: int = 1000
    ) -> tuple[list[tuple[str, float | None, float | None, str]], int | None]:
        where, params = report_query_where(query)
        sql = (
            f"SELECT seq, id, lon, lat, body FROM reports WHERE seq > ? AND {where} "
            "ORDER BY seq LIMIT ?"
        )
        rows = self._rows(sql, [after_seq, *params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        page = [(str(r[1]), r[2], r[3], str(r[4])) for r in rows]
        return page, (int(rows[-1][0]) if more and rows else None)

    def count_reports(self, query: ReportQuery) -> int:
        where, params = report_query_where(query)
        rows = self._rows(f"SELECT COUNT(*) FROM reports WHERE {where}", params)
        return int(rows[0][0])

    def newest_reports(
        self,
        *,
        kind: str | None = None,
        township: str | None = None,
        reporter: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        where, params = [], []
        for column, value in (("kind", kind), ("township_code", township), ("reporter", reporter)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT body FROM reports"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        return [_body(r[0]) for r in self._rows(sql, (*params, limit))]

    def changes_after(
        self, seq: int, limit: int = 1000, entities: Collection[str] | None = None
    ) -> list[Change]:
        if entities is None:
            return [change_of(r) for r in self._rows(CHANGES_AFTER, (seq, limit))]
        kinds = sorted(entities)
        sql = (
            f"{CHANGE_SELECT} WHERE c.seq > ? AND c.entity IN ({', '.join('?' * len(kinds))}) "
            "ORDER BY c.seq LIMIT ?"
        )
        return [change_of(r) for r in self._rows(sql, (seq, *kinds, limit))]

    def last_change_seq(self) -> int:
        rows = self._rows(LAST_CHANGE_SEQ)
        return int(rows[0][0] or 0)

    def audit_log(self, report_id: str) -> list[Change]:
        return [change_of(r) for r in self._rows(AUDIT_LOG, (report_id,))]

    def version_before(self, entity_id: str, seq: int) -> dict[str, Any] | None:
        rows = self._rows(VERSION_BEFORE, (entity_id, seq))
        return change_of(rows[0]).report if rows else None

    # -- named reads for the projections --------------------------------------------------------
    def aggregate_groups(self) -> AggregateGroups:
        groups = AggregateGroups(seq=0, area=[], hourly=[], evac_day=[])
        seq = 0
        for part, k1, k2, k3, k4, kind, subtype, n, p in self._rows(AGGREGATE_GROUPS):
            if part == "s":
                seq = int(p)
            elif part == "a":
                groups.area.append((k1, k2, k3, k4, kind, subtype, int(n or 0), int(p or 0)))
            elif part == "h":
                groups.hourly.append((k1, kind, subtype, int(n or 0), int(p or 0)))
            else:
                groups.evac_day.append((k1, k3, k4, int(n or 0), int(p or 0)))
        return AggregateGroups(seq, groups.area, groups.hourly, groups.evac_day)

    def evacuated_between(self, first_hour: str, last_hour: str) -> list[tuple[str, str, int]]:
        return [
            (village, shelter, int(people or 0))
            for village, shelter, people in self._rows(EVACUATED_BETWEEN, (first_hour, last_hour))
        ]

    def reservoir_incidents(self) -> list[dict[str, Any]]:
        return [_body(r[0]) for r in self._rows(RESERVOIR_INCIDENTS)]

    def open_help_requests(self) -> list[dict[str, Any]]:
        return [_body(r[0]) for r in self._rows(OPEN_HELP_REQUESTS)]

    def last_report_by_zone(self, zone_ids: Sequence[str]) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for zid in zone_ids:
            rows = self._rows(ZONE_LAST, (zid,))
            ts = rows[0][0] if rows else None
            out[zid] = float(ts) if ts is not None else None
        return out

    # -- accounts and meta --------------------------------------------------------------------
    def get_user(self, name: str) -> User | None:
        rows = self._rows(SELECT_USER, (name,))
        return user_of(rows[0] if rows else None)

    def get_meta(self, key: str) -> str | None:
        rows = self._rows(GET_META, (key,))
        return str(rows[0][0]) if rows else None


def _body(value: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(value)
    return body


def user_of(row: Sequence[Any] | None) -> User | None:
    return User(row[0], row[1], row[2], row[3], bool(row[4]), float(row[5])) if row else None


def change_of(row: Sequence[Any]) -> Change:
    return Change(
        seq=row[0],
        report_id=row[1],
        at_ts=row[2],
        actor=row[3],
        action=row[4],
        reason=row[5],
        report=json.loads(row[6]),
        entity=row[7],
    )
