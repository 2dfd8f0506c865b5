"""What `floodpost sms receive` does with one message: parse it, turn a report command into a report
through the same intake as the form, and answer a text it cannot read."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from floodpost.errors import Conflict, InvalidInput
from floodpost.reports.intake import Router, submit_report
from floodpost.sms import messages
from floodpost.sms.commands import REPORT_COMMANDS, Ack, Household, ParseError, parse_command
from floodpost.sms.gammu_env import IncomingSms
from floodpost.sms.outgoing import SendResult, SmsSender
from floodpost.sms.places import Gazetteer
from floodpost.sms.reports import report_from_command, reporter_of
from floodpost.sms.texts import sms_text
from floodpost.storage.base import Store


@dataclass(frozen=True)
class Outcome:
    key: str  # the message's idempotency key
    status: str  # see STATUSES
    command: str | None = None  # "Evacuate", "Ack", … when parsed
    report_id: str | None = None
    reply: str | None = None
    sent: SendResult | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "command": self.command,
            "report_id": self.report_id,
            "reply": self.reply,
            "sent": self.sent.as_dict() if self.sent else None,
            "detail": self.detail,
        }


STATUSES = (
    "created",  # a new report
    "duplicate",  # the same message was already turned into this report
    "unparsed",  # not a command: answered with the format
    "refused",  # a command the report intake refused: answered with the reason
    # 收到 / 户: acknowledgements and roll-call come with orders (#10); kept, not acted on yet.
    "pending_orders",
)


def handle_sms(
    sms: IncomingSms,
    *,
    store: Store,
    router: Router,
    places: Gazetteer,
    sender: SmsSender | None,
    now: datetime,
) -> Outcome:
    """Act on one message once: a message kept already (same number, text and time) is a
    duplicate, neither acted on nor answered again. Every message is kept (sms_messages)."""
    kept = messages.find(store, sms.key)
    if kept is not None:
        return Outcome(sms.key, "duplicate", kept["command"], kept["report_id"])
    outcome = _act(sms, store=store, router=router, places=places, sender=sender, now=now)
    # Kept after acting: if this process dies in between, gammu's next run of the message finds
    # the report by its id (created=False) and keeps the message then.
    messages.record_incoming(store, sms, outcome)
    return outcome


def _act(
    sms: IncomingSms,
    *,
    store: Store,
    router: Router,
    places: Gazetteer,
    sender: SmsSender | None,
    now: datetime,
) -> Outcome:
    try:
        cmd = parse_command(sms.text, places)
    except ParseError as exc:
        return _answer(sms, Outcome(sms.key, "unparsed", reply=exc.reply), sender)
    name = type(cmd).__name__
    if isinstance(cmd, Ack | Household):
        # TODO(#11): acknowledge the order / set the household's roll-call status once orders
        # (#10) are merged, for a sender whose phone belongs to a responsible member.
        return Outcome(sms.key, "pending_orders", name)
    assert isinstance(cmd, REPORT_COMMANDS)
    body = report_from_command(cmd, sms, now=now)
    assert body is not None
    # TODO(#11, users.phone): report as the account whose phone sent this; policy for unknown
    # phones (accept as now, or hold for staff) is the next step's.
    try:
        _, created = submit_report(store, router, body, reporter=reporter_of(sms))
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


def _answer(sms: IncomingSms, outcome: Outcome, sender: SmsSender | None) -> Outcome:
    if sender is None or outcome.reply is None:
        return outcome
    return replace(outcome, sent=sender.send(sms.number, outcome.reply))
