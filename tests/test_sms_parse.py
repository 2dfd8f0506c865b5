"""SMS without the gateway: gammu's environment read, commands parsed, places matched, reports
built, texts split. The gateway itself is in test_sms_gammu.py and test_sms_receive.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from floodpost.reports.model import parse_report
from floodpost.reports.stored import LOCAL_TZ
from floodpost.sms.commands import (
    Ack,
    Evacuate,
    Hazard,
    HelpRequest,
    Household,
    ParseError,
    Rescue,
    parse_command,
)
from floodpost.sms.gammu_env import (
    IncomingSms,
    SmsInputError,
    normalize_phone,
    read_environment,
)
from floodpost.sms.outgoing import order_notice, split_parts, units, warning_notice
from floodpost.sms.places import AmbiguousPlace, Gazetteer, Place, PlaceMatcher, PlaceNotFound
from floodpost.sms.reports import hazard_kind, report_from_command, report_id

NUMBER = "+8613912345678"
NOW = datetime(2026, 7, 4, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def places(catalogue) -> Gazetteer:
    return Gazetteer.from_catalogue(catalogue)


@pytest.fixture(scope="module")
def v01(catalogue) -> str:
    return next(c for c, v in catalogue.records("villages").items() if v["name"] == "长铺示例村01")


# -- gammu's environment ----------------------------------------------------------------------
def test_environment_single_part():
    env = {"SMS_MESSAGES": "1", "SMS_1_NUMBER": NUMBER, "SMS_1_TEXT": "收到 A1B2"}
    sms = read_environment(env)
    assert (sms.number, sms.text, sms.parts, sms.sent) == (
        NUMBER,
        "收到 A1B2",
        ("收到 A1B2",),
        None,
    )


def test_environment_multipart_prefers_decoded_text_and_else_joins_parts_in_order():
    env = {
        "SMS_MESSAGES": "2",
        "SMS_1_NUMBER": NUMBER,
        "SMS_1_TEXT": "求助 长铺示例村01 2 ",
        "SMS_2_TEXT": "老人被困",
        "DECODED_PARTS": "1",
        "DECODED_1_TEXT": "求助 长铺示例村01 2 老人被困",
    }
    assert read_environment(env).text == "求助 长铺示例村01 2 老人被困"
    del env["DECODED_1_TEXT"], env["DECODED_PARTS"]
    assert read_environment(env).text == "求助 长铺示例村01 2 老人被困"


def test_environment_time_from_gammu_144_variables_or_the_files_service_name():
    base = {"SMS_MESSAGES": "1", "SMS_1_NUMBER": NUMBER, "SMS_1_TEXT": "x"}
    iso = read_environment({**base, "SMS_1_DATETIME": "2026-07-04T08:30:00+08:00"}).sent
    stamp = read_environment({**base, "SMS_1_TIMESTAMP": str(int(iso.timestamp()))}).sent
    named = read_environment(base, [f"IN20260704_083000_01_{NUMBER}_00.txt"]).sent
    assert iso == stamp == named == datetime(2026, 7, 4, 8, 30, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(
    "env",
    [{}, {"SMS_MESSAGES": "0"}, {"SMS_MESSAGES": "1", "SMS_1_TEXT": "x"},
     {"SMS_MESSAGES": "1", "SMS_1_NUMBER": NUMBER, "SMS_1_TEXT": "  "}],
)  # fmt: skip
def test_environment_without_a_text_message_is_refused(env):
    with pytest.raises(SmsInputError):
        read_environment(env)


def test_key_is_number_text_and_time():
    at = datetime(2026, 7, 4, 8, 30, tzinfo=LOCAL_TZ)
    a = IncomingSms(NUMBER, "营救 黄土村 3", ("营救 黄土村 3",), at)
    same = IncomingSms("13912345678", "营救 黄土村 3", (), at, ("other-file",))
    assert a.key == same.key
    assert a.key != IncomingSms(NUMBER, "营救 黄土村 4", (), at).key
    assert a.key != IncomingSms(NUMBER, "营救 黄土村 3", (), at.replace(minute=31)).key
    assert a.key != IncomingSms("+8613912345679", "营救 黄土村 3", (), at).key


@pytest.mark.parametrize(
    "raw,expected",
    [("+8613912345678", "13912345678"), ("008613912345678", "13912345678"),
     ("8613912345678", "13912345678"), ("139 1234 5678", "13912345678"),
     ("+86 139-1234-5678", "13912345678"), ("07395551234", "07395551234"),
     ("+4420794600", "+4420794600"), ("１３９１２３４５６７８", "13912345678")],
)  # fmt: skip
def test_phone_numbers_compare_without_country_code(raw, expected):
    assert normalize_phone(raw) == expected


# -- places ----------------------------------------------------------------------------------
def _matcher() -> PlaceMatcher:
    return PlaceMatcher(
        [
            Place("village", "430527100201", "黄土村", "长铺镇"),
            Place("village", "430527101201", "黄土村", "武阳镇"),
            Place("village", "430527100202", "黄土坪村", "长铺镇"),
            Place("village", "430527100203", "白云村", "长铺镇"),
        ]
    )


def test_village_by_full_name_short_name_code_and_unique_prefix():
    m = _matcher()
    assert m.match("白云村").key == "430527100203"
    assert m.match("白云").key == "430527100203"  # short name
    assert m.match("白 云").key == "430527100203"  # stray space
    assert m.match("430527100203").key == "430527100203"
    assert m.match("４３０５２７１００２０３").key == "430527100203"  # full-width digits
    assert m.match("黄土坪").key == "430527100202"  # unique prefix
    assert m.match("长铺黄土").key == "430527100201"  # township tells same names apart
    assert m.match("武阳镇黄土村").key == "430527101201"


def test_ambiguous_names_return_candidates_never_a_guess():
    with pytest.raises(AmbiguousPlace) as exc:
        _matcher().match("黄土村")  # two villages of that name
    assert [p.key for p in exc.value.candidates] == ["430527100201", "430527101201"]
    with pytest.raises(AmbiguousPlace):
        _matcher().match("黄土")  # short name of both, and prefix of 黄土坪村


@pytest.mark.parametrize("query", ["", "红", "蓝天村", "43052710020"])
def test_unknown_or_too_short_names_are_not_found(query):
    with pytest.raises(PlaceNotFound):
        _matcher().match(query)


# -- commands -------------------------------------------------------------------------------
def test_commands_of_every_kind(places, v01):
    evac = parse_command("转移 长铺示例村01 35 示例安置点01", places)
    assert isinstance(evac, Evacuate) and evac.village.key == v01 and evac.people == 35
    assert evac.shelter is not None and evac.shelter.key == "S001"
    rescue = parse_command("营救 长铺示例村01 3人", places)
    assert rescue == Rescue(evac.village, 3)
    help_ = parse_command("求助 长铺示例村01 2 老人被困二楼，需要冲锋舟", places)
    assert help_ == HelpRequest(evac.village, 2, "老人被困二楼，需要冲锋舟")
    hazard = parse_command("险情 示例水库01 坝脚渗水", places)
    assert isinstance(hazard, Hazard) and hazard.place.key == "R001"
    assert hazard.place.kind == "reservoir" and hazard.note == "坝脚渗水"
    assert parse_command("险情 长铺示例村01 山体滑坡", places).place.key == v01  # type: ignore[union-attr]
    assert parse_command("收到 a1b2", places) == Ack("A1B2")
    assert parse_command("户 H0012 联系不上", places) == Household("H0012", "unreachable")
    assert parse_command("户 H0012 已转移", places) == Household("H0012", "evacuated")


@pytest.mark.parametrize(
    "text",
    ["转移 长铺示例村01 35", "转移　长铺示例村０１　３５", " 转移,长铺示例村01，35 ", "转移长铺示例村01 35",
     "转移：长铺示例村01  35人", "撤离 长铺示例村01 35", "转移 430527100201 35"],
)  # fmt: skip
def test_full_width_commas_and_extra_spaces_are_tolerated(places, text):
    cmd = parse_command(text, places)
    assert isinstance(cmd, Evacuate) and cmd.people == 35 and cmd.village.name == "长铺示例村01"


def test_a_shelter_that_matches_nothing_is_kept_as_text(places):
    cmd = parse_command("转移 长铺示例村01 35 到李家祠堂", places)
    assert isinstance(cmd, Evacuate) and cmd.shelter is None and cmd.shelter_text == "李家祠堂"


@pytest.mark.parametrize(
    "text,says",
    [("你好", "转移/营救/求助/险情"), ("转移 火星村 3", "未找到“火星村”"),
     ("转移 长铺示例村 3", "可指19处"), ("转移 长铺示例村01 很多", "人数应为数字"),
     ("转移 长铺示例村01 99999", "过大"), ("求助 长铺示例村01 2", "请说明"),
     ("险情 示例水库01", "请说明险情"), ("收到", "指令编号"), ("户 H1 不知道", "已转移/安全/联系不上"),
     ("转移", "缺少村名")],
)  # fmt: skip
def test_unreadable_texts_get_a_chinese_reply_that_fits_one_sms(places, text, says):
    with pytest.raises(ParseError) as exc:
        parse_command(text, places)
    assert says in exc.value.reply
    assert units(exc.value.reply) <= 70


# -- reports ---------------------------------------------------------------------------------
def _sms(text: str, sent: datetime | None = datetime(2026, 7, 4, 8, 30, tzinfo=LOCAL_TZ)):
    return IncomingSms(NUMBER, text, (text,), sent)


@pytest.mark.parametrize(
    "text,kind",
    [("转移 长铺示例村01 35 示例安置点01", "evacuation"), ("营救 长铺示例村01 3", "rescue"),
     ("求助 长铺示例村01 2 老人被困", "help_request"), ("险情 示例水库01 坝脚管涌", "incident"),
     ("险情 长铺示例村01 山体滑坡", "incident")],
)  # fmt: skip
def test_report_commands_become_the_body_the_form_posts(places, text, kind):
    sms = _sms(text)
    body = report_from_command(parse_command(text, places), sms, now=NOW)
    assert body is not None and body["kind"] == kind
    assert body["id"] == report_id(sms.key)
    assert body["occurred_at"] == "2026-07-04T08:30:00+08:00"
    assert NUMBER in body["note"] and text in body["note"]
    report = parse_report(body)  # the form's own validation accepts it
    assert report.village_code or report.lon is not None


def test_report_details_per_kind(places, v01):
    evac = report_from_command(
        parse_command("转移 长铺示例村01 35 示例安置点01", places), _sms("a"), now=NOW
    )
    assert (evac["village_code"], evac["people"], evac["shelter_id"]) == (v01, 35, "S001")
    help_ = report_from_command(
        parse_command("求助 长铺示例村01 2 被困", places), _sms("b"), now=NOW
    )
    assert help_["contact"] == NUMBER and help_["people"] == 2
    dam = report_from_command(parse_command("险情 示例水库01 坝脚管涌", places), _sms("c"), now=NOW)
    assert (dam["subtype"], dam["reservoir_id"], dam["reservoir_status"]) == (
        "piping",
        "R001",
        "danger",
    )
    assert report_from_command(Ack("A1B2"), _sms("d"), now=NOW) is None


def test_without_a_time_the_report_occurs_now_and_keeps_its_id(places):
    body = report_from_command(
        parse_command("营救 长铺示例村01 3", places), _sms("x", None), now=NOW
    )
    assert body["occurred_at"] == "2026-07-04T09:00:00+08:00"
    assert body["id"] == report_id(_sms("x", None).key)


@pytest.mark.parametrize(
    "note,reservoir,expected",
    [("坝脚渗水", True, ("seepage", "seepage")), ("大坝溃坝了", True, ("dam_damage", "failed")),
     ("漫坝", True, ("overtopping", "danger")), ("堤脚管涌", False, ("piping", None)),
     ("后山塌方", False, ("landslide", None)), ("水很大", False, ("other", None))],
)  # fmt: skip
def test_hazard_words_suggest_the_subtype(note, reservoir, expected):
    assert hazard_kind(note, reservoir=reservoir) == expected


# -- outgoing texts ---------------------------------------------------------------------------
def test_a_short_text_is_one_part_and_a_long_one_numbered_parts_within_70():
    assert split_parts("  收到  ") == ["收到"]
    assert split_parts("字" * 70) == ["字" * 70]
    text = order_notice(
        short_id="A1B2",
        level="evacuate",
        places=[f"长铺示例村{i:02d}" for i in range(1, 8)],
        shelter="示例安置点01(乡镇驻地)",
        note="老弱病残优先，带好身份证和药品，关好门窗，切断电源，听从村干部指挥，不要返回",
    )
    parts = split_parts(text)
    assert len(parts) >= 2
    assert all(units(p) <= 70 for p in parts)
    assert [p[: len(f"({i}/{len(parts)})")] for i, p in enumerate(parts, 1)] == [
        f"({i}/{len(parts)})" for i in range(1, len(parts) + 1)
    ]
    rejoined = "".join(p.split(")", 1)[1] for p in parts)
    assert rejoined.replace(" ", "") == text.replace(" ", "")


def test_parts_count_utf16_units_and_never_split_a_character():
    parts = split_parts("😀" * 80)  # each is two UCS-2 units
    assert all(units(p) <= 70 for p in parts)
    assert "".join(p.split(")", 1)[1] for p in parts) == "😀" * 80


def test_notices_say_what_where_and_how_to_acknowledge():
    text = order_notice(
        short_id="A1B2", level="evacuate", places=["长铺示例村01"], shelter="示例安置点01"
    )
    assert text.startswith("【县防指】立即转移指令A1B2")
    assert "长铺示例村01" in text and "示例安置点01" in text and "收到 A1B2" in text
    warn = warning_notice(level="prepare", place="长铺示例村01", reason="3小时雨量58毫米")
    assert "准备转移" in warn and "58毫米" in warn and units(warn) <= 70


def test_every_command_has_its_format_in_both_catalogues():
    from floodpost.i18n import load_catalogue
    from floodpost.sms.commands import VERB_NAMES, VERBS

    assert set(VERBS.values()) == set(VERB_NAMES)
    for lang in ("zh_CN", "en"):
        catalogue = load_catalogue(lang)
        assert [v for v in VERB_NAMES if f"sms.format.{v}" not in catalogue] == [], lang


def test_notices_in_english_for_staff():
    text = order_notice(short_id="A1B2", level="prepare", places=["A", "B"], lang="en")
    assert text.startswith("[County flood HQ] Prepare to evacuate, order A1B2: people of A, B")
