"""One shape for a stored report: StoredReport (TypedDict), ReportPublic (pydantic) and what
build_stored, the lifecycle, corrections and the simulator actually store all agree."""

from __future__ import annotations

import pytest

from floodpost.geo.routing import ReportRouter
from floodpost.replay.simulate import build_reports
from floodpost.reports import corrections, lifecycle
from floodpost.reports.intake import prepare_report
from floodpost.reports.model import ReportCreate, parse_report
from floodpost.reports.stored import (
    LIFECYCLE,
    HelpRequestFields,
    ReportPublic,
    StoredFields,
    StoredReport,
    build_stored,
)
from tests.reports_support import new_report

BOOKKEEPING = {"updated_at", "updated_ts", "version"}


def test_the_typed_dict_and_the_public_model_name_the_same_fields():
    assert set(ReportPublic.model_fields) == set(StoredReport.__annotations__)
    assert set(StoredFields.__required_keys__) == {
        n for n, f in ReportPublic.model_fields.items() if f.is_required()
    }
    assert set(LIFECYCLE) == set(HelpRequestFields.__annotations__)
    # The phone's fields are stored as sent (canonical JSON), beside the server's.
    assert set(ReportCreate.model_fields) <= set(StoredFields.__annotations__)


def _sub(stored: dict) -> dict:
    """What a phone would have sent for this stored report."""
    return {k: stored[k] for k in ReportCreate.model_fields if stored.get(k) is not None}


def test_simulated_reports_and_hashes_equal_build_stored(catalogue):
    """replay/simulate.py builds stored reports by hand for speed; they must be what intake
    would store for the same content (same fields, values, canonical hash)."""
    router = ReportRouter(catalogue)
    items = build_reports(catalogue, 20_000, seed=11)
    kinds = set()
    for stored, content_hash in items:
        report = parse_report(_sub(stored))
        routing = router.route(None, None, report.village_code)
        rebuilt = build_stored(
            report, routing, reporter=stored["reporter"], received_ts=stored["received_ts"]
        )
        assert report.content_hash() == content_hash, stored["id"]
        ReportPublic.model_validate(stored)
        if stored["kind"] != "help_request" and "help_request_id" not in stored:
            assert stored == rebuilt
        else:  # a request's lifecycle, or a rescue's link, comes after intake
            skip = {*LIFECYCLE, *BOOKKEEPING, "help_request_id"}
            assert {k: v for k, v in stored.items() if k not in skip} == {
                k: v for k, v in rebuilt.items() if k not in skip
            }
        kinds.add((stored["kind"], stored.get("state"), "help_request_id" in stored))
    assert ("rescue", None, True) in kinds and ("help_request", "resolved", False) in kinds


@pytest.mark.parametrize("kind", ["evacuation", "rescue", "incident", "help_request"])
def test_intake_answers_fit_the_public_model(catalogue, kind):
    stored, _ = prepare_report(ReportRouter(catalogue), new_report(kind=kind), reporter="li")
    assert ReportPublic.model_validate(stored).model_dump(exclude_unset=True) == stored


def test_lifecycle_and_corrections_keep_to_the_shape(store, catalogue):
    router = ReportRouter(catalogue)
    body = new_report(kind="help_request")
    stored, chash = prepare_report(router, body, reporter="li")
    store.create_report(stored, chash, actor="li")
    clock = iter(range(1_800_000_000, 1_800_001_000, 60)).__next__
    lifecycle.assign(store, body["id"], "蓝天救援队", actor="cmd", clock=clock)
    lifecycle.en_route(store, body["id"], actor="cmd", clock=clock)
    resolution = lifecycle.Resolution("rescued", 3)
    done = lifecycle.resolve(store, body["id"], resolution, actor="cmd", clock=clock)
    assert set(done) <= set(StoredReport.__annotations__)
    assert {k for k in LIFECYCLE if done.get(k) is not None} == set(LIFECYCLE) - {"duplicate_of"}
    rescue = store.get_report(done["rescue_id"])
    assert rescue is not None and ReportPublic.model_validate(rescue)
    # Made another kind by a correction, the report keeps no trace of the request's lifecycle.
    fixed = corrections.correct_report(
        store, router, body["id"], {"kind": "evacuation", "reason": "wrong kind"}, actor="cmd"
    )
    assert all(fixed.get(k) is None for k in LIFECYCLE)
    ReportPublic.model_validate(fixed)
