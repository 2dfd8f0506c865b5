"""转移/营救/求助/险情 commands as the same report body the form posts (POST /api/reports), with
an id derived from the message's idempotency key, so a re-run of the same SMS creates nothing
twice."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from floodpost.reports.model import MAX_NOTE_CHARS
from floodpost.reports.stored import LOCAL_TZ
from floodpost.sms.commands import Command, Evacuate, Hazard, HelpRequest, Rescue
from floodpost.sms.gammu_env import IncomingSms

# Fixed forever: report ids made from SMS keys must come out the same in every version.
SMS_NAMESPACE = uuid.UUID("6f1c1a52-3e0b-5d52-9a57-5c0d0e1f5a11")

# Words in a hazard note -> (incident subtype, reservoir status when it is about a reservoir).
_HAZARD_WORDS = (
    (("溃坝", "垮坝", "决口"), "dam_damage", "failed"),
    (("漫坝", "漫顶", "翻坝"), "overtopping", "danger"),
    (("管涌",), "piping", "danger"),
    (("裂缝", "塌陷", "坝体"), "dam_damage", "danger"),
    (("渗水", "渗漏", "浸水"), "seepage", "seepage"),
    (("滑坡", "塌方", "泥石流"), "landslide", None),
    (("路断", "道路中断", "冲毁", "断路"), "road_cut", None),
    (("停电", "断电"), "power_outage", None),
    (("没信号", "通信中断", "断网"), "telecom_outage", None),
    (("死亡", "遇难"), "death", None),
    (("失踪",), "missing", None),
)


def report_id(key: str) -> str:
    return str(uuid.uuid5(SMS_NAMESPACE, key))


def hazard_kind(note: str, *, reservoir: bool) -> tuple[str, str | None]:
    """(subtype, reservoir_status) a hazard note suggests; ("other", None) if it names none."""
    for words, subtype, status in _HAZARD_WORDS:
        if any(w in note for w in words):
            # Seepage and piping happen at village embankments too; only a reservoir has a status.
            return subtype, status if reservoir else None
    return "other", None


def report_from_command(cmd: Command, sms: IncomingSms, *, now: datetime) -> dict[str, Any] | None:
    """The report body for a report command (None for 收到/户): occurred when the SMS was sent
    (else `now`), the sender's number and the original text in the note."""
    occurred = (sms.sent or now).astimezone(LOCAL_TZ)
    # The reporter is the account whose phone sent it (receive.py); the number heads the note
    # so staff calling back see which phone it came from.
    note = f"短信 {sms.number}：{sms.text}"[:MAX_NOTE_CHARS]
    body: dict[str, Any] = {
        "id": report_id(sms.key),
        "occurred_at": occurred.isoformat(),
        "note": note,
    }
    if isinstance(cmd, Evacuate):
        body.update(kind="evacuation", village_code=cmd.village.key, people=cmd.people)
        if cmd.shelter is not None:
            body["shelter_id"] = cmd.shelter.key
    elif isinstance(cmd, Rescue):
        body.update(kind="rescue", village_code=cmd.village.key, people=cmd.people)
    elif isinstance(cmd, HelpRequest):
        body.update(
            kind="help_request",
            village_code=cmd.village.key,
            people=cmd.people,
            contact=sms.number[:120],
        )
    elif isinstance(cmd, Hazard):
        place = cmd.place
        reservoir = place.kind == "reservoir"
        subtype, status = hazard_kind(cmd.note, reservoir=reservoir)
        body.update(kind="incident", subtype=subtype, people=0)
        if reservoir:
            body.update(reservoir_id=place.key, reservoir_status=status)
        if place.village_code:
            body["village_code"] = place.village_code
        elif place.lon is not None and place.lat is not None:
            body.update(lon=place.lon, lat=place.lat)
    else:
        return None
    return body
