"""One incoming SMS as gammu-smsd hands it to its RunOnReceive program.

gammu-smsd runs the program once per message (all parts of a multipart message together) with
the message in its environment (man gammu-smsd-run): SMS_MESSAGES physical parts, SMS_<i>_NUMBER
and SMS_<i>_TEXT for each, DECODED_PARTS and DECODED_<j>_TEXT for the joined text of a
concatenated message; and it appends the backend's ids of the parts to the command line (for the
`files` service: the inbox file names, `IN<yyyymmdd>_<hhmmss>_<serial>_<number>_<part>.txt`).

What was established with the real gammu-smsd 1.42 (Debian 12), see tests/test_sms_gammu.py:
- it sets no message time before gammu 1.44 (which adds SMS_<i>_DATETIME / _TIMESTAMP); the
  `files` service's file name carries the SMSC timestamp, so the time is taken from there;
- it writes the text in the locale's charset: under systemd's empty locale every Chinese character
  becomes "?". The `files` inbox (inboxformat = unicode) keeps the true UTF-16 text, so when the
  inbox folder is known the text is read from the files; OPERATIONS.md sets LANG=C.UTF-8 as well.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from floodpost.errors import InvalidInput
from floodpost.reports.stored import LOCAL_TZ

# gammu-smsd's files service names inbox files after the message's SMSC timestamp.
_FILES_ID = re.compile(r"^IN(\d{8})_(\d{6})_\d+_(.*)_(\d+)\.\w+$")
_PHONE = re.compile(r"^\+?\d{3,20}$")


class SmsInputError(InvalidInput):
    """The RunOnReceive environment does not hold a text message (not a user's fault)."""


@dataclass(frozen=True)
class IncomingSms:
    number: str  # as the network gave it, e.g. "+8613912345678"
    text: str  # the whole message, parts joined in order
    parts: tuple[str, ...]  # the physical parts' texts
    sent: datetime | None  # the SMSC timestamp, timezone-aware; None if gammu gave none
    ids: tuple[str, ...] = ()  # the backend's ids (files service: inbox file names)

    @property
    def key(self) -> str:
        """Idempotency key: gammu re-running the same message (number, text, time) gives the same."""
        sent = self.sent.isoformat() if self.sent else ""
        raw = "\x1f".join((normalize_phone(self.number), self.text, sent))
        return hashlib.sha256(raw.encode()).hexdigest()


def normalize_phone(number: str) -> str:
    """A number as compared between SMS and accounts: digits only, China's +86/0086 dropped from a
    mobile number, so "+86 139-1234-5678" == "13912345678"."""
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", number or ""))
    plus = digits.startswith("+")
    digits = digits.lstrip("+")
    for prefix in ("0086", "86"):
        rest = digits.removeprefix(prefix)
        if (plus or prefix == "0086" or len(digits) == 13) and len(rest) == 11 and rest[0] == "1":
            return rest
    return ("+" if plus else "") + digits


def valid_phone(number: str) -> bool:
    return bool(_PHONE.match(number))


def _count(env: Mapping[str, str], name: str) -> int:
    value = (env.get(name) or "0").strip()
    return int(value) if value.isdigit() else 0


def _sent_time(env: Mapping[str, str], ids: Sequence[str]) -> datetime | None:
    iso = (env.get("SMS_1_DATETIME") or "").strip()
    if iso:
        try:
            parsed = datetime.fromisoformat(iso)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)
        except ValueError:
            pass
    stamp = (env.get("SMS_1_TIMESTAMP") or "").strip()
    if stamp.isdigit():
        return datetime.fromtimestamp(int(stamp), LOCAL_TZ)
    for ident in ids:
        match = _FILES_ID.match(Path(ident).name)
        if match:
            try:
                naive = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
            except ValueError:
                continue
            # The SMSC stamps local time; a county's SMSC is in China.
            return naive.replace(tzinfo=LOCAL_TZ)
    return None


def _file_texts(ids: Sequence[str], inbox: Path | None) -> list[str] | None:
    """The parts' texts from the files service's inbox (UTF-16 with BOM for inboxformat=unicode,
    else UTF-8), or None when any is missing or unreadable."""
    if inbox is None or not ids:
        return None
    texts = []
    for ident in ids:
        path = inbox / Path(ident).name
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            text = raw.decode("utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8")
        except UnicodeDecodeError:
            return None
        # gammu 1.42 pads some unicode inbox files with NULs (seen with full-width digits).
        texts.append(text.rstrip("\x00"))
    return texts


def read_environment(
    env: Mapping[str, str], ids: Sequence[str] = (), *, inbox: Path | None = None
) -> IncomingSms:
    """The message gammu-smsd put in `env` (os.environ); `ids` are the arguments it appended and
    `inbox` the files service's inbox folder, when known. SmsInputError if there is no message."""
    n = _count(env, "SMS_MESSAGES")
    if n < 1:
        raise SmsInputError(
            "no message in the environment: run by gammu-smsd's RunOnReceive (SMS_MESSAGES is unset or 0)",
            field="SMS_MESSAGES",
        )
    number = (env.get("SMS_1_NUMBER") or "").strip()
    if not number:
        raise SmsInputError("SMS_1_NUMBER is empty", field="SMS_1_NUMBER")
    parts = [env.get(f"SMS_{i}_TEXT") or "" for i in range(1, n + 1)]
    decoded = [
        env.get(f"DECODED_{j}_TEXT") or "" for j in range(1, _count(env, "DECODED_PARTS") + 1)
    ]
    text = "".join(decoded) if any(decoded) else "".join(parts)
    from_files = _file_texts(ids, inbox)
    if from_files is not None and len(from_files) == n:
        # The files keep the true text even when gammu's locale turned it into "?"s.
        parts, text = from_files, "".join(from_files)
    if not text.strip():
        raise SmsInputError("the message has no text (binary or empty)", field="SMS_1_TEXT")
    return IncomingSms(number, text, tuple(parts), _sent_time(env, ids), tuple(ids))
