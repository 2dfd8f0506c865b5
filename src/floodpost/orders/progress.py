"""How far an evacuation order has got: pure functions over counts the store keeps.

The rules of orders live here (floodpost.rules names this module for them):
- people evacuated for an order = the people of *active evacuation* reports in the village that
  *occurred at or after* the order's `issued_at` (a report of last night's move does not count);
- a household is *accounted for* once its roll-call status is `evacuated` or `safe`
  (`unreachable` and `missing` are exactly the households still to find);
- a village is *done* when its evacuated people reach its population, or when it has a roster and
  every household on it is accounted for; an order is `completed` when every village is done;
- people *at risk* in a village of an open `evacuate` order = the people not yet accounted for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ROLLCALL_STATUSES = ("unknown", "evacuated", "safe", "unreachable", "missing")
MARK_STATUSES = ROLLCALL_STATUSES[1:]  # what a member may set
ACCOUNTED_STATUSES = frozenset({"evacuated", "safe"})
# Needs in the order the roll-call lists them: who cannot leave alone comes first (先老幼病残).
NEEDS = ("bedridden", "disabled", "pregnant", "elderly", "child")
_NEED_WEIGHT = {"bedridden": 16, "disabled": 8, "pregnant": 4, "elderly": 2, "child": 1}


@dataclass(frozen=True, slots=True)
class VillageRoll:
    """Roll-call counts of one village: households and people, all and accounted for."""

    households: int = 0
    accounted: int = 0
    people: int = 0
    accounted_people: int = 0

    @property
    def unaccounted_people(self) -> int:
        return self.people - self.accounted_people


def counts_evacuation(report: Mapping[str, Any], issued_ts: float) -> bool:
    """Whether a report adds its people to an order issued at `issued_ts`."""
    return (
        report.get("kind") == "evacuation"
        and report.get("status") == "active"
        and float(report.get("occurred_ts") or 0.0) >= issued_ts
    )


def evacuated_since(
    reports: Iterable[Mapping[str, Any]], issued_ts: float, codes: Iterable[str]
) -> dict[str, int]:
    """People evacuated per village since the order (the reference the store's counts match)."""
    out = dict.fromkeys(codes, 0)
    for r in reports:
        code = r.get("village_code")
        if code in out and counts_evacuation(r, issued_ts):
            out[code] += int(r.get("people") or 0)
    return out


def roll_of(households: Iterable[Mapping[str, Any]]) -> VillageRoll:
    """Counts of a list of households (each with `people` and `status`)."""
    n = acc = people = acc_people = 0
    for h in households:
        p = int(h.get("people") or 0)
        n += 1
        people += p
        if h.get("status") in ACCOUNTED_STATUSES:
            acc += 1
            acc_people += p
    return VillageRoll(n, acc, people, acc_people)


def village_done(population: int, evacuated: int, roll: VillageRoll) -> bool:
    if evacuated >= population:
        return True
    return roll.households > 0 and roll.accounted == roll.households


def village_at_risk(population: int, evacuated: int, roll: VillageRoll) -> int:
    """People not yet known to be out or safe: the roster's unaccounted people where there is a
    roster, otherwise the population not yet reported evacuated."""
    if village_done(population, evacuated, roll):
        return 0
    if roll.households:
        return roll.unaccounted_people
    return max(0, population - evacuated)


def order_progress(
    order: Mapping[str, Any],
    villages: Mapping[str, Mapping[str, Any]],
    evacuated: Mapping[str, int],
    acks: Mapping[str, Sequence[Mapping[str, Any]]],
    rolls: Mapping[str, VillageRoll],
) -> dict[str, Any]:
    """The order as GET /api/orders/{id} returns it: its record plus progress per village.

    `villages` gives each code's `name` and `population`; `acks` the acknowledgements of each
    village (`{"user", "at"}`, oldest first). A cancelled order keeps its figures and its status.
    """
    rows = []
    for code in order["villages"]:
        v = villages.get(code) or {}
        population = int(v.get("population") or 0)
        done_people = int(evacuated.get(code, 0))
        roll = rolls.get(code) or VillageRoll()
        rows.append(
            {
                "code": code,
                "name": v.get("name", code),
                "name_en": v.get("name_en"),
                "population": population,
                "evacuated": done_people,
                "acknowledged_by": [dict(a) for a in acks.get(code, ())],
                "households": roll.households,
                "accounted": roll.accounted,
                "people_listed": roll.people,
                "people_accounted": roll.accounted_people,
                "at_risk": village_at_risk(population, done_people, roll),
                "done": village_done(population, done_people, roll),
            }
        )
    out = {k: v for k, v in order.items() if k != "villages"}
    out.update(order_timings(order, acks))
    status = order.get("status", "open")
    if status == "open" and rows and all(r["done"] for r in rows):
        status = "completed"
    out.update(
        status=status,
        population=sum(r["population"] for r in rows),
        evacuated=sum(r["evacuated"] for r in rows),
        acknowledged=sum(1 for r in rows if r["acknowledged_by"]),
        households=sum(r["households"] for r in rows),
        accounted=sum(r["accounted"] for r in rows),
        at_risk=sum(r["at_risk"] for r in rows) if status != "cancelled" else 0,
        villages_done=sum(1 for r in rows if r["done"]),
        villages=rows,
    )
    return out


def order_timings(
    order: Mapping[str, Any], acks: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, float | None]:
    """Seconds from issue to the first acknowledgement, to every village acknowledged, and to
    completion (None until it happens): the /review figures. `acks` entries carry `at_ts`."""
    issued = float(order["issued_ts"])
    firsts = [min(float(a["at_ts"]) for a in acks[c]) for c in order["villages"] if acks.get(c)]
    every = len(firsts) == len(order["villages"]) and firsts
    done = order.get("completed_ts")
    return {
        "first_ack_after_s": round(min(firsts) - issued, 3) if firsts else None,
        "all_ack_after_s": round(max(firsts) - issued, 3) if every else None,
        "completed_after_s": round(float(done) - issued, 3) if done is not None else None,
    }


def newly_completed(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> bool:
    """True when `after` is the first completed state of an order that was open before."""
    return after.get("status") == "completed" and (before is None or before.get("status") == "open")


def vulnerability(needs: Iterable[str]) -> int:
    """Higher for households that need more help to leave (sort key, most vulnerable first)."""
    return sum(_NEED_WEIGHT.get(n, 0) for n in set(needs))


def rollcall_order(households: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Households as a roll-call lists them: not yet accounted for first, then the most
    vulnerable, then the biggest, then by name (stable for the same roster)."""
    return sorted(
        households,
        key=lambda h: (
            h.get("status") in ACCOUNTED_STATUSES,
            -vulnerability(h.get("needs") or ()),
            -int(h.get("people") or 0),
            str(h.get("head") or ""),
            str(h.get("id") or ""),
        ),
    )
