"""Store.report_field_rows on both backends: the fields of list_reports' reports, same filters,
order and cursors, values as stored (types, None, unicode, floats exact)."""

from __future__ import annotations

import time

import pytest

from floodpost.export.columns import FIELD_NAMES
from tests.test_store import _report


def _fill(store):
    notes = ['示例 "quoted" \\ back', "=1+1", "", "line\nbreak"]
    ids = []
    for i in range(23):
        kind = ("evacuation", "rescue", "help_request", "incident")[i % 4]
        extra = {"urgency": "urgent"} if kind == "help_request" else {}
        if kind == "incident":
            extra = {"subtype": "death"}
        report, chash = _report(
            kind=kind, people=i, note=notes[i % 4], lon=110.0 + i / 7, lat=26.5 + i / 9, **extra
        )
        if i % 5 == 0:  # placed by village only: no coordinates
            report = {**report, "lon": None, "lat": None}
        store.create_report(report, chash, actor="alice")
        ids.append(report["id"])
    return ids


@pytest.mark.parametrize(
    "filters",
    [{}, {"kind": "rescue"}, {"township": "430527100"}, {"township": "430527999"}],
    ids=["all", "kind", "township", "no-match"],
)
def test_same_reports_and_cursors_as_list_reports(store, filters):
    _fill(store)
    for limit in (5, 1000):
        cursor_a: int | None = 0
        cursor_b: int | None = 0
        while cursor_a is not None:
            listed, cursor_a = store.list_reports(after_seq=cursor_a, limit=limit, **filters)
            rows, cursor_b = store.report_field_rows(
                FIELD_NAMES, after_seq=cursor_b or 0, limit=limit, **filters
            )
            assert cursor_b == cursor_a
            assert rows == [[r.get(f) for f in FIELD_NAMES] for r in listed]
    assert not store.report_field_rows(FIELD_NAMES, kind="rescue", township="430527999")[0]


def test_since_and_types(store):
    _fill(store)
    cut = time.time()
    time.sleep(0.01)
    report, chash = _report(kind="rescue", people=7, note="late", lon=110.123456789, lat=26.5)
    store.create_report(report, chash, actor="alice")
    rows, nxt = store.report_field_rows(
        ("id", "people", "lon", "outside_county", "note", "shelter_id"), since_ts=cut
    )
    assert nxt is None
    assert rows == [[report["id"], 7, 110.123456789, False, "late", None]]
    assert type(rows[0][1]) is int and type(rows[0][3]) is bool


def test_fields_are_checked(store):
    for fields in (["id"], ["id", "note; DROP TABLE reports"], ["id", "Note"]):
        with pytest.raises(ValueError):
            store.report_field_rows(fields)
