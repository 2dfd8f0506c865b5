"""The real gammu-smsd without a modem (tests/gammu_support.py): what it hands RunOnReceive, and
what it does with messages floodpost queues. These tests are the evidence for OPERATIONS.md."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from floodpost.reports.stored import LOCAL_TZ
from floodpost.sms.gammu_config import GammuConfig
from floodpost.sms.gammu_env import read_environment
from floodpost.sms.outgoing import SmsSender, split_parts
from tests.gammu_support import GAMMU_INJECT, GammuSmsd

pytestmark = pytest.mark.slow

NUMBER = "+8613912345678"
SENT = datetime(2026, 7, 4, 8, 30, 0)
PROBE = """\
import json, os, sys
keep = {k: v for k, v in os.environ.items() if k.startswith(("SMS_", "DECODED_", "PHONE_ID"))}
with open(sys.argv[1], "a", encoding="utf-8") as fh:
    fh.write(json.dumps({"argv": sys.argv[2:], "env": keep}) + "\\n")
"""


def _probe(tmp_path: Path) -> tuple[str, Path]:
    script, out = tmp_path / "probe.py", tmp_path / "runs.jsonl"
    script.write_text(PROBE, encoding="utf-8")
    return f"{sys.executable} {script} {out}", out


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}


def test_a_message_on_the_dummy_phone_runs_run_on_receive_with_gammus_environment(tmp_path):
    command, out = _probe(tmp_path)
    text = "转移 长铺示例村01 ３５"
    with GammuSmsd(tmp_path / "g", run_on_receive=command, env=_env(LANG="C.UTF-8")) as gammu:
        gammu.deliver(NUMBER, text, sent=SENT)
        assert gammu.wait_for_runs(1) == ["finished successfully"]
        [record] = _records(out)
        env, ids = record["env"], record["argv"]
        assert env["SMS_MESSAGES"] == "1"
        assert env["SMS_1_NUMBER"] == NUMBER
        assert env["SMS_1_TEXT"] == text
        assert env["DECODED_PARTS"] == "0"  # a single part has nothing to decode
        # The files service stores the message and passes its file name, named by SMSC time.
        assert ids == [f"IN20260704_083000_00_{NUMBER}_00.txt"]
        assert [p.name for p in gammu.inbox_files()] == ids
        assert gammu.phone_messages() == []  # taken off the phone, as from a SIM
        sms = read_environment(env, ids, inbox=gammu.inbox)
    assert (sms.number, sms.text, sms.parts) == (NUMBER, text, (text,))
    # gammu < 1.44 sets no SMS_1_DATETIME: the time comes from the file name.
    assert sms.sent == SENT.replace(tzinfo=LOCAL_TZ)


def test_a_concatenated_message_arrives_once_with_its_parts_joined(tmp_path):
    command, out = _probe(tmp_path)
    parts = ["求助 长铺示例村01 3 老人被困二楼，水已到一楼窗台，需要冲锋舟，", "请尽快派人来救援"]
    with GammuSmsd(tmp_path / "g", run_on_receive=command, env=_env(LANG="C.UTF-8")) as gammu:
        gammu.deliver(NUMBER, parts, sent=SENT)
        gammu.wait_for_runs(1)
        [record] = _records(out)
        env, ids = record["env"], record["argv"]
        assert env["SMS_MESSAGES"] == "2"
        assert [env["SMS_1_TEXT"], env["SMS_2_TEXT"]] == parts
        assert env["DECODED_PARTS"] == "1"
        assert env["DECODED_1_TEXT"] == "".join(parts)
        assert len(ids) == 2
        from_env = read_environment(env, ids)
        from_files = read_environment(env, ids, inbox=gammu.inbox)
    assert from_env.text == from_files.text == "".join(parts)
    assert from_files.parts == tuple(parts)


def test_without_a_utf8_locale_gammu_turns_chinese_into_question_marks(tmp_path):
    """systemd starts gammu-smsd with no LANG: the environment loses the text, the unicode
    inbox file keeps it. Hence inboxformat = unicode and LANG=C.UTF-8 in OPERATIONS.md."""
    command, out = _probe(tmp_path)
    text = "险情 示例水库01 坝脚渗水"
    with GammuSmsd(tmp_path / "g", run_on_receive=command, env=_env()) as gammu:
        gammu.deliver(NUMBER, text, sent=SENT)
        gammu.wait_for_runs(1)
        [record] = _records(out)
        env, ids = record["env"], record["argv"]
        assert env["SMS_1_TEXT"] != text and "?" in env["SMS_1_TEXT"]
        assert env["SMS_1_NUMBER"] == NUMBER
        assert read_environment(env, ids, inbox=gammu.inbox).text == text


def test_the_same_message_delivered_twice_runs_twice_under_another_file_name(tmp_path):
    """gammu does not deduplicate: floodpost's idempotency key must (number, text, time)."""
    command, out = _probe(tmp_path)
    with GammuSmsd(tmp_path / "g", run_on_receive=command, env=_env(LANG="C.UTF-8")) as gammu:
        gammu.deliver(NUMBER, "营救 长铺示例村02 4", sent=SENT)
        gammu.wait_for_runs(1)
        gammu.deliver(NUMBER, "营救 长铺示例村02 4", sent=SENT)
        gammu.wait_for_runs(2)
        first, second = _records(out)
        assert first["argv"] != second["argv"]
        keys = {
            read_environment(r["env"], r["argv"], inbox=gammu.inbox).key for r in (first, second)
        }
    assert len(keys) == 1


def test_an_injected_message_goes_from_the_outbox_to_sent(tmp_path):
    gammu = GammuSmsd(tmp_path / "g", env=_env(LANG="C.UTF-8"))
    config = GammuConfig.read(gammu.config)
    assert (config.service, config.outbox) == ("files", gammu.outbox)
    text = "【县防指】立即转移指令A1B2：长铺示例村01群众转移至示例安置点01。回复“收到 A1B2”确认。"
    message_id = gammu.inject(NUMBER, text)
    assert gammu.outbox_messages() == [(NUMBER, text)]
    assert config.send_state(message_id) == "queued"
    with gammu:
        gammu.wait_for(gammu.sent_messages, what="sent")
        assert gammu.sent_messages() == [(NUMBER, text)]
        assert gammu.outbox_messages() == []
    assert config.send_state(message_id) == "sent"


def test_the_sender_queues_numbered_parts_that_gammu_sends_in_order(tmp_path):
    gammu = GammuSmsd(tmp_path / "g", env=_env(LANG="C.UTF-8"))
    sender = SmsSender(GAMMU_INJECT, gammu.config)
    text = "【县防指】立即转移指令A1B2：长铺示例村01、长铺示例村02群众转移至示例安置点01。" * 2
    result = sender.send(NUMBER, text)
    assert result.status == "queued" and len(result.ids) == 2
    assert result.parts == tuple(split_parts(text))
    with gammu:
        gammu.wait_for(lambda: len(gammu.sent_messages()) == 2, what="two sent")
    sent = gammu.sent_messages()
    assert [t for _, t in sent] == list(result.parts)
    assert all(n == NUMBER for n, _ in sent)
    states = {GammuConfig.read(gammu.config).send_state(i) for i in result.ids}
    assert states == {"sent"}


def test_demo_mode_sends_nothing_and_a_missing_program_is_a_failed_send(tmp_path):
    gammu = GammuSmsd(tmp_path / "g", env=_env(LANG="C.UTF-8"))
    skipped = SmsSender(GAMMU_INJECT, gammu.config, enabled=False).send(NUMBER, "测试")
    assert skipped.status == "skipped" and skipped.ids == ()
    assert gammu.outbox_messages() == []
    missing = SmsSender(str(tmp_path / "no-such-inject"), gammu.config).send(NUMBER, "测试")
    assert missing.status == "failed" and "no-such-inject" in (missing.error or "")
    bad_number = SmsSender(GAMMU_INJECT, gammu.config).send("13912345678; rm -rf /", "测试")
    assert bad_number.status == "failed" and gammu.outbox_messages() == []
