"""Every SMS in and out, kept (table sms_messages, migration 7) and logged to the change log as
entity "sms", so the command post's event stream carries them (`event: sms`) and staff can read
what could not be parsed.

Written through Store.transact: the row and its change-log entry commit together."""

from __future__ import annotations

import json
import uuid
from typing import Any

from floodpost.sms.gammu_env import IncomingSms, normalize_phone
from floodpost.sms.outgoing import SendResult, SmsSender
from floodpost.sms.reports import SMS_NAMESPACE
from floodpost.storage.base import Store, WriteTx

COLUMNS = (
    "id", "direction", "number", "phone", "text", "sent_ts", "at_ts", "status", "command",
    "report_id", "in_reply_to", "gateway_ids", "detail",
)  # fmt: skip
# Who reads SMS (they carry phone numbers): the staff who answer them and commanders.
READER_ROLES = frozenset({"commander", "staff"})
_INSERT = (
    f"INSERT INTO sms_messages ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (id) DO NOTHING"
)


def sms_readable(role: str) -> bool:
    return role in READER_ROLES


def reply_id(key: str) -> str:
    """The id of the reply to incoming message `key`: one reply per message, however often
    gammu hands it over."""
    return str(uuid.uuid5(SMS_NAMESPACE, "reply:" + key))


def _row(values: dict[str, Any]) -> dict[str, Any]:
    return {c: values.get(c) for c in COLUMNS}


def _insert(tx: WriteTx, row: dict[str, Any], action: str, actor: str | None) -> bool:
    params = [json.dumps(row["gateway_ids"]) if c == "gateway_ids" else row[c] for c in COLUMNS]
    if tx.execute(_INSERT, params) == 0:
        return False
    tx.log("sms", row["id"], action, row, actor=actor)
    return True


def _out_row(result: SendResult, ident: str, at: float, in_reply_to: str | None) -> dict:
    return _row(
        {
            "id": ident,
            "direction": "out",
            "number": result.number,
            "phone": normalize_phone(result.number),
            "text": result.text,
            "at_ts": at,
            "status": result.status,
            "in_reply_to": in_reply_to,
            "gateway_ids": list(result.ids),
            "detail": result.error,
        }
    )


def find(store: Store, ident: str) -> dict[str, Any] | None:
    rows = store.read(f"SELECT {', '.join(COLUMNS)} FROM sms_messages WHERE id = ?", (ident,))
    if not rows:
        return None
    row = dict(rows[0])
    row["gateway_ids"] = json.loads(row["gateway_ids"]) if row["gateway_ids"] else []
    return row


def record_incoming(store: Store, sms: IncomingSms, outcome: Any) -> bool:
    """Keep an incoming message with what became of it (Outcome), and its reply if one was
    sent; False if it was kept already."""

    def work(tx: WriteTx) -> bool:
        at = tx.now()
        row = _row(
            {
                "id": sms.key,
                "direction": "in",
                "number": sms.number,
                "phone": normalize_phone(sms.number),
                "text": sms.text,
                "sent_ts": sms.sent.timestamp() if sms.sent else None,
                "at_ts": at,
                "status": outcome.status,
                "command": outcome.command,
                "report_id": outcome.report_id,
                "gateway_ids": list(sms.ids),
                "detail": outcome.detail,
            }
        )
        # The account whose phone sent it; an unregistered number is named as such.
        actor = getattr(outcome, "actor", None) or f"sms:{normalize_phone(sms.number)}"
        created = _insert(tx, row, "received", actor)
        if created and outcome.sent is not None:
            _insert(tx, _out_row(outcome.sent, reply_id(sms.key), at, sms.key), "queued", None)
        return created

    return store.transact(work)


def send(store: Store, sender: SmsSender, number: str, text: str, *, key: str) -> dict[str, Any]:
    """Send `text` to `number` once for `key` (e.g. "order:<id>:<number>") and keep it: a second
    call with the same key sends nothing and returns what was kept."""
    ident = str(uuid.uuid5(SMS_NAMESPACE, "out:" + key))
    kept = find(store, ident)
    if kept is not None and kept["status"] != "failed":
        return kept
    result = sender.send(number, text)

    def work(tx: WriteTx) -> dict[str, Any]:
        row = _out_row(result, ident, tx.now(), None)
        if kept is not None:  # a failed send tried again: the row follows the new attempt
            tx.execute("DELETE FROM sms_messages WHERE id = ?", (ident,))
        _insert(tx, row, result.status, None)
        return row

    return store.transact(work)


def follow_sent(store: Store, gateway: Any) -> int:
    """Move queued outgoing messages on to "sent" or "failed" as gammu's folders show
    (GammuConfig.send_state); returns how many changed."""
    queued = store.read(
        "SELECT id, gateway_ids FROM sms_messages WHERE direction = 'out' AND status = 'queued'"
    )
    changes = []
    for row in queued:
        states = {gateway.send_state(i) for i in json.loads(row["gateway_ids"] or "[]")}
        state = "failed" if "failed" in states else "sent" if states == {"sent"} else None
        if state:
            changes.append((row["id"], state))

    def work(tx: WriteTx) -> int:
        for ident, state in changes:
            if tx.execute(
                "UPDATE sms_messages SET status = ? WHERE id = ? AND status = 'queued'",
                (state, ident),
            ):
                tx.log("sms", ident, state, {"id": ident, "status": state}, actor=None)
        return len(changes)

    return store.transact(work) if changes else 0


def recent(store: Store, limit: int = 200) -> list[dict[str, Any]]:
    """The latest messages, newest first (the command post's messages list)."""
    rows = store.read(
        f"SELECT {', '.join(COLUMNS)} FROM sms_messages ORDER BY at_ts DESC, id LIMIT ?",
        (int(limit),),
    )
    for row in rows:
        row["gateway_ids"] = json.loads(row["gateway_ids"]) if row["gateway_ids"] else []
    return rows


# What staff must look at: texts nobody could act on.
ATTENTION = ("unparsed", "unknown_sender", "refused")


def listed(store: Store, *, limit: int = 200, attention: bool = False) -> list[dict[str, Any]]:
    """GET /api/sms: newest first, each with what it acted on (`link`); `attention` keeps the
    incoming ones staff must answer by hand (ATTENTION)."""
    from floodpost.sms.receive import link_of

    if attention:
        marks = ", ".join("?" * len(ATTENTION))
        rows = store.read(
            f"SELECT {', '.join(COLUMNS)} FROM sms_messages WHERE direction = 'in' "
            f"AND status IN ({marks}) ORDER BY at_ts DESC, id LIMIT ?",
            (*ATTENTION, int(limit)),
        )
        for row in rows:
            row["gateway_ids"] = json.loads(row["gateway_ids"]) if row["gateway_ids"] else []
    else:
        rows = recent(store, limit)
    for row in rows:
        row["link"] = link_of(row["command"], row["report_id"], row["status"])
    return rows
