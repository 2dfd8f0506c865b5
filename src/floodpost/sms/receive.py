"""What `floodpost sms receive` does with one message: parse it, turn a report command into a report
through the same intake as the form, and answer a text it cannot read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from floodpost.errors import Conflict, FloodpostError, Forbidden, InvalidInput, NotFound
from floodpost.orders.rollcall import RollCall
from floodpost.orders.service import Actor, OrderBook
from floodpost.reports.intake import Router, submit_report
from floodpost.sms import messages
from floodpost.sms.accounts import account_of_phone
from floodpost.sms.commands import REPORT_COMMANDS, Ack, Household, ParseError, parse_command
from floodpost.sms.gammu_env import IncomingSms
from floodpost.sms.outgoing import SendResult, SmsSender
from floodpost.sms.places import Gazetteer
from floodpost.sms.reports import report_from_command
from floodpost.sms.texts import sms_text
from floodpost.storage.base import Store


@dataclass(frozen=True)
class Outcome:
    key: str  # the message's idempotency key
    status: str  # see STATUSES
    command: str | None = None  # "Evacuate", "Ack", … when parsed
    report_id: str | None = None  # what it acted on: report, order or household (see link)
    reply: str | None = None
    sent: SendResult | None = None
    detail: str | None = None
    actor: str | None = None  # the account whose phone sent it

    @property
    def link(self) -> dict[str, str] | None:
        return link_of(self.command, self.report_id, self.status)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "command": self.command,
            "report_id": self.report_id,
            "reply": self.reply,
            "sent": self.sent.as_dict() if self.sent else None,
            "detail": self.detail,
            "actor": self.actor,
            "link": self.link,
        }


LINKED = frozenset({"created", "duplicate", "acknowledged", "marked"})


def link_of(command: str | None, target: str | None, status: str) -> dict[str, str] | None:
    """What a kept message acted on, from its command and the id kept beside it (a refused
    report keeps the id it would have had: no link)."""
    if not target or status not in LINKED:
        return None
    entity = {"Ack": "order", "Household": "household"}.get(command or "", "report")
    return {"entity": entity, "id": target}


STATUSES = (
    "created",  # a new report
    "duplicate",  # the same message was already turned into this report
    "unparsed",  # not a command: answered with the format
    "refused",  # a command refused (intake, order book, roll-call): answered with the reason
    "unknown_sender",  # a number no account has: kept for staff, answered, not acted on
    "acknowledged",  # 收到: the order acknowledged as the sender's account
    "marked",  # 户: the household's roll-call status set as the sender's account
)
_REFUSALS = ((NotFound, "not_found"), (Forbidden, "forbidden"), (Conflict, "cancelled"))
# 收到 / 户 without an order book (a caller that has none): kept, not acted on.
NO_ORDERS = "pending_orders"


def handle_sms(
    sms: IncomingSms,
    *,
    store: Store,
    router: Router,
    places: Gazetteer,
    sender: SmsSender | None,
    now: datetime,
    book: OrderBook | None = None,
) -> Outcome:
    """Act on one message once: a message kept already (same number, text and time) is a
    duplicate, neither acted on nor answered again. Every message is kept (sms_messages)."""
    kept = messages.find(store, sms.key)
    if kept is not None:
        return Outcome(sms.key, "duplicate", kept["command"], kept["report_id"])
    actor = account_of_phone(store.read, sms.number)
    if actor is None:
        reply = sms_text("sms.reply.unknown_sender")
        outcome = _answer(sms, Outcome(sms.key, "unknown_sender", reply=reply), sender)
    else:
        outcome = _act(
            sms, actor, store=store, router=router, places=places, sender=sender, now=now, book=book
        )
        outcome = replace(outcome, actor=actor.name)
    # Kept after acting: if this process dies in between, gammu's next run of the message finds
    # the report by its id (created=False) and keeps the message then.
    messages.record_incoming(store, sms, outcome)
    return outcome


def _act(
    sms: IncomingSms,
    actor: Actor,
    *,
    store: Store,
    router: Router,
    places: Gazetteer,
    sender: SmsSender | None,
    now: datetime,
    book: OrderBook | None,
) -> Outcome:
    try:
        cmd = parse_command(sms.text, places)
    except ParseError as exc:
        return _answer(sms, Outcome(sms.key, "unparsed", reply=exc.reply), sender)
    name = type(cmd).__name__
    if isinstance(cmd, Ack | Household):
        if book is None:
            return Outcome(sms.key, NO_ORDERS, name)
        return _answer(sms, _order_command(sms, cmd, actor, book), sender)
    assert isinstance(cmd, REPORT_COMMANDS)
    body = report_from_command(cmd, sms, now=now)
    assert body is not None
    try:
        _, created = submit_report(store, router, body, reporter=actor.name)
    except Conflict:
        # The same key with other content: the message came again without a time (gammu gave
        # none) and occurred_at fell back to "now". It is the same message: nothing new.
        return Outcome(sms.key, "duplicate", name, body["id"])
    except InvalidInput as exc:
        # The intake's own message (English, for staff) is kept in detail.
        reply = sms_text("sms.reply.refused")
        refused = Outcome(sms.key, "refused", name, body["id"], reply, detail=exc.message)
        return _answer(sms, refused, sender)
    return Outcome(sms.key, "created" if created else "duplicate", name, body["id"])


def _order_command(
    sms: IncomingSms, cmd: Ack | Household, actor: Actor, book: OrderBook
) -> Outcome:
    """收到 / 户 as the sender's account, with the authorisation of the HTTP routes (OrderBook.ack,
    RollCall.mark); both are idempotent, so a re-run after a crash changes nothing twice."""
    name = type(cmd).__name__
    try:
        if isinstance(cmd, Ack):
            oid = book.resolve_short_id(cmd.order_ref)
            book.ack(oid, actor)
            reply = sms_text("sms.reply.acknowledged", short_id=oid[:8])
            return Outcome(sms.key, "acknowledged", name, oid, reply)
        RollCall(book).mark(cmd.household_ref, {"status": cmd.status}, actor)
        word = sms_text(f"sms.household.{cmd.status}")
        reply = sms_text("sms.reply.marked", household=cmd.household_ref[:20], status=word)
        return Outcome(sms.key, "marked", name, cmd.household_ref, reply)
    except FloodpostError as exc:
        what = "order" if isinstance(cmd, Ack) else "household"
        why = next((w for k, w in _REFUSALS if isinstance(exc, k)), "invalid")
        reply = sms_text(f"sms.reply.{what}_{why}")
        return Outcome(sms.key, "refused", name, reply=reply, detail=exc.message)


def _answer(sms: IncomingSms, outcome: Outcome, sender: SmsSender | None) -> Outcome:
    if sender is None or outcome.reply is None:
        return outcome
    return replace(outcome, sent=sender.send(sms.number, outcome.reply))
