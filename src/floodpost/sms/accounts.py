"""Phones and accounts: who sent an SMS (users.phone, `floodpost user add --phone`) and whom an
order or a warning is texted to (the members whose user_zones cover its villages' zones).

Stored phones are written as typed (normalise_phone keeps "+86…"); gammu hands numbers over as
the operator wrote them. Both sides go through sms.gammu_env.normalize_phone before comparing,
so "+8613912345678", "008613912345678" and "13912345678" are one phone."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from floodpost.orders.service import Actor
from floodpost.sms.gammu_env import normalize_phone

Query = Callable[..., list[dict[str, Any]]]
_PHONES = "SELECT name, role, phone FROM users WHERE phone IS NOT NULL AND disabled = 0"


def account_of_phone(query: Query, number: str) -> Actor | None:
    """The enabled account whose phone this number is; None for a number nobody registered.
    A county has tens of accounts: reading them all is cheaper than a normalised index."""
    phone = normalize_phone(number)
    for row in query(_PHONES):
        if normalize_phone(row["phone"]) == phone:
            return Actor(str(row["name"]), str(row["role"]))
    return None


def phones_of_zones(query: Query, zones: Iterable[str]) -> list[tuple[str, str]]:
    """(account name, phone) of the enabled members answering for any of `zones`, by name."""
    wanted = sorted({z for z in zones if z})
    if not wanted:
        return []
    marks = ", ".join("?" * len(wanted))
    rows = query(
        "SELECT DISTINCT u.name, u.phone FROM users AS u JOIN user_zones AS z "
        f"ON z.user_name = u.name WHERE z.zone_id IN ({marks}) "
        "AND u.phone IS NOT NULL AND u.disabled = 0 ORDER BY u.name",
        wanted,
    )
    return [(str(r["name"]), str(r["phone"])) for r in rows]


def recipients(
    query: Query, villages: Sequence[str], zone_of: Callable[[str], str | None]
) -> list[tuple[str, str]]:
    """Who is texted about villages: the responsible members of their zones."""
    return phones_of_zones(query, (zone_of(code) or "" for code in villages))
