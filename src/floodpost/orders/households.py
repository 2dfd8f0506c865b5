"""The household roster (花名册) for roll-call, read from the CSV or XLSX a civil-affairs office keeps.

    households = parse_roster(Path("绥宁花名册.xlsx").read_bytes(), "绥宁花名册.xlsx", catalogue)

Columns are found by their English or Chinese header (户主, 人数, 电话, 村, 村代码 …), in any order.
CSV may be UTF-8 (with or without BOM) or GBK/GB18030, as Excel on a Chinese Windows saves it.
A household without an `id` gets one derived from its village, head and phone, so importing the
same file again yields the same ids and changes nothing. Any bad row stops the import with an
InvalidRoster naming the row (as the spreadsheet numbers it, header = row 1) and the column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from floodpost.errors import InvalidRoster
from floodpost.orders.progress import NEEDS

MAX_PEOPLE_PER_HOUSEHOLD = 100
MAX_ROWS = 500_000
MAX_TEXT = 120

# Header spellings seen in rosters (lower-cased, without spaces) → field.
HEADERS: dict[str, tuple[str, ...]] = {
    "village_code": (
        "village_code",
        "村代码",
        "村编码",
        "行政区划代码",
        "区划代码",
        "村行政区划代码",
    ),
    "village": ("village", "村", "村名", "行政村", "村庄", "所在村", "村名称"),
    "head": ("head", "户主", "户主姓名", "户主名", "姓名"),
    "people": ("people", "人数", "人口", "家庭人口", "户人口", "家庭人数", "户人数"),
    "id": ("id", "户编号", "户号", "编号", "户代码"),
    "phone": ("phone", "电话", "联系电话", "手机", "手机号", "手机号码", "联系方式"),
    "needs": ("needs", "特殊需求", "需求", "重点人员", "特殊人群", "困难类型"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
}
_FIELD_OF = {alias.lower(): field for field, aliases in HEADERS.items() for alias in aliases}
NEED_WORDS: dict[str, str] = {
    **{n: n for n in NEEDS},
    "老人": "elderly",
    "老年人": "elderly",
    "残疾": "disabled",
    "残疾人": "disabled",
    "卧床": "bedridden",
    "卧床不起": "bedridden",
    "儿童": "child",
    "小孩": "child",
    "孕妇": "pregnant",
}
_NEED_SPLIT = re.compile(r"[;；,，、/\s]+")
_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"^\+?\d{5,15}$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Household:
    id: str
    village_code: str
    head: str
    people: int
    phone: str | None
    needs: tuple[str, ...]
    lon: float | None
    lat: float | None
    row: int

    def record(self) -> dict[str, Any]:
        """The household as the store keeps it (without the row it came from)."""
        return {
            "id": self.id,
            "village_code": self.village_code,
            "head": self.head,
            "people": self.people,
            "phone": self.phone,
            "needs": list(self.needs),
            "lon": self.lon,
            "lat": self.lat,
        }


def _fail(row: int, column: str, msg: str) -> InvalidRoster:
    return InvalidRoster(f"row {row}, column {column}: {msg}", field=column, row=row)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK and GB2312
    except UnicodeDecodeError:
        raise InvalidRoster(
            "the file is neither UTF-8 nor GBK text; save it as CSV (UTF-8) or XLSX", field="file"
        ) from None


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidRoster(f"not a readable XLSX workbook ({exc})", field="file") from None
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield list(values)
    finally:
        book.close()


def _rows(data: bytes, filename: str) -> Iterator[list[Any]]:
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _xlsx_rows(data)
    return _csv_rows(data)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps codes and phones as numbers
    return str(value).strip()


def _header(cells: list[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(cells):
        key = re.sub(r"\s+", "", _text(cell)).lower() if not _blank(cell) else ""
        field = _FIELD_OF.get(key)
        if field is None:
            continue  # other columns (备注, 身份证号 …) are the office's own business
        if field in columns:
            raise _fail(1, _text(cell), f"a second column for {field}")
        columns[field] = i
    missing = [f for f in ("head", "people") if f not in columns]
    if "village_code" not in columns and "village" not in columns:
        missing.insert(0, "village_code (or village)")
    if missing:
        raise InvalidRoster(
            f"row 1: no column for {', '.join(missing)} (e.g. 村代码, 户主, 人数)",
            field=missing[0],
            row=1,
        )
    return columns


class _Villages:
    """Village lookup by code or by (unique) name, Chinese or English."""

    def __init__(self, villages: Mapping[str, Mapping[str, Any]]) -> None:
        self.codes = villages
        self.by_name: dict[str, str | None] = {}
        for code, v in villages.items():
            for name in {v.get("name"), v.get("name_en")} - {None, ""}:
                # None marks a name two villages share: refuse it rather than guess.
                key = str(name).strip()
                self.by_name[key] = None if key in self.by_name else code

    def code(self, row: int, column: str, value: str, by_name: bool) -> str:
        if not by_name:
            if value not in self.codes:
                raise _fail(row, column, f"unknown village code {value!r}")
            return value
        if value not in self.by_name:
            raise _fail(row, column, f"unknown village {value!r}")
        code = self.by_name[value]
        if code is None:
            raise _fail(row, column, f"{value!r} names several villages; give the village code")
        return code


def _people(row: int, column: str, value: Any) -> int:
    text = _text(value)
    if not re.fullmatch(r"\d{1,4}", text):
        raise _fail(row, column, f"{text!r} is not a whole number of people")
    n = int(text)
    if not 1 <= n <= MAX_PEOPLE_PER_HOUSEHOLD:
        raise _fail(row, column, f"must be between 1 and {MAX_PEOPLE_PER_HOUSEHOLD}")
    return n


def _needs(row: int, column: str, value: Any) -> tuple[str, ...]:
    found: set[str] = set()
    for word in _NEED_SPLIT.split(_text(value)):
        if not word:
            continue
        need = NEED_WORDS.get(word.lower())
        if need is None:
            raise _fail(
                row,
                column,
                f"unknown need {word!r} (elderly/老人, disabled/残疾, "
                "bedridden/卧床, child/儿童, pregnant/孕妇)",
            )
        found.add(need)
    return tuple(n for n in NEEDS if n in found)


def _coord(row: int, column: str, value: Any, limit: float) -> float:
    try:
        v = float(_text(value))
    except ValueError:
        raise _fail(row, column, f"{_text(value)!r} is not a number") from None
    if not math.isfinite(v) or abs(v) > limit:
        raise _fail(row, column, f"must be between -{limit:g} and {limit:g}")
    return v


def derived_id(village_code: str, head: str, phone: str | None) -> str:
    """A household id that stays the same for the same village, head and phone."""
    key = "\x1f".join((village_code, head, phone or ""))
    return "H" + hashlib.sha256(key.encode()).hexdigest()[:16]


def parse_roster(
    data: bytes,
    filename: str,
    villages: Mapping[str, Mapping[str, Any]],
    bounds: tuple[float, float, float, float] | None = None,
) -> list[Household]:
    """Every household of a roster file, checked whole; InvalidRoster names row and column.
    `bounds` (lon/lat box of the county) refuses positions far outside it."""
    rows = enumerate(_rows(data, filename), start=1)
    lookup = _Villages(villages)
    header: list[Any] | None = None
    for _, cells in rows:
        if any(not _blank(c) for c in cells):
            header = cells
            break
    if header is None:
        raise InvalidRoster("the roster is empty", field="file", row=1)
    cols = _header(header)
    names = {f: _text(header[i]) for f, i in cols.items()}
    out: list[Household] = []
    first_row: dict[str, int] = {}
    for n, cells in rows:
        if n > MAX_ROWS:
            raise InvalidRoster(f"more than {MAX_ROWS} rows", field="file", row=n)

        def cell(field: str, cells: list[Any] = cells) -> Any:
            i = cols.get(field)
            return cells[i] if i is not None and i < len(cells) else None

        if all(_blank(c) for c in cells):
            continue
        if not _blank(cell("village_code")):
            code = lookup.code(n, names["village_code"], _text(cell("village_code")), False)
        elif "village" in cols and not _blank(cell("village")):
            code = lookup.code(n, names["village"], _text(cell("village")), True)
        else:
            raise _fail(n, names.get("village_code") or names["village"], "no village given")
        head = _text(cell("head")) if not _blank(cell("head")) else ""
        if not head or len(head) > MAX_TEXT or "\x00" in head:
            raise _fail(n, names["head"], "the head of household is empty or too long")
        people = _people(n, names["people"], cell("people"))
        phone = None
        if not _blank(cell("phone")):
            phone = _PHONE_JUNK.sub("", _text(cell("phone")))
            if not _PHONE.match(phone):
                raise _fail(n, names["phone"], f"{_text(cell('phone'))!r} is not a phone number")
        needs = _needs(n, names["needs"], cell("needs")) if not _blank(cell("needs")) else ()
        lon = lat = None
        if not _blank(cell("lon")) or not _blank(cell("lat")):
            for f in ("lon", "lat"):
                if f not in cols or _blank(cell(f)):
                    raise _fail(n, names.get(f, f), "lon and lat come together")
            lon = _coord(n, names["lon"], cell("lon"), 180.0)
            lat = _coord(n, names["lat"], cell("lat"), 90.0)
            if bounds and not (
                bounds[0] - 0.1 <= lon <= bounds[2] + 0.1
                and bounds[1] - 0.1 <= lat <= bounds[3] + 0.1
            ):
                raise _fail(n, names["lon"], f"{lon:g},{lat:g} is outside the county")
        if not _blank(cell("id")):
            hid = _text(cell("id"))
            if not _ID.match(hid):
                raise _fail(n, names["id"], "ids are 1-64 letters, digits or _.:-")
        else:
            hid = derived_id(code, head, phone)
        if hid in first_row:
            where = names["id"] if "id" in cols else names["head"]
            raise _fail(n, where, f"duplicate household (same as row {first_row[hid]})")
        first_row[hid] = n
        out.append(Household(hid, code, head, people, phone, needs, lon, lat, n))
    return out
