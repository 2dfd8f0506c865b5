"""The reads orders and roll-call need, in portable SQL (`?` placeholders, both backends).

Each function takes `query(sql, params) -> list[dict]`: `Store.read` outside a write, or
`WriteTx.query` inside one, so a write computes the order it logs from what it just wrote.
Progress is read from indexes, never from a scan of the report log: evacuations by
(village_code, occurred_ts) through the partial index `reports_evacuation_village`, and roll-call
counts by village through `households_village` (migration 6).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from floodpost.orders.progress import ACCOUNTED_STATUSES, VillageRoll

Query = Callable[[str, Sequence[Any]], list[dict[str, Any]]]

_ACCOUNTED = ", ".join(f"'{s}'" for s in sorted(ACCOUNTED_STATUSES))


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def evacuated_since(query: Query, codes: Sequence[str], issued_ts: float) -> dict[str, int]:
    """People of active evacuation reports per village, occurred at or after `issued_ts`."""
    if not codes:
        return {}
    rows = query(
        "SELECT village_code, SUM(people) AS people FROM reports "
        f"WHERE kind = 'evacuation' AND village_code IN ({_marks(len(codes))}) "
        "AND occurred_ts >= ? AND status = 'active' GROUP BY village_code",
        [*codes, issued_ts],
    )
    return {r["village_code"]: int(r["people"] or 0) for r in rows}


def rolls(query: Query, codes: Sequence[str], since_ts: float = 0.0) -> dict[str, VillageRoll]:
    """Roll-call counts per village (households and people, all and accounted for). With
    `since_ts` (an order's issue), only marks made since count: a household found safe in last
    week's order is not accounted for in today's. Totals come from household_totals (kept by
    the import); only the households marked since are visited."""
    if not codes:
        return {}
    marks = _marks(len(codes))
    totals = query(
        f"SELECT village_code, households, people FROM household_totals WHERE village_code IN ({marks})",
        list(codes),
    )
    done = {
        r["village_code"]: (int(r["n"]), int(r["people"] or 0))
        for r in query(
            "SELECT village_code, COUNT(*) AS n, SUM(people) AS people FROM households "
            f"WHERE village_code IN ({marks}) AND status IN ({_ACCOUNTED}) AND status_ts >= ? "
            "GROUP BY village_code",
            [*codes, since_ts],
        )
    }
    out = {}
    for r in totals:
        n_acc, people_acc = done.get(r["village_code"], (0, 0))
        out[r["village_code"]] = VillageRoll(
            int(r["households"]), n_acc, int(r["people"]), people_acc
        )
    return out


def refresh_totals(tx: Any, codes: Iterable[str]) -> None:
    """Recount the roster of these villages (inside the import's transaction)."""
    cs = sorted(set(codes))
    for start in range(0, len(cs), 500):
        part = cs[start : start + 500]
        marks = _marks(len(part))
        tx.execute(f"DELETE FROM household_totals WHERE village_code IN ({marks})", part)
        tx.execute(
            "INSERT INTO household_totals (village_code, households, people) "
            "SELECT village_code, COUNT(*), SUM(people) FROM households "
            f"WHERE village_code IN ({marks}) GROUP BY village_code",
            part,
        )


def acks(query: Query, order_id: str) -> dict[str, list[dict[str, Any]]]:
    from floodpost.reports.model import iso_utc

    out: dict[str, list[dict[str, Any]]] = {}
    for r in query(
        "SELECT village_code, user_name, at_ts FROM order_acks WHERE order_id = ? "
        "ORDER BY at_ts, user_name",
        [order_id],
    ):
        out.setdefault(r["village_code"], []).append(
            {"user": r["user_name"], "at": iso_utc(float(r["at_ts"])), "at_ts": float(r["at_ts"])}
        )
    return out


def order_record(query: Query, order_id: str) -> tuple[dict[str, Any], str] | None:
    """(the order's record, its content hash), or None."""
    rows = query("SELECT content_hash, body FROM orders WHERE id = ?", [order_id])
    return (json.loads(rows[0]["body"]), rows[0]["content_hash"]) if rows else None


def order_ids(query: Query, *, zones: Iterable[str] | None = None, limit: int = 200) -> list[str]:
    """Ids of orders, newest first; only those touching `zones` when given."""
    if zones is None:
        rows = query("SELECT id FROM orders ORDER BY issued_ts DESC, id LIMIT ?", [limit])
        return [r["id"] for r in rows]
    zs = sorted(zones)
    if not zs:
        return []
    rows = query(
        "SELECT o.id, o.issued_ts FROM orders AS o WHERE o.id IN (SELECT order_id FROM "
        f"order_villages WHERE zone_id IN ({_marks(len(zs))})) "
        "ORDER BY o.issued_ts DESC, o.id LIMIT ?",
        [*zs, limit],
    )
    return [r["id"] for r in rows]


def open_orders_of_village(query: Query, code: str) -> list[str]:
    rows = query(
        "SELECT o.id FROM orders AS o JOIN order_villages AS v ON v.order_id = o.id "
        "WHERE v.village_code = ? AND o.status = 'open'",
        [code],
    )
    return [r["id"] for r in rows]


def user_zones(query: Query, name: str) -> set[str]:
    return {
        r["zone_id"] for r in query("SELECT zone_id FROM user_zones WHERE user_name = ?", [name])
    }
