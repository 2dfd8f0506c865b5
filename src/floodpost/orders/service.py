"""Evacuation orders over the store: issue, read, acknowledge, cancel, complete.

    book = OrderBook(store, catalogue, zone_of=router_zone, clock=clock)
    order, created = book.issue(payload, actor="wang")      # 201 / 200, Conflict → 409
    book.ack(order_id, Actor("li", "field"))                 # Forbidden for other zones

Every write is one `store.transact` (the single writer) that also logs the order, as
GET /api/orders/{id} returns it, under entity "order" (actions issue / ack / cancel / complete):
the audit trail and the live stream (`event: order`) are the change log itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from floodpost.errors import Conflict, Forbidden, NotFound
from floodpost.orders import queries as q
from floodpost.orders.cap import CapArea, CapSender, alerts_atom, cap_areas, order_to_cap
from floodpost.orders.model import build_order, canonical_order_id, parse_order
from floodpost.orders.progress import newly_completed, order_progress
from floodpost.reports.model import iso_utc

SEE_ALL_ROLES = frozenset({"commander", "staff", "viewer"})
ACK_ROLES = frozenset({"commander", "staff"})  # besides the responsible field member
ENTITY = "order"
INSERT_ORDER = (
    "INSERT INTO orders (id, level, status, issued_ts, issued_by, content_hash, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
UPDATE_ORDER = "UPDATE orders SET status = ?, body = ? WHERE id = ?"


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str


class OrderBook:
    """The orders of one app (made once; holds the catalogue-derived CAP areas)."""

    def __init__(
        self,
        store: Any,
        catalogue: Any,
        *,
        zone_of: Callable[[str], str | None],
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.zone_of = zone_of
        self.clock = clock
        self._areas: dict[str, CapArea] | None = None
        county: dict[str, Any] = next(iter(catalogue.records("county").values()), {})
        self.sender = CapSender.for_county(
            catalogue.county_code,
            catalogue.county_name,
            str(county.get("name_en") or county.get("name") or catalogue.county_code),
        )

    # ---- reading -------------------------------------------------------------------------
    def view(self, query: q.Query, record: Mapping[str, Any]) -> dict[str, Any]:
        codes = record["villages"]
        return order_progress(
            record,
            self.catalogue.villages_by_code,
            q.evacuated_since(query, codes, float(record["issued_ts"])),
            q.acks(query, record["id"]),
            q.rolls(query, codes, float(record["issued_ts"])),
        )

    def _record(self, query: q.Query, order_id: str) -> dict[str, Any]:
        oid = canonical_order_id(order_id)
        found = q.order_record(query, oid) if oid else None
        if found is None:
            raise NotFound("no order with this id", field="id")
        return found[0]

    def zones_of(self, who: Actor) -> set[str] | None:
        """The zones a field member answers for; None for roles that see every order."""
        if who.role in SEE_ALL_ROLES:
            return None
        return q.user_zones(self.store.read, who.name)

    def _check_sees(self, record: Mapping[str, Any], who: Actor) -> None:
        zones = self.zones_of(who)
        if zones is not None and not any(self.zone_of(c) in zones for c in record["villages"]):
            raise Forbidden("this order is for villages outside your zones", field="id")

    def get(self, order_id: str, who: Actor) -> dict[str, Any]:
        record = self._record(self.store.read, order_id)
        self._check_sees(record, who)
        return self._settled(record, self.view(self.store.read, record))

    def _settled(self, record: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        """A read that finds an open order done (evacuation reports arrived since the last
        write touching it) stores and logs the completion, so it is streamed and audited."""
        if record.get("status") != "open" or view.get("status") != "completed":
            return view

        def work(tx: Any) -> dict[str, Any]:
            fresh = self._record(tx.query, record["id"])
            return self._completed_in(tx, fresh, self.view(tx.query, fresh), None)

        return self.store.transact(work)

    def settle_open(self) -> int:
        """Complete every open order that evacuation reports have finished (run every few
        seconds by the app, so completion is logged and streamed even when nobody is looking);
        returns how many completed."""
        read = self.store.read
        done = 0
        for row in read("SELECT id FROM orders WHERE status = 'open'"):
            found = q.order_record(read, row["id"])
            if found is not None and found[0]["status"] == "open":
                view = self._settled(found[0], self.view(read, found[0]))
                done += view["status"] == "completed"
        return done

    def list(self, who: Actor, *, limit: int = 200) -> list[dict[str, Any]]:
        """Orders newest first; a field member sees those touching their zones."""
        read = self.store.read
        out = []
        for oid in q.order_ids(read, zones=self.zones_of(who), limit=limit):
            found = q.order_record(read, oid)
            if found is not None:
                out.append(self._settled(found[0], self.view(read, found[0])))
        return out

    # ---- writing -------------------------------------------------------------------------
    def issue(self, data: Any, *, actor: str) -> tuple[dict[str, Any], bool]:
        """Validate and durably store an order: (the order, created). An identical resend is
        (stored order, False); the same id with other content raises Conflict."""
        order = parse_order(data, self.catalogue.villages_by_code, self.catalogue.county_code)
        content_hash = order.content_hash()
        oid = str(order.id)

        def work(tx: Any) -> tuple[dict[str, Any], bool]:
            found = q.order_record(tx.query, oid)
            if found is not None:
                if found[1] != content_hash:
                    raise Conflict(
                        "a different order with this id already exists",
                        field="id",
                        code="id_conflict",
                    )
                return self.view(tx.query, found[0]), False
            record = build_order(order, issued_by=actor, issued_ts=tx.now())
            tx.execute(
                INSERT_ORDER,
                (
                    oid,
                    order.level,
                    "open",
                    record["issued_ts"],
                    actor,
                    content_hash,
                    _dumps(record),
                ),
            )
            tx.executemany(
                "INSERT INTO order_villages (order_id, village_code, zone_id) VALUES (?, ?, ?)",
                [(oid, c, self.zone_of(c)) for c in order.villages],
            )
            view = self.view(tx.query, record)
            tx.log(ENTITY, oid, "issue", view, actor=actor)
            return self._completed_in(tx, record, view, actor), True

        return self.store.transact(work)

    def ack(self, order_id: str, who: Actor) -> dict[str, Any]:
        """Acknowledge (收到) an order for the villages `who` answers for: a field member their
        zones' villages of it, staff and commanders all of them. Idempotent: a resend from the
        outbox changes nothing and logs nothing."""
        if who.role not in ACK_ROLES and who.role != "field":
            raise Forbidden("only the responsible field member or staff acknowledge orders")
        zones = None if who.role in ACK_ROLES else q.user_zones(self.store.read, who.name)

        def work(tx: Any) -> dict[str, Any]:
            record = self._record(tx.query, order_id)
            if record["status"] == "cancelled":
                raise Conflict("this order was cancelled", field="id", code="order_cancelled")
            codes = [c for c in record["villages"] if zones is None or self.zone_of(c) in zones]
            if not codes:
                raise Forbidden("this order is for villages outside your zones", field="id")
            now = tx.now()
            added = 0
            for code in codes:
                added += tx.execute(
                    "INSERT INTO order_acks (order_id, village_code, user_name, at_ts) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (order_id, village_code, user_name) DO NOTHING",
                    (record["id"], code, who.name, now),
                )
            view = self.view(tx.query, record)
            if added:
                tx.log(ENTITY, record["id"], "ack", view, actor=who.name)
            return view

        return self.store.transact(work)

    def resolve_short_id(self, short: str) -> str:
        """The open order whose id starts with `short` (≥ 6 hex digits, as an SMS 收到 <id> or
        a loudspeaker announcement quotes it); NotFound if none, InvalidInput if ambiguous."""
        from floodpost.errors import InvalidInput

        prefix = short.strip().lower()
        if len(prefix) < 6 or any(c not in "0123456789abcdef-" for c in prefix):
            raise InvalidInput("an order's short id is at least 6 hex digits", field="id")
        rows = self.store.read(
            "SELECT id FROM orders WHERE status = 'open' AND id >= ? AND id < ? LIMIT 2",
            [prefix, prefix + "\uffff"],
        )
        if not rows:
            raise NotFound("no open order with this short id", field="id")
        if len(rows) > 1:
            raise InvalidInput("several open orders start with this short id", field="id")
        return str(rows[0]["id"])

    def cancel(self, order_id: str, *, actor: str, reason: str | None = None) -> dict[str, Any]:
        def work(tx: Any) -> dict[str, Any]:
            record = self._record(tx.query, order_id)
            if record["status"] == "cancelled":
                return self.view(tx.query, record)
            now = tx.now()
            record.update(
                status="cancelled", cancelled_ts=now, cancelled_at=iso_utc(now), cancelled_by=actor
            )
            tx.execute(UPDATE_ORDER, ("cancelled", _dumps(record), record["id"]))
            view = self.view(tx.query, record)
            tx.log(ENTITY, record["id"], "cancel", view, actor=actor, reason=reason)
            return view

        return self.store.transact(work)

    def _completed_in(
        self, tx: Any, record: dict[str, Any], view: dict[str, Any], actor: str | None
    ) -> dict[str, Any]:
        """Inside a write: if `view` shows an open order complete, store and log that."""
        if record.get("status") != "open" or not newly_completed(record, view):
            return view
        now = tx.now()
        record.update(status="completed", completed_ts=now, completed_at=iso_utc(now))
        tx.execute(UPDATE_ORDER, ("completed", _dumps(record), record["id"]))
        view = self.view(tx.query, record)
        tx.log(ENTITY, record["id"], "complete", view, actor=actor)
        return view

    def complete_village_orders(self, tx: Any, code: str, actor: str | None) -> None:
        """Inside a write that changed a village's counts: complete its open orders now done."""
        for oid in q.open_orders_of_village(tx.query, code):
            found = q.order_record(tx.query, oid)
            if found is not None:
                record = found[0]
                self._completed_in(tx, record, self.view(tx.query, record), actor)

    # ---- CAP -----------------------------------------------------------------------------
    @property
    def areas(self) -> dict[str, CapArea]:
        if self._areas is None:
            self._areas = cap_areas(self.catalogue)
        return self._areas

    def cap(self, order_id: str) -> bytes:
        return order_to_cap(self._record(self.store.read, order_id), self.areas, self.sender)

    def atom(self, base_url: str, *, limit: int = 200) -> bytes:
        read = self.store.read
        records = []
        for oid in q.order_ids(read, limit=limit):
            found = q.order_record(read, oid)
            if found is not None:
                records.append(found[0])
        return alerts_atom(records, self.areas, self.sender, base_url=base_url, now_ts=self.clock())


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def field_entity_filter(
    zones: set[str], zone_of: Callable[[str], str | None]
) -> Callable[[str, dict[str, Any]], bool]:
    """What a field member's event stream carries besides their reports: the orders with a
    village in their zones and their zones' roll-call marks; no roster reads or imports (those
    name other people); other entities (warnings …) as for everyone."""

    def allow(entity: str, body: dict[str, Any]) -> bool:
        if entity == ENTITY:
            return any(zone_of(v.get("code", "")) in zones for v in body.get("villages", ()))
        if entity == "household":
            return body.get("zone_id") in zones
        return entity != "roster"

    return allow
