"""Outgoing SMS: Chinese text cut into parts a phone shows whole, notices, and the sender that
queues them in gammu-smsd's outbox through `gammu-smsd-inject`.

A text message in UCS-2 (needed for Chinese) holds 70 UTF-16 code units. Longer texts are sent as
separate numbered messages, not as one concatenated SMS: old phones of village cadres and some
operators' store-and-forward under load lose or misorder the parts of concatenated messages, and
a numbered part is still readable alone.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floodpost.sms.gammu_env import valid_phone
from floodpost.sms.texts import SMS_LANGUAGE, sms_text

UCS2_LIMIT = 70
# Good places to cut a Chinese text, best first: sentence ends, then clause marks, then spaces.
_BREAKS = ("。！？!?\n", "；;，,、：:", " ")
_INJECTED = re.compile(r"Written message with ID (.+)")


def units(text: str) -> int:
    """Length in UTF-16 code units, what the 70-character UCS-2 limit counts (an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, cap: int) -> tuple[str, str]:
    """The longest head of `text` within `cap` units, cut at a good break when one is near."""
    end, used = 0, 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > cap:
            break
        used += width
        end += 1
    if end >= len(text):
        return text, ""
    for marks in _BREAKS:
        at = max(text.rfind(m, 0, end) for m in marks)
        if at >= end * 0.6:  # a break in the last 40 % of the window; else cut hard
            return text[: at + 1].rstrip(), text[at + 1 :].lstrip()
    return text[:end], text[end:].lstrip()


def split_parts(text: str, limit: int = UCS2_LIMIT) -> list[str]:
    """`text` as SMS parts of at most `limit` units each; several parts are numbered "(1/3)"."""
    text = re.sub(r"[ \t]+", " ", text.strip())
    if units(text) <= limit:
        return [text] if text else []
    count = 2
    while True:
        marker = len(f"({count}/{count})")
        if limit - marker < 2:
            raise ValueError(f"cannot split into parts of {limit} units")
        pieces: list[str] = []
        rest = text
        while rest and len(pieces) <= count:
            head, rest = _cut(rest, limit - marker)
            pieces.append(head)
        if not rest and len(pieces) <= count:
            return [f"({i}/{len(pieces)}){p}" for i, p in enumerate(pieces, 1)]
        count += 1


def order_notice(
    *,
    short_id: str,
    level: str,
    places: Sequence[str],
    shelter: str | None = None,
    note: str = "",
    issuer: str | None = None,
    lang: str = SMS_LANGUAGE,
) -> str:
    """An evacuation order as an SMS: what to do (level "prepare" or "evacuate"), where, where
    to, and how to acknowledge."""
    text = sms_text(
        "sms.notice.order",
        lang,
        issuer=issuer or sms_text("sms.issuer", lang),
        action=sms_text(f"sms.level.{level}", lang),
        short_id=short_id,
        places=sms_text("sms.list_separator", lang).join(places)
        or sms_text("sms.notice.all_places", lang),
        destination=sms_text("sms.notice.to_shelter", lang, shelter=shelter)
        if shelter
        else sms_text("sms.notice.to_safety", lang),
    )
    if note:
        text += sms_text("sms.notice.note", lang, note=note.rstrip("。. "))
    return text + sms_text("sms.notice.ack", lang, short_id=short_id)


def warning_notice(
    *,
    level: str,
    place: str,
    reason: str,
    issuer: str | None = None,
    action: str = "",
    lang: str = SMS_LANGUAGE,
) -> str:
    """A warning (rain or a reservoir level reached a threshold) as an SMS."""
    word = sms_text(f"sms.level.{level}", lang)
    text = sms_text(
        "sms.notice.warning",
        lang,
        issuer=issuer or sms_text("sms.issuer", lang),
        level=word,
        place=place,
        reason=reason.rstrip("。. "),
    )
    if action:
        return text + sms_text("sms.notice.note", lang, note=action.rstrip("。. "))
    return text + sms_text("sms.notice.warning_action", lang, level=word)


@dataclass(frozen=True)
class SendResult:
    number: str
    text: str
    parts: tuple[str, ...]
    status: str  # "queued" (in gammu's outbox), "skipped" (demo), "failed"
    ids: tuple[str, ...] = ()  # gammu's outbox ids, to follow with GammuConfig.send_state
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "text": self.text,
            "parts": list(self.parts),
            "status": self.status,
            "ids": list(self.ids),
            "error": self.error,
        }


class SmsSender:
    """Queues texts in gammu-smsd's outbox. `enabled=False` (demo mode) sends nothing and says so."""

    def __init__(
        self,
        inject_path: str,
        gammu_config: Path | None,
        *,
        enabled: bool = True,
        timeout_s: float = 30.0,
    ) -> None:
        self.inject_path = inject_path
        self.gammu_config = gammu_config
        self.enabled = enabled
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: Any, *, force: bool = False) -> SmsSender:
        enabled = force or not settings.demo or settings.sms_send_in_demo
        return cls(settings.sms_inject_path, settings.sms_gammu_config, enabled=enabled)

    def _inject(self, number: str, part: str) -> str:
        cmd = [self.inject_path]
        if self.gammu_config is not None:
            cmd += ["-c", str(self.gammu_config)]
        # -unicode: UCS-2, the only SMS coding with Chinese characters.
        cmd += ["TEXT", number, "-unicode", "-text", part]
        done = subprocess.run(  # noqa: S603 - a list, no shell; the number is checked
            cmd, capture_output=True, text=True, timeout=self.timeout_s, check=False
        )
        found = _INJECTED.search(done.stdout)
        if done.returncode != 0 or not found:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            raise RuntimeError(f"gammu-smsd-inject exited {done.returncode}: {tail[0]}")
        return found.group(1).strip()

    def send(self, number: str, text: str) -> SendResult:
        parts = tuple(split_parts(text))
        if not valid_phone(number):
            return SendResult(number, text, parts, "failed", error="not a phone number")
        if not self.enabled:
            return SendResult(number, text, parts, "skipped", error="demo mode: nothing is sent")
        ids: list[str] = []
        try:
            for part in parts:
                ids.append(self._inject(number, part))
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            return SendResult(number, text, parts, "failed", tuple(ids), error=str(exc))
        return SendResult(number, text, parts, "queued", tuple(ids))
