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
from floodpost.sms.texts import sms_text

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
VERB_NAMES = ("evacuate", "rescue", "help", "hazard", "ack", "household")
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
    raise ParseError(sms_text("sms.reply.general"))


def _format(verb: str) -> str:
    return sms_text(f"sms.format.{verb}")


def _place(matcher: PlaceMatcher, query: str, verb: str, what_key: str = "village") -> Place:
    what = sms_text(f"sms.what.{what_key}")
    if not query:
        raise ParseError(sms_text("sms.reply.missing_place", what=what, format=_format(verb)))
    try:
        return matcher.match(query)
    except AmbiguousPlace as exc:
        names = candidate_names(exc.candidates)
        shown = sms_text("sms.list_separator").join(names[:4])
        if len(names) > 4:
            shown += sms_text("sms.reply.ambiguous_more")
        reply = sms_text("sms.reply.ambiguous", query=query, count=len(names), names=shown)
        raise ParseError(reply) from None
    except PlaceNotFound:
        reply = sms_text("sms.reply.not_found", query=query, what=what, format=_format(verb))
        raise ParseError(reply) from None


def _people(token: str, verb: str) -> int:
    match = _PEOPLE.match(_nfkc(token))
    if not match:
        reply = sms_text("sms.reply.people_not_number", format=_format(verb))
        raise ParseError(reply, field="people")
    people = int(match.group(1))
    if people > MAX_PEOPLE:
        reply = sms_text("sms.reply.people_too_many", people=people, max=MAX_PEOPLE)
        raise ParseError(reply, field="people")
    return people


def parse_command(text: str, places: Gazetteer) -> Command:
    """The command `text` is; ParseError (with a reply) if it is none."""
    verb, rest = _verb(normalize(text))
    if verb == "ack":
        ref = _nfkc(_take(rest)[0])
        if not _REF.match(ref):
            reply = sms_text("sms.reply.missing_order", format=_format("ack"))
            raise ParseError(reply, field="order")
        return Ack(ref.upper())
    if verb == "household":
        ref, rest = _take(rest)
        ref = _nfkc(ref)
        state = HOUSEHOLD_STATES.get(_nfkc(rest).strip(_SEPARATORS))
        if not _REF.match(ref) or state is None:
            reply = sms_text("sms.reply.household_format", format=_format("household"))
            raise ParseError(reply, field="household")
        return Household(ref, state)
    if verb == "hazard":
        query, note = _take(rest)
        place = _place(places.villages + places.reservoirs, query, verb, "village_or_reservoir")
        if not note.strip():
            reply = sms_text("sms.reply.missing_hazard", format=_format("hazard"))
            raise ParseError(reply, field="note")
        return Hazard(place, note.strip())
    query, rest = _take(rest)
    village = _place(places.villages, query, verb)
    count, rest = _take(rest)
    people = _people(count, verb)
    if verb == "rescue":
        return Rescue(village, people)
    if verb == "help":
        if not rest.strip():
            reply = sms_text("sms.reply.missing_help", format=_format("help"))
            raise ParseError(reply, field="note")
        return HelpRequest(village, people, rest.strip())
    shelter_text = rest.strip(_SEPARATORS + "到至去")
    if not shelter_text:
        return Evacuate(village, people)
    try:
        return Evacuate(village, people, places.shelters.match(shelter_text))
    except LookupError:
        # A shelter we cannot name is kept as text: the count of evacuated people still matters.
        return Evacuate(village, people, None, shelter_text)
