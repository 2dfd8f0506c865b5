"""The household roster parser: CSV (UTF-8, GBK) and XLSX as a civil-affairs office keeps them."""

from __future__ import annotations

import io

import openpyxl
import pytest

from floodpost.errors import InvalidRoster
from floodpost.orders.households import derived_id, parse_roster


@pytest.fixture(scope="module")
def villages(catalogue):
    return catalogue.villages_by_code


@pytest.fixture(scope="module")
def v1(villages):
    return list(villages)[0]


EN_CSV = """village_code,head,people,phone,needs,lon,lat
{code},张三,4,+86 138-0000-0001,elderly;child,110.09,26.57
{code},李四,2,,,,
"""


def test_english_csv(villages, v1, catalogue):
    hs = parse_roster(EN_CSV.format(code=v1).encode(), "r.csv", villages, catalogue.bounds)
    assert [h.head for h in hs] == ["张三", "李四"]
    a, b = hs
    assert (a.village_code, a.people, a.phone, a.needs) == (
        v1,
        4,
        "+8613800000001",
        ("elderly", "child"),
    )
    assert (a.lon, a.lat) == (110.09, 26.57)
    assert (b.phone, b.needs, b.lon) == (None, (), None)
    assert a.row == 2 and b.row == 3
    assert a.id == derived_id(v1, "张三", "+8613800000001")


def test_chinese_headers_gbk_and_names(villages, v1):
    name = villages[v1]["name"]
    text = f"户编号,村,户主,人数,联系电话,特殊需求,备注\nH-1,{name},王五,3,13900000002,老人、卧床,旁边\n"
    hs = parse_roster(text.encode("gbk"), "花名册.csv", villages)
    assert len(hs) == 1
    h = hs[0]
    assert (h.id, h.village_code, h.head, h.people, h.needs) == (
        "H-1",
        v1,
        "王五",
        3,
        ("bedridden", "elderly"),
    )


def test_utf8_bom_and_tab_separated(villages, v1):
    text = f"\ufeff村代码\t户主\t人数\n{v1}\t赵六\t1\n"
    hs = parse_roster(text.encode("utf-8"), "r.txt", villages)
    assert hs[0].head == "赵六"


def _xlsx(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_with_numbers_for_codes_and_phones(villages, v1):
    data = _xlsx(
        [
            [],
            ["村代码", "户主", "人数", "电话", "经度", "纬度"],
            [int(v1), "钱七", 5.0, 13800000003, 110.1, 26.6],
        ]
    )
    hs = parse_roster(data, "r.xlsx", villages)
    h = hs[0]
    assert (h.village_code, h.people, h.phone, h.lon, h.row) == (v1, 5, "13800000003", 110.1, 3)


def test_reimport_gives_the_same_households(villages, v1):
    data = EN_CSV.format(code=v1).encode()
    assert parse_roster(data, "r.csv", villages) == parse_roster(data, "r.csv", villages)


@pytest.mark.parametrize(
    ("line", "row", "column", "words"),
    [
        ("{code},张三,four,,", 3, "people", "whole number"),
        ("{code},张三,0,,", 3, "people", "between"),
        ("430527999999,张三,2,,", 3, "village_code", "unknown village"),
        ("{code},,2,,", 3, "head", "head"),
        ("{code},张三,2,abc,", 3, "phone", "phone"),
        ("{code},张三,2,,flying", 3, "needs", "unknown need"),
        (",张三,2,,", 3, "village_code", "no village"),
    ],
)
def test_a_bad_row_is_refused_naming_row_and_column(villages, v1, line, row, column, words):
    text = f"village_code,head,people,phone,needs\n{v1},甲,1,,\n{line.format(code=v1)}\n"
    with pytest.raises(InvalidRoster) as exc:
        parse_roster(text.encode(), "r.csv", villages)
    err = exc.value
    assert err.status == 422 and err.extra["row"] == row and err.field == column
    assert f"row {row}, column {column}" in err.message and words in err.message


def test_coordinates_come_together_and_inside_the_county(villages, v1, catalogue):
    head = "village_code,head,people,lon,lat\n"
    with pytest.raises(InvalidRoster, match="row 2, column lat"):
        parse_roster(f"{head}{v1},甲,1,110.1,\n".encode(), "r.csv", villages)
    with pytest.raises(InvalidRoster, match="outside the county"):
        parse_roster(f"{head}{v1},甲,1,116.4,39.9\n".encode(), "r.csv", villages, catalogue.bounds)


def test_duplicate_households_are_refused(villages, v1):
    text = f"village_code,head,people,phone\n{v1},张三,2,13900000009\n{v1},李四,2,\n{v1},张三,3,13900000009\n"
    with pytest.raises(InvalidRoster, match="row 4.*same as row 2"):
        parse_roster(text.encode(), "r.csv", villages)
    text = f"id,village_code,head,people\nA,{v1},张三,2\nA,{v1},李四,2\n"
    with pytest.raises(InvalidRoster, match=r"row 3, column id: duplicate"):
        parse_roster(text.encode(), "r.csv", villages)


def test_missing_columns_and_unreadable_files(villages):
    with pytest.raises(InvalidRoster, match="no column for village_code.*people"):
        parse_roster("head,phone\n甲,1\n".encode(), "r.csv", villages)
    with pytest.raises(InvalidRoster, match="empty"):
        parse_roster(b"\n\n", "r.csv", villages)
    with pytest.raises(InvalidRoster, match="XLSX"):
        parse_roster(b"PK\x03\x04garbage", "r.xlsx", villages)
    with pytest.raises(InvalidRoster, match="UTF-8 nor GBK"):
        parse_roster(b"\xff\xfe\x00\x81\x30", "r.csv", villages)


def test_an_ambiguous_village_name_is_refused():
    villages = {
        "430527100201": {"name": "同名村"},
        "430527100301": {"name": "同名村"},
    }
    with pytest.raises(InvalidRoster, match="several villages"):
        parse_roster("村,户主,人数\n同名村,甲,1\n".encode(), "r.csv", villages)
