"""The columns only the HXL CSV carries (`hxl=1`): what humanitarian partners join on.

A partner's sheet names places by province, prefecture code, county and village name (HDX
common operational datasets), not by our 12-digit village codes, and counts the displaced in
every row. These columns follow the report's own (so the plain CSV keeps its documented
columns) and are filled from the catalogue. Levels as in hxl.py: adm1 省, adm2 市, adm3 县,
adm4 乡镇, adm5 村; the village name is tagged `#loc+name` (the contract's join column) beside
its code `#adm5+code`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from floodpost.export.columns import FIELD_NAMES

HXL_FIELDS: tuple[str, ...] = (
    "province_name",
    "prefecture_code",
    "county_code",
    "county_name",
    "township_name",
    "village_name",
    "displaced",
    "org",
)
HXL_TAGS: dict[str, str] = {
    "province_name": "#adm1+name",
    "prefecture_code": "#adm2+code",
    "county_code": "#adm3+code",
    "county_name": "#adm3+name",
    "township_name": "#adm4+name",
    "village_name": "#loc+name",
    "displaced": "#affected+displaced+ind",
    "org": "#org",
}

# GB/T 2260 province-level divisions by the first two digits of an administrative code.
PROVINCES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip
# The reporting organisation: every report is the county flood-control headquarters' (the
# 防汛抗旱指挥部 each county has by law, whose command post floodpost is).
ORG_SUFFIX = "防汛抗旱指挥部"

_I = {name: i for i, name in enumerate(FIELD_NAMES)}


def hxl_extender(catalogue: Any) -> Callable[[list[Any]], list[Any]]:
    """A function adding HXL_FIELDS' values to an exported row (FIELD_NAMES order). A report
    outside the county gets no county, province or place names (it is not in them)."""
    county_code = str(catalogue.county_code)
    county_name = str(catalogue.county_name)
    inside = [
        PROVINCES.get(county_code[:2], ""),
        county_code[:4],
        county_code,
        county_name,
    ]
    outside = ["", "", "", ""]
    org = county_name + ORG_SUFFIX
    towns = {c: str(r.get("name") or "") for c, r in catalogue.records("townships").items()}
    villages = {c: str(r.get("name") or "") for c, r in catalogue.villages_by_code.items()}
    i_town, i_village = _I["township_code"], _I["village_code"]
    i_kind, i_people, i_out = _I["kind"], _I["people"], _I["outside_county"]

    def extend(row: list[Any]) -> list[Any]:
        displaced = int(row[i_people] or 0) if row[i_kind] == "evacuation" else 0
        return [
            *row,
            *(outside if row[i_out] else inside),
            towns.get(row[i_town] or "", ""),
            villages.get(row[i_village] or "", ""),
            displaced,
            org,
        ]

    return extend
