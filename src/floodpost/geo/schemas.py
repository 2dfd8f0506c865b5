"""The schema each geodata layer must follow (documented for counties in geodata/README.md).

A layer is checked feature by feature when the catalogue loads it; the first problem raises
`LayerError` naming the file, the feature and the field, so whoever prepared the data can fix it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from floodpost.hydro.thresholds import LevelProblem, check_levels, parse_seasons, parse_warn_mm

POLYGONAL = ("Polygon", "MultiPolygon")
POINT = ("Point",)

TOWNSHIP_CODE = r"\d{9}"
VILLAGE_CODE = r"\d{12}"
STATION_ID = r"[0-9A-Za-z]{8}"  # SL 323 / SL 502 station code STCD, CHAR(8)
STATION_KINDS = ("PP", "RR", "ZZ")  # SL 323 STTP: rain gauge, reservoir, river level
LEVEL_FIELDS = ("flood_limit_m", "normal_m", "design_flood_m", "check_flood_m", "crest_m")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # "str" | "int" | "float" | "bool" | "list" | "object"
    required: bool = True
    pattern: str | None = None  # full-match regex for str fields (and each item of a list)
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    default: Any = None  # value used when an optional field is absent
    parse: Callable[[Any], Any] | None = None  # for "object": checks and normalises the value


class FieldProblem(ValueError):
    """A value that does not fit its field; the catalogue adds file and feature."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_reservoir_levels(record: dict[str, Any]) -> None:
    try:
        check_levels(record)
    except LevelProblem as exc:
        raise FieldProblem(str(exc), exc.field) from exc


@dataclass(frozen=True)
class LayerSchema:
    id: str
    geometry_types: tuple[str, ...]
    key: str  # the field that identifies a feature (unique within the layer)
    fields: tuple[Field, ...]
    required: bool = True  # must the county ship this layer at all?
    # Checks across fields of one feature; raises FieldProblem naming the field.
    check: Callable[[dict[str, Any]], None] | None = None

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


SCHEMAS: dict[str, LayerSchema] = {
    s.id: s
    for s in (
        LayerSchema(
            "county",
            POLYGONAL,
            "code",
            (
                Field("code", "str", pattern=r"\d{6}"),
                Field("name", "str"),
                Field("name_en", "str", required=False),
            ),
        ),
        LayerSchema(
            "townships",
            POLYGONAL,
            "code",
            (
                Field("code", "str", pattern=TOWNSHIP_CODE),
                Field("name", "str"),
                Field("short_name", "str", required=False),
                Field("pinyin", "str", required=False),
                Field("name_en", "str", required=False),
                Field("approximate", "bool", required=False, default=False),
            ),
        ),
        LayerSchema(
            "villages",
            POLYGONAL,
            "code",
            (
                Field("code", "str", pattern=VILLAGE_CODE),
                Field("name", "str"),
                Field("name_en", "str", required=False),
                Field("township_code", "str", pattern=TOWNSHIP_CODE),
                Field("population", "int", minimum=0),
                Field("households", "int", required=False, minimum=0),
                Field("low_lying", "bool", required=False, default=False),
                Field("near_river", "bool", required=False, default=False),
                Field("rain_station", "str", required=False, pattern=STATION_ID),
                Field("warn_mm", "object", required=False, parse=parse_warn_mm),
            ),
        ),
        LayerSchema(
            "reservoirs",
            POINT,
            "id",
            (
                Field("id", "str"),
                Field("name", "str"),
                Field("scale", "str", choices=("大(1)型", "大(2)型", "中型", "小(1)型", "小(2)型")),
                Field("capacity_10k_m3", "float", minimum=0),
                Field("dam_type", "str", required=False),
                Field("dam_height_m", "float", required=False, minimum=0),
                Field("township_code", "str", pattern=TOWNSHIP_CODE),
                Field("village_code", "str", required=False, pattern=VILLAGE_CODE),
                Field("downstream_villages", "list", required=False, pattern=VILLAGE_CODE),
                Field("station", "str", required=False, pattern=STATION_ID),
                *(Field(f, "float", required=False) for f in LEVEL_FIELDS),
                Field("flood_limit_seasons", "object", required=False, parse=parse_seasons),
            ),
            required=False,
            check=_check_reservoir_levels,
        ),
        LayerSchema(
            "shelters",
            POINT,
            "id",
            (
                Field("id", "str"),
                Field("name", "str"),
                Field(
                    "kind", "str", choices=("school", "township_compound", "village_hall", "other")
                ),
                Field("capacity", "int", minimum=0),
                Field("township_code", "str", pattern=TOWNSHIP_CODE),
                Field("village_code", "str", required=False, pattern=VILLAGE_CODE),
            ),
            required=False,
        ),
        LayerSchema(
            "zones",
            POLYGONAL,
            "id",
            (
                Field("id", "str"),
                Field("name", "str"),
                Field("owner", "str"),
                Field("contact", "str", required=False),
                Field("township_code", "str", pattern=TOWNSHIP_CODE),
                Field("village_codes", "list", required=False, pattern=VILLAGE_CODE),
            ),
            required=False,
        ),
        LayerSchema(
            "stations",
            POINT,
            "id",
            (
                Field("id", "str", pattern=STATION_ID),
                Field("name", "str"),
                Field("kind", "str", choices=STATION_KINDS),
                Field("township_code", "str", pattern=TOWNSHIP_CODE),
                Field("reservoir_id", "str", required=False),
            ),
            required=False,
        ),
    )
}

LAYER_IDS: tuple[str, ...] = tuple(SCHEMAS)
COMMON_FIELDS = (Field("demo", "bool", required=False, default=False),)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def _plain(value: Any) -> Any:
    """numpy scalars (from GeoPackage reads) → Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def coerce(field: Field, value: Any) -> Any:
    """Check one value against its field; returns the normalised value or raises FieldProblem."""
    value = _plain(value)
    if _is_missing(value):
        if field.required:
            raise FieldProblem("is missing")
        return field.default
    if field.type == "str":
        # Codes typed as integers in a spreadsheet are common; the pattern still guards them.
        if isinstance(value, int) and not isinstance(value, bool) and field.pattern:
            value = str(value)
        if not isinstance(value, str) or (field.required and not value.strip()):
            raise FieldProblem(f"must be non-empty text, got {value!r}")
        _check_pattern(field, value)
        if field.choices and value not in field.choices:
            raise FieldProblem(f"must be one of {', '.join(field.choices)}, got {value!r}")
        return value
    if field.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise FieldProblem(f"must be true or false, got {value!r}")
    if field.type in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FieldProblem(f"must be a number, got {value!r}")
        if field.type == "int":
            if isinstance(value, float) and not value.is_integer():
                raise FieldProblem(f"must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if field.minimum is not None and value < field.minimum:
            raise FieldProblem(f"must be at least {field.minimum}, got {value!r}")
        return value
    if field.type == "object":
        assert field.parse is not None, field.name
        try:
            return field.parse(value)
        except ValueError as exc:
            raise FieldProblem(str(exc)) from exc
    if field.type == "list":
        if isinstance(value, str):
            value = _parse_json_list(value)
        if not isinstance(value, list):
            raise FieldProblem(f"must be a list, got {value!r}")
        out = []
        for item in value:
            item = str(item) if isinstance(item, int) and not isinstance(item, bool) else item
            if not isinstance(item, str):
                raise FieldProblem(f"items must be text, got {item!r}")
            _check_pattern(field, item)
            out.append(item)
        return out
    raise AssertionError(f"unknown field type {field.type}")  # pragma: no cover


def _check_pattern(field: Field, value: str) -> None:
    if field.pattern and not re.fullmatch(field.pattern, value):
        raise FieldProblem(f"has a bad format {value!r} (expected {field.pattern})")


def _parse_json_list(text: str) -> Any:
    # GeoPackage has no list type: lists are stored as JSON text.
    import json

    try:
        return json.loads(text)
    except ValueError as exc:
        raise FieldProblem(f"must be a list (or JSON text of one), got {text!r}") from exc
