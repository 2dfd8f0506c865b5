"""Interface text in Chinese (default) and English: one translation mechanism for every page.

Catalogues are flat JSON objects ``{"key": "text"}`` in ``web/locale/<lang>/<domain>.json``. All
files of a language are merged when first used, so each feature owns its own file (``map.json``,
``report.json`` ...) without editing a shared one; a key defined twice is an error, because the
second definition would silently win. Keys are dotted and start with their domain
(``map.legend.villages``). A missing translation falls back to zh_CN, then to the key itself, so a
gap shows up on screen instead of failing a page.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from floodpost.errors import ConfigError
from floodpost.paths import web_dir

DEFAULT_LANGUAGE = "zh_CN"
Language = Literal["zh_CN", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)
# The name of each language in itself, for the language switch.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
# BCP 47 tag for <html lang> and Intl APIs in the browser.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def locale_dir() -> Path:
    return web_dir() / "locale"


def normalise_language(tag: str | None) -> str | None:
    """Map a language tag from a URL, cookie or Accept-Language to one we ship, or None.

    "en", "en-GB", "en_US" → "en"; "zh", "zh-CN", "zh-Hans", "zh_CN" → "zh_CN". Traditional
    Chinese tags also get zh_CN: simplified text is more useful to them than English.
    """
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    if primary == "en":
        return "en"
    if primary == "zh":
        return "zh_CN"
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """Language tags from an Accept-Language header, most preferred first (q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q > 0:
            weighted.append((-q, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def choose_language(
    query: str | None = None,
    cookie: str | None = None,
    accept_language: str | None = None,
    default: str = DEFAULT_LANGUAGE,
) -> str:
    """The interface language: explicit ``?lang=``, then the ``lang`` cookie, then the browser."""
    for candidate in (query, cookie):
        lang = normalise_language(candidate)
        if lang:
            return lang
    for tag in parse_accept_language(accept_language):
        lang = normalise_language(tag)
        if lang:
            return lang
    return normalise_language(default) or DEFAULT_LANGUAGE


@cache
def load_catalogue(lang: str, directory: Path | None = None) -> dict[str, str]:
    """All ``<directory>/<lang>/*.json`` merged into one dict (cached: catalogues are static)."""
    base = (directory or locale_dir()) / lang
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    for path in sorted(base.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"translation catalogue {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"translation catalogue {path}: expected a JSON object")
        for key, text in data.items():
            if not isinstance(text, str):
                raise ConfigError(f"translation catalogue {path}: {key!r} is not a string")
            if key in merged:
                raise ConfigError(
                    f"translation key {key!r} defined in both {origin[key]} and {path.name}"
                )
            merged[key] = text
            origin[key] = path.name
    return merged


class Translator:
    """Looks up interface text for one language: ``Translator("en").gettext("nav.map")``."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE, directory: Path | None = None) -> None:
        self.lang = normalise_language(lang) or DEFAULT_LANGUAGE
        self._directory = directory
        self._texts = load_catalogue(self.lang, directory)
        self._fallback = (
            load_catalogue(DEFAULT_LANGUAGE, directory) if self.lang != DEFAULT_LANGUAGE else {}
        )

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.lang]

    def has(self, key: str) -> bool:
        return key in self._texts

    def gettext(self, key: str, **fmt: Any) -> str:
        """Text for ``key``; ``{name}`` placeholders are filled from ``fmt``.

        A translation whose placeholders do not match ``fmt`` is shown unformatted rather than
        failing the page.
        """
        text = self._texts.get(key)
        if text is None:
            text = self._fallback.get(key, key)
        if fmt:
            try:
                return text.format(**fmt)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    __call__ = gettext

    def subset(self, prefix: str) -> dict[str, str]:
        """Every key starting with ``prefix`` (with zh_CN fallbacks), e.g. for page JavaScript."""
        keys = {k for k in self._fallback if k.startswith(prefix)}
        keys |= {k for k in self._texts if k.startswith(prefix)}
        return {k: self.gettext(k) for k in sorted(keys)}
