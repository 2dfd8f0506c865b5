"""The report model: what a phone may send, and what makes two sends the same report."""

from __future__ import annotations

import pytest

from floodpost.errors import InvalidReport
from floodpost.reports.model import parse_report

BASE = {
    "id": "0f6c8c8e-1d2b-4a8f-9c1e-3a5b7d9e1f20",
    "kind": "evacuation",
    "occurred_at": "2017-06-30T08:00:00+08:00",
    "lon": 110.15,
    "lat": 26.58,
    "people": 3,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lon": "110.1"}, "lon"),
        ({"people": "3"}, "people"),
        ({"people": True}, "people"),
        ({"people": 5001}, "people"),
        ({"people": -1}, "people"),
        ({"id": 12345}, "id"),
        ({"id": "not-a-uuid"}, "id"),
        ({"kind": "party"}, "kind"),
        ({"occurred_at": "2017-06-30T08:00:00"}, "occurred_at"),  # no offset: ambiguous
        ({"note": "a\x00b"}, "note"),
        ({"note": "x" * 2001}, "note"),
        ({"lat": None}, "lat"),
        ({"lon": 200.0}, "lon"),
        ({"subtype": "flood"}, "subtype"),
        ({"urgency": "asap"}, "urgency"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_fields_are_named(change, field):
    with pytest.raises(InvalidReport) as err:
        parse_report({**BASE, **change})
    assert err.value.field == field
    assert err.value.status == 422


def test_a_place_is_needed():
    data = {k: v for k, v in BASE.items() if k not in ("lon", "lat")}
    with pytest.raises(InvalidReport) as err:
        parse_report(data)
    assert err.value.field == "lon"
    assert parse_report({**data, "village_code": "430527100001"}).village_code == "430527100001"


def test_only_core_fields_are_required_with_defaults():
    r = parse_report({**BASE, "kind": "incident"})
    assert r.subtype == "other"
    assert parse_report({**BASE, "kind": "help_request"}).urgency == "normal"


def test_content_hash_ignores_key_order_and_sees_every_change():
    a = parse_report(BASE).content_hash()
    b = parse_report(dict(reversed(list(BASE.items())))).content_hash()
    assert a == b
    assert parse_report({**BASE, "people": 4}).content_hash() != a
    # Same instant written with another offset is the same report.
    same = parse_report({**BASE, "occurred_at": "2017-06-30T00:00:00+00:00"}).occurred_at
    assert same == parse_report(BASE).occurred_at


def test_not_an_object_is_refused():
    with pytest.raises(InvalidReport) as err:
        parse_report([BASE])
    assert err.value.field == "body"
