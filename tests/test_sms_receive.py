"""`floodpost sms receive` end to end: a message on gammu's dummy phone -> the real gammu-smsd ->
RunOnReceive `floodpost sms receive` -> a report in the store; a reply for what it cannot read
queued in gammu's outbox and sent. And the same handler on both store backends."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from floodpost.geo.routing import ReportRouter
from floodpost.reports.stored import LOCAL_TZ
from floodpost.sms import messages
from floodpost.sms.gammu_env import IncomingSms
from floodpost.sms.outgoing import SmsSender
from floodpost.sms.places import Gazetteer
from floodpost.sms.receive import handle_sms
from floodpost.sms.reports import report_id
from floodpost.sms.texts import sms_text
from floodpost.storage import open_store
from tests.gammu_support import GAMMU_INJECT, GammuSmsd, register_phone

NUMBER = "+8613912345678"
SENT = datetime(2026, 7, 4, 8, 30, 0)
ROOT = Path(__file__).resolve().parents[1]


def _reports(url: str) -> list[dict]:
    store = open_store(url)
    try:
        return store.list_reports(limit=1000)[0]
    finally:
        store.close()


def _floodpost_env(gammu_config: Path, **extra: str) -> dict[str, str]:
    # Like systemd starts gammu-smsd: no LANG, nothing but what the unit file sets.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "FLOODPOST_SMS_GAMMU_CONFIG": str(gammu_config),
        "FLOODPOST_SMS_INJECT_PATH": GAMMU_INJECT,
        **extra,
    }


@pytest.mark.slow
def test_gammu_to_floodpost_to_the_store_once_and_a_reply_for_nonsense(tmp_path, store_url):
    url = store_url  # both backends
    root = tmp_path / "gammu"
    # gammu runs RunOnReceive through sh: a PostgreSQL URL's "&" must be quoted.
    command = f"{sys.executable} -m floodpost sms receive --db {shlex.quote(url)}"
    gammu = GammuSmsd(root, run_on_receive=command, env={})
    gammu.env.update(_floodpost_env(gammu.config))
    store = open_store(url)
    try:
        register_phone(store, "li", NUMBER)
        register_phone(store, "zhou", "13800000001")
    finally:
        store.close()
    with gammu:
        gammu.deliver(NUMBER, "转移 长铺示例村01 ３５ 示例安置点01", sent=SENT)
        gammu.wait_for_runs(1)
        [report] = _reports(url)
        assert (report["kind"], report["people"], report["shelter_id"]) == (
            "evacuation",
            35,
            "S001",
        )
        assert report["village_code"].startswith("430527100")
        assert report["reporter"] == "li"  # the account whose phone sent it
        assert report["occurred_at"] == "2026-07-04T08:30:00+08:00"  # the SMSC time
        assert NUMBER in report["note"]

        # gammu delivers the very same message again (same number, text, time): nothing new.
        gammu.deliver(NUMBER, "转移 长铺示例村01 ３５ 示例安置点01", sent=SENT)
        gammu.wait_for_runs(2)
        assert [r["id"] for r in _reports(url)] == [report["id"]]

        # A concatenated help request arrives whole.
        parts = ["求助 长铺示例村02 2 老人被困二楼，水已到一楼窗台，", "需要冲锋舟"]
        gammu.deliver("+8613800000001", parts, sent=SENT)
        gammu.wait_for_runs(3)
        help_ = next(r for r in _reports(url) if r["kind"] == "help_request")
        assert "老人被困二楼，水已到一楼窗台，需要冲锋舟" in help_["note"]
        assert help_["contact"] == "+8613800000001" and help_["state"] == "new"

        # Nonsense gets the format back, through gammu's outbox, sent by the daemon.
        gammu.deliver(NUMBER, "水好大怎么办", sent=SENT)
        gammu.wait_for_runs(4)
        sent = gammu.wait_for(gammu.sent_messages, what="the reply")
        assert sent == [(NUMBER, sms_text("sms.reply.general"))]
        assert len(_reports(url)) == 2

    assert gammu.runs() == ["finished successfully"] * 4
    outcomes = [json.loads(line) for line in gammu.subprocess_output() if line.startswith("{")]
    assert [o["status"] for o in outcomes] == ["created", "duplicate", "created", "unparsed"]
    assert outcomes[2]["actor"] == "zhou"  # "+86138…" from gammu, "138…" stored: one phone
    assert outcomes[3]["sent"]["status"] == "queued"
    # Every message is kept once, the reply with it, and gammu's file names with each.
    store = open_store(url)
    try:
        kept = sorted(messages.recent(store), key=lambda m: (m["direction"], m["status"]))
    finally:
        store.close()
    assert [(m["direction"], m["status"]) for m in kept] == [
        ("in", "created"),
        ("in", "created"),
        ("in", "unparsed"),
        ("out", "queued"),
    ]
    assert kept[2]["text"] == "水好大怎么办" and kept[3]["in_reply_to"] == kept[2]["id"]
    assert kept[3]["text"] == sms_text("sms.reply.general") and kept[3]["gateway_ids"][0].endswith(
        "_sms0.txt"
    )


def test_receive_with_the_standard_descriptors_closed_as_gammu_leaves_them(tmp_path):
    """gammu-smsd closes every descriptor before RunOnReceive; the database must not become
    fd 0, 1 or 2 for a stray write to corrupt."""
    url = f"sqlite:///{tmp_path}/floodpost.db"
    store = open_store(url)
    try:
        register_phone(store, "li", NUMBER)
    finally:
        store.close()
    env = _floodpost_env(
        tmp_path / "absent-smsdrc",
        SMS_MESSAGES="1",
        SMS_1_NUMBER=NUMBER,
        SMS_1_TEXT="营救 长铺示例村03 4",
        FLOODPOST_DEMO="true",  # and demo mode: no reply may be sent
    )
    cmd = f"exec {sys.executable} -m floodpost sms receive --db {url} <&- >&- 2>&-"
    done = subprocess.run(["/bin/sh", "-c", cmd], env=env, check=False, timeout=60)
    assert done.returncode == 0
    [report] = _reports(url)
    assert (report["kind"], report["people"]) == ("rescue", 4)


def test_receive_outside_gammu_says_what_is_missing(tmp_path):
    env = _floodpost_env(tmp_path / "absent-smsdrc")
    done = subprocess.run(
        [sys.executable, "-m", "floodpost", "sms", "receive", "--db", f"sqlite:///{tmp_path}/x.db"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "SMS_MESSAGES" in done.stderr


def test_the_handler_is_idempotent_on_both_backends(store, catalogue, tmp_path):
    register_phone(store, "li", NUMBER)
    places, router = Gazetteer.from_catalogue(catalogue), ReportRouter(catalogue)
    at = datetime(2026, 7, 4, 8, 30, tzinfo=LOCAL_TZ)
    now = datetime(2026, 7, 4, 1, 0, tzinfo=UTC)
    sms = IncomingSms(NUMBER, "险情 示例水库01 坝脚管涌", ("险情 示例水库01 坝脚管涌",), at)
    kw = {"store": store, "router": router, "places": places, "sender": None}
    first = handle_sms(sms, now=now, **kw)
    again = handle_sms(sms, now=now, **kw)
    assert (first.status, again.status) == ("created", "duplicate")
    stored = store.get_report(report_id(sms.key))
    assert stored is not None
    assert (stored["kind"], stored["subtype"], stored["reservoir_id"]) == (
        "incident",
        "piping",
        "R001",
    )
    assert stored["reservoir_status"] == "danger"
    # Without a time gammu gave, a re-run falls back to "now": still the same report, no new one.
    untimed = IncomingSms(NUMBER, "营救 长铺示例村01 2", ("营救 长铺示例村01 2",), None)
    assert handle_sms(untimed, now=now, **kw).status == "created"
    later = datetime(2026, 7, 4, 2, 0, tzinfo=UTC)
    assert handle_sms(untimed, now=later, **kw).status == "duplicate"
    assert len(store.list_reports(limit=100)[0]) == 2


def test_an_unknown_village_is_answered_and_a_demo_sends_nothing(store, catalogue, tmp_path):
    register_phone(store, "li", NUMBER)
    places, router = Gazetteer.from_catalogue(catalogue), ReportRouter(catalogue)
    demo = SmsSender(GAMMU_INJECT, tmp_path / "smsdrc", enabled=False)
    sms = IncomingSms(NUMBER, "转移 火星村 3", ("转移 火星村 3",), None)
    out = handle_sms(
        sms, store=store, router=router, places=places, sender=demo, now=datetime.now(UTC)
    )
    assert out.status == "unparsed" and "火星村" in (out.reply or "")
    assert out.sent is not None and out.sent.status == "skipped"
    assert store.list_reports(limit=10)[0] == []
