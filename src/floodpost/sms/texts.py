"""SMS wording from the interface catalogues (web/locale/<lang>/sms.json). Replies and notices go
to field members in Chinese, the language of the command words themselves; English is there for
staff reading the messages list and for the catalogue's own consistency."""

from __future__ import annotations

from functools import cache
from typing import Any

from floodpost.i18n import Translator

SMS_LANGUAGE = "zh_CN"


@cache
def _translator(lang: str) -> Translator:
    return Translator(lang)


def sms_text(key: str, lang: str = SMS_LANGUAGE, **fmt: Any) -> str:
    return _translator(lang).gettext(key, **fmt)
