"""HXL hashtags (Humanitarian Exchange Language) for the CSV exports, one per column (issue 12).

With `hxl=1` a CSV carries this row under its header, so partners' HXL tools (HDX, libhxl, the
Proxy) read the columns by meaning. Administrative levels follow shared STANDARDS.md §6.1:
China mapped as adm1 省 province, adm2 市 prefecture, adm3 县 county, adm4 乡镇 township,
adm5 村 village. Counts of people carry `+ind`; `#affected`, `#population` and `#indicator+num`
columns hold numbers only (libhxl's default schema checks that); `#date` columns hold ISO-8601.
The report log's HXL CSV also carries the names and codes partners join on (`#adm1+name`,
`#adm2+code`, `#adm3+name`, `#loc+name`, `#affected+displaced+ind`, `#org`): hxl_places.py.
"""

from __future__ import annotations

import re

from floodpost.errors import InvalidInput

REPORT_TAGS: dict[str, str] = {
    "id": "#meta+id",
    "kind": "#event+type",
    "subtype": "#event+subtype",
    "status": "#status+record",
    "occurred_at": "#date+occurred",
    "received_at": "#date+received",
    "updated_at": "#date+updated",
    "lon": "#geo+lon",
    "lat": "#geo+lat",
    "accuracy_m": "#geo+accuracy_m",
    "township_code": "#adm4+code",
    "village_code": "#adm5+code",
    "zone_id": "#loc+zone+code",
    "responsible": "#org+responsible",
    "outside_county": "#meta+outside_county",
    "people": "#affected+ind",
    "shelter_id": "#loc+shelter+code",
    "team": "#org+team",
    "reservoir_id": "#loc+reservoir+code",
    "reservoir_status": "#status+reservoir",
    "urgency": "#severity",
    "state": "#status+request",
    "assignee": "#org+assignee",
    "resolution": "#status+resolution",
    "rescued": "#affected+rescued+ind",
    "resolved_at": "#date+resolved",
    "help_request_id": "#meta+request+id",
    "reporter": "#contact+reporter",
    "version": "#meta+version",
    "note": "#description",
}

# Columns of the statistics tables (GET /api/stats/by-*?format=csv).
STATS_TAGS: dict[str, str] = {
    "township_code": "#adm4+code",
    "zone_id": "#loc+zone+code",
    "village_code": "#adm5+code",
    "date": "#date",
    "hour": "#date+hour",
    "unassigned": "#meta+unassigned",
    "owner": "#org+responsible",
    "population_at_risk": "#population+at_risk+ind",
    "evacuated": "#affected+displaced+ind",
    "rescued": "#affected+rescued+ind",
    "deaths": "#affected+killed+ind",
    "missing": "#affected+missing+ind",
    "help_requests": "#indicator+help_requests+num",
    "incidents": "#indicator+incidents+num",
    "reports": "#indicator+reports+num",
    "evacuated_pct": "#indicator+displaced+pct",
}
# The `name` column names the row's place, whose level depends on the table.
NAME_TAGS = {
    "township_code": "#adm4+name",
    "zone_id": "#loc+zone+name",
    "village_code": "#adm5+name",
}


def hashtags(
    columns: list[str] | tuple[str, ...], table: dict[str, str] = REPORT_TAGS
) -> list[str]:
    """The hashtag row for these columns (in the key column's level for `name`); a column this
    module does not know yet (a new statistic) is tagged `#meta+<column>` rather than refused."""
    key = next((c for c in columns if c in NAME_TAGS), None)
    out = []
    for column in columns:
        if column == "name" and key is not None:
            out.append(NAME_TAGS[key])
        else:
            out.append(table.get(column) or "#meta+" + _ATTRIBUTE.sub("_", column.lower()))
    return out


_ATTRIBUTE = re.compile(r"[^a-z0-9_]")


def wants_hxl(value: str | None, fmt: str) -> bool:
    """`hxl=1` (or true/yes): only a CSV can carry the row; InvalidInput names `hxl` otherwise."""
    if value is None or value.lower() in ("", "0", "false", "no"):
        return False
    if value.lower() not in ("1", "true", "yes"):
        raise InvalidInput("hxl must be 1 or 0", field="hxl")
    if fmt != "csv":
        raise InvalidInput("hxl=1 needs format=csv", field="hxl")
    return True
