"""A real gammu-smsd for tests, with no modem: gammu's `dummy` phone driver and the `files` service.

What works with gammu 1.42 (Debian 12), established by trying (tests/test_sms_gammu.py):
- `[gammu] model = dummy, connection = none, device = DIR` emulates a phone on the filesystem
  (gammu docs/manual/testing/dummy-driver.rst; gammu's own smsd test suite, smsd/test-smsd.sh.in,
  runs the daemon this way). Messages on the "phone" are files in DIR/sms/<folder> in gammu's
  SMS backup format; folders 1 and 3 are inboxes. gammu-smsd reads a message put there, deletes it
  from the phone, stores it with its service and runs RunOnReceive with the real SMS_*/DECODED_*
  environment. Several parts with one concatenation UDH arrive as one multipart message.
- The `files` service queues what `gammu-smsd-inject` writes into outbox/; the daemon "sends" it
  through the dummy phone and moves it to sent/ (error/ on failure).

    gammu = GammuSmsd(tmp_path / "gammu", run_on_receive="…")
    with gammu:
        gammu.deliver("+8613912345678", "转移 长铺示例村01 35", sent=datetime(...))
        gammu.wait_for_runs(1)
        gammu.inject("+8613912345678", "你好")
        gammu.wait_for(lambda: gammu.sent_messages())

Missing binaries FAIL these tests (as for PostgreSQL): CI installs gammu-smsd from apt.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
GAMMU_SMSD = shutil.which("gammu-smsd") or "/usr/bin/gammu-smsd"
GAMMU_INJECT = shutil.which("gammu-smsd-inject") or "/usr/bin/gammu-smsd-inject"
_RUNS = re.compile(r"Process (finished successfully|failed with exit status \d+|killed by signal)")
_OUT_NAME = re.compile(r"^OUT\w?(\d{8}_\d{6})_\d+_(.+?)_sms\d+\.\w+$")
_reference = itertools.count(0x21)


def require_gammu() -> None:
    missing = [p for p in (GAMMU_SMSD, GAMMU_INJECT) if not os.access(p, os.X_OK)]
    if missing:
        pytest.fail(f"{missing} not installed: apt-get install -y gammu-smsd (scripts/install.sh)")


def smsbackup(number: str, text: str, sent: datetime, *, folder: int, udh: str = "") -> str:
    """One physical message in gammu's SMS backup format (docs/manual/formats/smsbackup.rst)."""
    lines = [
        "[SMSBackup000]",
        'SMSC = "+8613800731500"',
        "State = UnRead",
        f'Number = "{number}"',
        "Coding = Unicode",  # UCS-2: what a phone uses for Chinese
        f"Folder = {folder}",
        f"Sent = {sent.strftime('%Y%m%dT%H%M%S')}",
        "PDU = Deliver",
        f"Text00 = {text.encode('utf-16-be').hex().upper()}",
    ]
    if udh:
        lines.append(f"UDH = {udh}")
    return "\n".join(lines) + "\n"


def read_text_file(path: Path) -> str:
    """A files-service message body: UTF-16 with BOM (format unicode) or UTF-8."""
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode()
    return text.rstrip("\x00")  # gammu 1.42 pads some unicode files with NULs


class GammuSmsd:
    def __init__(
        self,
        root: Path,
        *,
        run_on_receive: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        require_gammu()
        self.root = root
        self.phone = root / "phone"
        self.inbox, self.outbox = root / "inbox", root / "outbox"
        self.sent, self.error = root / "sent", root / "error"
        for d in (self.inbox, self.outbox, self.sent, self.error):
            d.mkdir(parents=True, exist_ok=True)
        for folder in range(1, 6):
            (self.phone / "sms" / str(folder)).mkdir(parents=True, exist_ok=True)
        self.config = root / "smsdrc"
        self.log = root / "smsd.log"
        self.env = dict(env if env is not None else os.environ)
        self._location = itertools.count(1)
        self._proc: subprocess.Popen[bytes] | None = None
        self.config.write_text(self._config_text(run_on_receive), encoding="utf-8")

    def _config_text(self, run_on_receive: str | None) -> str:
        lines = [
            "[gammu]",
            "model = dummy",
            "connection = none",
            f"device = {self.phone}",
            "gammuloc = /dev/null",
            "",
            "[smsd]",
            "service = files",
            f"inboxpath = {self.inbox}/",
            f"outboxpath = {self.outbox}/",
            f"sentsmspath = {self.sent}/",
            f"errorsmspath = {self.error}/",
            # unicode: UTF-16 files, the Chinese text survives whatever the daemon's locale.
            "inboxformat = unicode",
            "outboxformat = unicode",
            "transmitformat = auto",
            "commtimeout = 1",
            "sendtimeout = 5",
            "receivefrequency = 1",
            "statusfrequency = 0",
            "multiparttimeout = 10",
            "debuglevel = 1",
            f"logfile = {self.log}",
        ]
        if run_on_receive:
            lines.append(f"runonreceive = {run_on_receive}")
        return "\n".join(lines) + "\n"

    # -- the daemon --------------------------------------------------------------------------
    def start(self) -> None:
        self._proc = subprocess.Popen(  # noqa: S603
            [GAMMU_SMSD, "-c", str(self.config), "-p", str(self.root / "smsd.pid")],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_for(lambda: "Starting phone communication" in self.log_text(), what="start")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> GammuSmsd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_text(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for(self, check: Callable[[], T], timeout: float = 30.0, what: str = "") -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if self._proc is not None and self._proc.poll() is not None:
                raise AssertionError(
                    f"gammu-smsd exited ({self._proc.returncode}):\n{self.log_text()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or check}:\n{self.log_text()}")
            time.sleep(0.1)

    def runs(self) -> list[str]:
        """How each RunOnReceive ended, from the daemon's log, in order."""
        return _RUNS.findall(self.log_text())

    def wait_for_runs(self, n: int, timeout: float = 60.0) -> list[str]:
        def enough() -> list[str]:
            runs = self.runs()
            return runs if len(runs) >= n else []

        return self.wait_for(enough, timeout, f"{n} runs")

    def subprocess_output(self) -> list[str]:
        """What RunOnReceive printed (gammu logs the child's stdout and stderr)."""
        return re.findall(r"Subprocess output: (.*)", self.log_text())

    # -- messages ----------------------------------------------------------------------------
    def deliver(
        self, number: str, text: str | Sequence[str], *, sent: datetime, folder: int = 3
    ) -> None:
        """A message arriving on the dummy phone; a list of texts is one concatenated message."""
        parts = [text] if isinstance(text, str) else list(text)
        ref = next(_reference) % 256
        files = []
        for i, part in enumerate(parts, 1):
            udh = f"050003{ref:02X}{len(parts):02X}{i:02X}" if len(parts) > 1 else ""
            files.append(smsbackup(number, part, sent, folder=folder, udh=udh))
        for body in files:
            # Written beside, then renamed in: the daemon never reads half a file.
            tmp = self.phone / f".incoming-{os.getpid()}"
            tmp.write_text(body, encoding="utf-8")
            tmp.rename(self.phone / "sms" / str(folder) / str(next(self._location)))

    def inject(self, number: str, text: str) -> str:
        """Queue a message like floodpost does; returns gammu's outbox id."""
        done = subprocess.run(  # noqa: S603
            [GAMMU_INJECT, "-c", str(self.config), "TEXT", number, "-unicode", "-text", text],
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
        )
        return re.search(r"Written message with ID (.+)", done.stdout).group(1).strip()  # type: ignore[union-attr]

    def _folder(self, folder: Path) -> list[tuple[str, str]]:
        out = []
        for path in sorted(folder.iterdir()):
            match = _OUT_NAME.match(path.name)
            if match:
                out.append((match.group(2), read_text_file(path)))
        return out

    def outbox_messages(self) -> list[tuple[str, str]]:
        """(number, text) of each message waiting in the outbox."""
        return self._folder(self.outbox)

    def sent_messages(self) -> list[tuple[str, str]]:
        """(number, text) of each message the daemon sent through the dummy phone."""
        return self._folder(self.sent)

    def inbox_files(self) -> list[Path]:
        return sorted(self.inbox.glob("IN*"))

    def phone_messages(self) -> list[Path]:
        """Messages still on the dummy phone (gammu deletes each once it has stored it)."""
        return sorted(p for p in (self.phone / "sms").rglob("*") if p.is_file())


def register_phone(
    store: Any, name: str, phone: str, *, role: str = "field", zones: Sequence[str] = ()
) -> None:
    """An account texting from `phone` (what `floodpost user add --phone --zone` stores)."""
    from floodpost.orders.zones import normalise_phone, set_contact
    from floodpost.storage.base import User

    store.add_user(User(name, role, "not-a-password-hash", 0.0))
    set_contact(store, name, zones=list(zones), phone=normalise_phone(phone))
