"""One translation mechanism: catalogues per language, complete in both, used everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from floodpost.errors import ConfigError
from floodpost.geo.schemas import SCHEMAS
from floodpost.i18n import (
    LANGUAGES,
    Translator,
    choose_language,
    load_catalogue,
    locale_dir,
    normalise_language,
    parse_accept_language,
)
from floodpost.paths import web_dir

SRC = Path(__file__).resolve().parents[1] / "src" / "floodpost"
# _("key"), gettext("key"), t("key") with a literal key (single or double quotes).
KEY_CALL = re.compile(r"""(?:\b_|\bgettext|\bt)\(\s*(["'])([a-z][\w.()\u4e00-\u9fff-]*)\1""")


def _keys_used() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    files = list((web_dir() / "templates").rglob("*.html")) + list(SRC.rglob("*.py"))
    for path in files:
        for _, key in KEY_CALL.findall(path.read_text(encoding="utf-8")):
            if "." in key:  # dotted catalogue keys only (skips unrelated t("x") calls)
                used.setdefault(key, []).append(path.name)
    return used


def _dynamic_keys() -> set[str]:
    """Keys built at run time from data: layer titles, reservoir scales, shelter kinds."""
    keys = {f"layer.{lid}" for lid in SCHEMAS}
    keys |= {f"map.scale.{c}" for c in SCHEMAS["reservoirs"].field("scale").choices or ()}
    keys |= {f"map.shelter_kind.{c}" for c in SCHEMAS["shelters"].field("kind").choices or ()}
    return keys


def test_both_languages_define_the_same_keys():
    zh = load_catalogue("zh_CN")
    en = load_catalogue("en")
    assert set(zh) - set(en) == set(), "missing in en"
    assert set(en) - set(zh) == set(), "missing in zh_CN"
    assert all(text.strip() for text in zh.values())
    assert all(text.strip() for text in en.values())


def test_every_key_used_in_templates_and_code_exists():
    used = _keys_used()
    assert "nav.map" in used and "map.legend.title" in used  # the scan finds real calls
    for lang in LANGUAGES:
        catalogue = load_catalogue(lang)
        # A literal ending in "." is a prefix completed at run time (`_("layer." ~ id)`): at
        # least one key must carry it; the feature's own tests check its full set.
        missing = {
            k: v
            for k, v in used.items()
            if (
                k not in catalogue
                if not k.endswith(".")
                else not any(c.startswith(k) for c in catalogue)
            )
        }
        assert missing == {}, f"{lang}: {missing}"
        assert _dynamic_keys() - set(catalogue) == set(), lang


def test_placeholders_agree_between_languages():
    zh = load_catalogue("zh_CN")
    en = load_catalogue("en")
    for key, text in zh.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", en[key])), key


def test_catalogue_files_are_flat_objects_of_strings():
    for path in locale_dir().rglob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and all(isinstance(v, str) for v in data.values()), path


def test_gettext_formats_and_falls_back(tmp_path):
    (tmp_path / "zh_CN").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "zh_CN" / "a.json").write_text(
        json.dumps({"x.greet": "你好，{name}", "x.only_zh": "只有中文"}), encoding="utf-8"
    )
    (tmp_path / "en" / "a.json").write_text(json.dumps({"x.greet": "Hello, {name}"}), "utf-8")
    en = Translator("en", directory=tmp_path)
    assert en.gettext("x.greet", name="Li") == "Hello, Li"
    assert en("x.only_zh") == "只有中文"  # falls back to zh_CN
    assert en.gettext("x.nowhere") == "x.nowhere"  # then to the key
    assert en.gettext("x.greet", wrong="?") == "Hello, {name}"  # bad placeholders never fail
    assert Translator("fr", directory=tmp_path).lang == "zh_CN"


def test_a_key_defined_twice_is_refused(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.json").write_text('{"k.one": "a"}', encoding="utf-8")
    (tmp_path / "en" / "b.json").write_text('{"k.one": "b"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="k.one"):
        load_catalogue("en", tmp_path)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("en_US", "en"),
        ("zh", "zh_CN"),
        ("zh-CN", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh_TW", "zh_CN"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_language(tag, expected):
    assert normalise_language(tag) == expected


def test_accept_language_order():
    assert parse_accept_language("fr;q=0.9, en-GB;q=0.8, zh-CN") == ["zh-CN", "fr", "en-GB"]
    assert parse_accept_language("en;q=0, zh") == ["zh"]
    assert parse_accept_language(None) == []


def test_choose_language_precedence():
    assert choose_language() == "zh_CN"
    assert choose_language(accept_language="fr, en;q=0.5") == "en"
    assert choose_language(cookie="en", accept_language="zh-CN") == "en"
    assert choose_language(query="zh_CN", cookie="en", accept_language="en") == "zh_CN"
    assert choose_language(query="xx", cookie="en") == "en"  # an unknown ?lang= is ignored
    assert choose_language(default="en") == "en"


def test_subset_for_page_scripts():
    texts = Translator("en").subset("map.js.")
    assert texts and all(k.startswith("map.js.") for k in texts)
