"""Which party-member zones a field member answers for, and the phone they text from.

`floodpost user add NAME --role field --zone Z001 --zone Z002 --phone +8613800000001` stores both
beside the account (users.phone, user_zones; migration 6) in one write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from floodpost.errors import InvalidInput

_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"^\+?\d{5,15}$")


def normalise_phone(value: str) -> str:
    """'+86 138-0000-0001' → '+8613800000001'; InvalidInput(field="phone") if not a number."""
    phone = _PHONE_JUNK.sub("", value)
    if not _PHONE.match(phone):
        raise InvalidInput(f"{value!r} is not a phone number", field="phone")
    return phone


def check_zones(zones: Sequence[str], catalogue: Any) -> list[str]:
    out: list[str] = []
    for z in zones:
        if catalogue.zone(z) is None:
            raise InvalidInput(f"unknown zone {z!r}", field="zone")
        if z not in out:
            out.append(z)
    return out


def set_contact(store: Any, name: str, *, zones: Sequence[str], phone: str | None) -> None:
    """Replace the account's zones and phone (checked values) in one transaction."""

    def work(tx: Any) -> None:
        if not tx.query("SELECT name FROM users WHERE name = ?", [name]):
            raise InvalidInput(f"no account {name!r}", field="name")
        if phone is not None:
            taken = tx.query("SELECT name FROM users WHERE phone = ? AND name <> ?", [phone, name])
            if taken:
                raise InvalidInput("another account has this phone", field="phone")
            tx.execute("UPDATE users SET phone = ? WHERE name = ?", (phone, name))
        tx.execute("DELETE FROM user_zones WHERE user_name = ?", (name,))
        tx.executemany(
            "INSERT INTO user_zones (user_name, zone_id) VALUES (?, ?)", [(name, z) for z in zones]
        )

    store.transact(work)


def zone_lookup(catalogue: Any, router: Any | None = None) -> Callable[[str], str | None]:
    """village code → zone id, as reports are routed: the zone listing the village, else the
    zone its outline lies in (ReportRouter); computed once for every village."""
    if router is None:
        from floodpost.geo.routing import ReportRouter

        router = ReportRouter(catalogue)
    table = {code: router.route(None, None, code).zone_id for code in catalogue.villages_by_code}
    return table.get
