"""Household roll-call over the store: import the roster, read a village's roll, mark households.

Personal data (names, phones) is shown only to commanders, staff and the responsible field
member; a viewer gets counts. Every roster read by someone who sees names is written to the
audit log (entity "roster", action "read"), and every mark is logged under entity "household"
with a body *without* names or phones, because the live stream reaches every signed-in user.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from floodpost.errors import Forbidden, InvalidInput, NotFound
from floodpost.orders import queries as q
from floodpost.orders.households import Household
from floodpost.orders.progress import MARK_STATUSES, roll_of, rollcall_order
from floodpost.orders.service import Actor, OrderBook
from floodpost.reports.model import iso_utc

NAME_ROLES = frozenset({"commander", "staff"})
MAX_NOTE_CHARS = 500
_COLUMNS = "id, village_code, zone_id, people, status, status_ts, status_by, note, body"


def _hash(h: Household) -> str:
    canon = json.dumps(h.record(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()


def import_households(
    store: Any,
    households: Sequence[Household],
    *,
    zone_of: Callable[[str], str | None],
    actor: str | None,
    source: str = "",
) -> dict[str, int]:
    """Store a parsed roster in one transaction: new households added, changed ones updated
    (their roll-call status kept), identical ones untouched. {"added", "updated", "unchanged"}."""

    def work(tx: Any) -> dict[str, int]:
        known: dict[str, str] = {}
        touched: set[str] = set()
        ids = [h.id for h in households]
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" * len(part))
            for r in tx.query(
                f"SELECT id, village_code, content_hash FROM households WHERE id IN ({marks})",
                part,
            ):
                known[r["id"]] = r["content_hash"]
                touched.add(r["village_code"])  # a household may move to another village
        new, changed = [], []
        for h in households:
            digest = _hash(h)
            body = json.dumps(h.record(), ensure_ascii=False, separators=(",", ":"))
            if h.id not in known:
                new.append((h.id, h.village_code, zone_of(h.village_code), h.people, digest, body))
            elif known[h.id] != digest:
                changed.append(
                    (h.village_code, zone_of(h.village_code), h.people, digest, body, h.id)
                )
        tx.executemany(
            "INSERT INTO households (id, village_code, zone_id, people, status, content_hash, "
            "body) VALUES (?, ?, ?, ?, 'unknown', ?, ?)",
            new,
        )
        tx.executemany(
            "UPDATE households SET village_code = ?, zone_id = ?, people = ?, content_hash = ?, "
            "body = ? WHERE id = ?",
            changed,
        )
        if new or changed:
            q.refresh_totals(tx, touched | {h.village_code for h in households})
        counts = {
            "added": len(new),
            "updated": len(changed),
            "unchanged": len(households) - len(new) - len(changed),
        }
        if new or changed:
            tx.log("roster", "import", "import", {"source": source, **counts}, actor=actor)
        return counts

    return store.transact(work)


def _public(row: dict[str, Any], *, names: bool, phones: bool) -> dict[str, Any]:
    body = json.loads(row["body"])
    out: dict[str, Any] = {
        "id": row["id"],
        "village_code": row["village_code"],
        "people": int(row["people"]),
        "needs": body.get("needs") or [],
        "status": row["status"],
        "status_at": iso_utc(float(row["status_ts"])) if row["status_ts"] is not None else None,
        "status_by": row["status_by"],
        "note": row["note"],
        "lon": body.get("lon"),
        "lat": body.get("lat"),
    }
    if names:
        out["head"] = body.get("head")
    if phones:
        out["phone"] = body.get("phone")
    return out


class RollCall:
    def __init__(self, book: OrderBook) -> None:
        self.book = book
        self.store = book.store

    def _may_see_names(self, who: Actor, zone_id: str | None) -> bool:
        if who.role in NAME_ROLES:
            return True
        if who.role == "field":
            if zone_id is None or zone_id not in q.user_zones(self.store.read, who.name):
                raise Forbidden("this village is outside your zones", field="village")
            return True
        if who.role == "viewer":
            return False
        raise Forbidden("this role may not read the roll-call")

    def villages(self, who: Actor) -> dict[str, Any]:
        """GET /api/rollcall without `village`: counts per village a user calls the roll of — a
        field member their zones' villages, others every village with a roster."""
        if who.role == "field":
            zones = q.user_zones(self.store.read, who.name)
            codes = [
                c for c in self.book.catalogue.villages_by_code if self.book.zone_of(c) in zones
            ]
        elif who.role in NAME_ROLES or who.role == "viewer":
            codes = [
                r["village_code"]
                for r in self.store.read(
                    "SELECT DISTINCT village_code FROM households ORDER BY village_code"
                )
            ]
        else:
            raise Forbidden("this role may not read the roll-call")
        counts = q.rolls(self.store.read, codes) if codes else {}
        out = []
        for code in codes:
            roll = counts.get(code)
            v = self.book.catalogue.village(code) or {}
            people = roll.people if roll else 0
            accounted = roll.accounted_people if roll else 0
            out.append({
                "village": code, "name": v.get("name", code),
                "households": roll.households if roll else 0,
                "people": people, "accounted": accounted, "unaccounted": people - accounted,
            })  # fmt: skip
        return {"villages": out}

    def village(self, code: str | None, who: Actor) -> dict[str, Any]:
        """GET /api/rollcall?village=CODE: counts, and the households for those who may see them
        (most vulnerable first). Reading names is audited."""
        if code is None:
            return self.villages(who)
        if not code or self.book.catalogue.village(code) is None:
            raise InvalidInput("village must be a known 12-digit village code", field="village")
        names = self._may_see_names(who, self.book.zone_of(code))
        rows = self.store.read(f"SELECT {_COLUMNS} FROM households WHERE village_code = ?", [code])
        households = [_public(r, names=names, phones=names) for r in rows]
        roll = roll_of(households)
        out: dict[str, Any] = {
            "village": code,
            "name": self.book.catalogue.village(code).get("name"),
            "households_total": roll.households,
            "people": roll.people,
            "accounted": roll.accounted_people,
            "unaccounted": roll.unaccounted_people,
            "households_accounted": roll.accounted,
        }
        if names:
            out["households"] = rollcall_order(households)

            def audit(tx: Any) -> None:
                body = {"village": code, "households": roll.households, "reader": who.name}
                tx.log("roster", code, "read", body, actor=who.name)

            self.store.transact(audit)
        return out

    def mark(self, household_id: str, data: Any, who: Actor) -> dict[str, Any]:
        """POST /api/rollcall/{id}: set a household's status (staff, commanders, or the field
        member responsible for its zone); logged, and completes orders it finishes."""
        if not isinstance(data, dict):
            raise InvalidInput("the body must be a JSON object", field="body")
        status = data.get("status")
        if status not in MARK_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(MARK_STATUSES)}", field="status")
        note = data.get("note")
        if note is not None and (
            not isinstance(note, str) or len(note) > MAX_NOTE_CHARS or "\x00" in note
        ):
            raise InvalidInput(f"note must be text of at most {MAX_NOTE_CHARS}", field="note")
        unknown = set(data) - {"status", "note"}
        if unknown:
            raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
        if who.role not in NAME_ROLES and who.role != "field":
            raise Forbidden("only staff or the responsible field member mark households")
        zones = None if who.role in NAME_ROLES else q.user_zones(self.store.read, who.name)

        def work(tx: Any) -> dict[str, Any]:
            rows = tx.query(f"SELECT {_COLUMNS} FROM households WHERE id = ?", [household_id])
            if not rows:
                raise NotFound("no household with this id", field="id")
            row = rows[0]
            if zones is not None and row["zone_id"] not in zones:
                raise Forbidden("this household is outside your zones", field="id")
            if (row["status"], row["note"], row["status_by"]) == (status, note, who.name):
                # The same mark again (the outbox resending after a lost answer): no new entry.
                public = _public(row, names=False, phones=False)
                public["zone_id"] = row["zone_id"]
                return public
            now = tx.now()
            tx.execute(
                "UPDATE households SET status = ?, status_ts = ?, status_by = ?, note = ? "
                "WHERE id = ?",
                (status, now, who.name, note, household_id),
            )
            row.update(status=status, status_ts=now, status_by=who.name, note=note)
            public = _public(row, names=False, phones=False)
            public["zone_id"] = row["zone_id"]
            tx.log("household", household_id, status, public, actor=who.name)
            self.book.complete_village_orders(tx, row["village_code"], who.name)
            return public

        return self.store.transact(work)

    def export_csv(self, code: str | None, who: Actor, *, phones: bool) -> bytes:
        """The roster (one village, or all) as CSV for commanders and staff. Phones are left
        out unless a commander asks for them; every export is in the audit log."""
        import csv
        import io

        from floodpost.export.columns import neutralise

        if who.role not in NAME_ROLES:
            raise Forbidden("only commanders and staff export the roster")
        if phones and who.role != "commander":
            raise Forbidden("only a commander exports phone numbers", field="phones")
        if code is not None and self.book.catalogue.village(code) is None:
            raise InvalidInput("village must be a known 12-digit village code", field="village")
        where, params = ("WHERE village_code = ?", [code]) if code else ("", [])
        rows = self.store.read(
            f"SELECT {_COLUMNS} FROM households {where} ORDER BY village_code, id", params
        )
        out = io.StringIO()
        writer = csv.writer(out)
        head = ["id", "village_code", "village", "head", "people", "needs", "status"]
        head += ["status_at", "status_by", "note"] + (["phone"] if phones else [])
        writer.writerow(head)
        for r in rows:
            h = _public(r, names=True, phones=phones)
            v = self.book.catalogue.village(h["village_code"]) or {}
            values = [h["id"], h["village_code"], v.get("name"), h["head"], h["people"],
                      ";".join(h["needs"]), h["status"], h["status_at"], h["status_by"], h["note"]]  # fmt: skip
            if phones:
                values.append(h.get("phone"))
            writer.writerow(["" if x is None else neutralise(x) for x in values])

        def audit(tx: Any) -> None:
            body = {"village": code, "households": len(rows), "reader": who.name, "phones": phones}
            tx.log("roster", code or "all", "export", body, actor=who.name)

        self.store.transact(audit)
        # A BOM so that Excel on Chinese Windows reads the UTF-8 names right.
        return ("\ufeff" + out.getvalue()).encode("utf-8")
