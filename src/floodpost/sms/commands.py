"""The short structured texts field members send, as typed commands.

    转移 <村名或代码> <人数> [安置点]     evacuated people          -> Evacuate
    营救 <村> <人数>                       people rescued            -> Rescue
    求助 <村> <人数> <说明>                people asking for help    -> HelpRequest
    险情 <村或水库> <说明>                 a hazard (seepage, slide) -> Hazard
    收到 <指令编号>                        acknowledges an order     -> Ack
    户 <户编号> 已转移|安全|联系不上       roll-call of a household  -> Household

Full-width digits, letters and spaces, commas and extra whitespace are all accepted. A text that
cannot be read raises ParseError whose `reply` explains the format in Chinese and fits one SMS.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from floodpost.errors import InvalidInput
from floodpost.reports.model import MAX_PEOPLE
from floodpost.sms.outgoing import UCS2_LIMIT, units
from floodpost.sms.places import (
    AmbiguousPlace,
    Gazetteer,
    Place,
    PlaceMatcher,
    PlaceNotFound,
    candidate_names,
)

# Verbs and the words people also use for them.
VERBS = {
    "转移": "evacuate",
    "撤离": "evacuate",
    "营救": "rescue",
    "救出": "rescue",
    "求助": "help",
    "求救": "help",
    "险情": "hazard",
    "报险": "hazard",
    "收到": "ack",
    "已收到": "ack",
    "户": "household",
}
HOUSEHOLD_STATES = {
    "已转移": "evacuated",
    "转移": "evacuated",
    "已撤离": "evacuated",
    "安全": "safe",
    "联系不上": "unreachable",
    "失联": "unreachable",
}
FORMATS = {
    "evacuate": "转移 村名或代码 人数 [安置点]，如：转移 黄土村 35",
    "rescue": "营救 村名 人数，如：营救 黄土村 3",
    "help": "求助 村名 人数 说明，如：求助 黄土村 2 老人被困",
    "hazard": "险情 村名或水库 说明，如：险情 红岩水库 坝脚渗水",
    "ack": "收到 指令编号，如：收到 A1B2",
    "household": "户 户编号 已转移/安全/联系不上",
}
GENERAL_HELP = "未能识别。请按格式发：转移/营救/求助/险情 村名 人数…，收到 指令号，户 编号 状态"
_SEPARATORS = " ,，、;；:："
_PEOPLE = re.compile(r"^(\d{1,6})(?:人|名|口)?$")
_REF = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class ParseError(InvalidInput):
    """An SMS that is not a command; `reply` is the Chinese answer to send back (≤ 70 units)."""

    def __init__(self, reply: str, *, field: str = "text") -> None:
        super().__init__(reply, field=field)
        self.reply = _fit(reply)


def _fit(reply: str) -> str:
    while units(reply) > UCS2_LIMIT:
        reply = reply[:-2] + "…"
    return reply


@dataclass(frozen=True)
class Evacuate:
    village: Place
    people: int
    shelter: Place | None = None
    shelter_text: str = ""  # what was written when it matched no shelter


@dataclass(frozen=True)
class Rescue:
    village: Place
    people: int


@dataclass(frozen=True)
class HelpRequest:
    village: Place
    people: int
    note: str


@dataclass(frozen=True)
class Hazard:
    place: Place  # a village or a reservoir
    note: str


@dataclass(frozen=True)
class Ack:
    order_ref: str


@dataclass(frozen=True)
class Household:
    household_ref: str
    status: str  # "evacuated", "safe", "unreachable"


Command = Evacuate | Rescue | HelpRequest | Hazard | Ack | Household
REPORT_COMMANDS = (Evacuate, Rescue, HelpRequest, Hazard)


def normalize(text: str) -> str:
    """One space between words (full-width ones too), no outer whitespace. Fields are read
    through NFKC (full-width digits); notes keep the sender's own punctuation."""
    return re.sub(r"\s+", " ", text).strip()


def _nfkc(field: str) -> str:
    return unicodedata.normalize("NFKC", field).strip()


def _take(rest: str) -> tuple[str, str]:
    """The next field and what follows it; fields are split by spaces, commas or colons."""
    rest = rest.lstrip(_SEPARATORS)
    match = re.search("[" + re.escape(_SEPARATORS) + "]", rest)
    if match is None:
        return rest, ""
    return rest[: match.start()], rest[match.start() :].lstrip(_SEPARATORS)


def _verb(text: str) -> tuple[str, str]:
    for word in sorted(VERBS, key=len, reverse=True):  # 已收到 before 收到
        if text.startswith(word):
            return VERBS[word], text[len(word) :]
    raise ParseError(GENERAL_HELP)


def _place(matcher: PlaceMatcher, query: str, verb: str, what: str = "村") -> Place:
    if not query:
        raise ParseError(f"缺少{what}名。格式：{FORMATS[verb]}")
    try:
        return matcher.match(query)
    except AmbiguousPlace as exc:
        names = candidate_names(exc.candidates)
        shown = "、".join(names[:4]) + ("等" if len(names) > 4 else "")
        raise ParseError(f"“{query}”可指{len(names)}处：{shown}。请写全称或代码重发。") from None
    except PlaceNotFound:
        raise ParseError(f"未找到“{query}”。请写{what}名全称或代码，如：{FORMATS[verb]}") from None


def _people(token: str, verb: str) -> int:
    match = _PEOPLE.match(_nfkc(token))
    if not match:
        raise ParseError(f"人数应为数字。格式：{FORMATS[verb]}", field="people")
    people = int(match.group(1))
    if people > MAX_PEOPLE:
        raise ParseError(
            f"人数{people}过大（一条最多{MAX_PEOPLE}人），请核实后重发。", field="people"
        )
    return people


def parse_command(text: str, places: Gazetteer) -> Command:
    """The command `text` is; ParseError (with a reply) if it is none."""
    verb, rest = _verb(normalize(text))
    if verb == "ack":
        ref = _nfkc(_take(rest)[0])
        if not _REF.match(ref):
            raise ParseError(f"请写指令编号。格式：{FORMATS['ack']}", field="order")
        return Ack(ref.upper())
    if verb == "household":
        ref, rest = _take(rest)
        ref = _nfkc(ref)
        state = HOUSEHOLD_STATES.get(_nfkc(rest).strip(_SEPARATORS))
        if not _REF.match(ref) or state is None:
            raise ParseError(f"格式：{FORMATS['household']}", field="household")
        return Household(ref, state)
    if verb == "hazard":
        query, note = _take(rest)
        place = _place(places.villages + places.reservoirs, query, verb, "村或水库")
        if not note.strip():
            raise ParseError(f"请说明险情。格式：{FORMATS['hazard']}", field="note")
        return Hazard(place, note.strip())
    query, rest = _take(rest)
    village = _place(places.villages, query, verb)
    count, rest = _take(rest)
    people = _people(count, verb)
    if verb == "rescue":
        return Rescue(village, people)
    if verb == "help":
        if not rest.strip():
            raise ParseError(f"请说明求助内容。格式：{FORMATS['help']}", field="note")
        return HelpRequest(village, people, rest.strip())
    shelter_text = rest.strip(_SEPARATORS + "到至去")
    if not shelter_text:
        return Evacuate(village, people)
    try:
        return Evacuate(village, people, places.shelters.match(shelter_text))
    except LookupError:
        # A shelter we cannot name is kept as text: the count of evacuated people still matters.
        return Evacuate(village, people, None, shelter_text)
