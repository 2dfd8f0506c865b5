"""`floodpost import`: one county file → one layer of a geodata folder, in WGS-84, checked.

    import_layer("villages", Path("村庄.shp"), Path("geodata/county"), crs="EPSG:4549",
                 mapping={"name": "名称"})

Reads GeoJSON, GeoPackage, Shapefile (plain or zipped; GBK or UTF-8 attributes, with or without
a .cpg), KML, and CSV/XLSX with coordinate columns (经度/纬度, lon/lat, x/y found by name).
Projected data (e.g. CGCS2000 Gauss-Krüger, EPSG:4549) is converted with pyproj, Chinese shifted
datums (GCJ-02, BD-09) with geo/gcj02.py. Every row is checked against the layer's schema; an
error names the file, the row or feature, and the field. The folder is only replaced once
everything is checked (built in a temporary sibling, then renamed), so a failed import leaves it
exactly as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pandas as pd
import shapely

from floodpost.errors import InvalidInput, LayerError
from floodpost.geo.gcj02 import DATUMS, geometry_to_wgs84
from floodpost.geo.geojson_io import feature, feature_collection_bytes
from floodpost.geo.layer_io import EXTENSIONS
from floodpost.geo.schemas import COMMON_FIELDS, SCHEMAS, FieldProblem, coerce

VECTOR = (".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz")
TABLE = (".csv", ".txt", ".xlsx", ".xlsm")
# Column names recognised as coordinates, compared case-insensitively, first match wins.
LON_NAMES = ("经度", "东经", "lon", "lng", "long", "longitude", "x", "x坐标", "横坐标")
LAT_NAMES = ("纬度", "北纬", "lat", "latitude", "y", "y坐标", "纵坐标")
SHAPEFILE_NAME_CHARS = 10  # dBase cuts field names to 10 characters


@dataclass(frozen=True)
class ImportResult:
    layer: str
    count: int
    path: Path
    checked_folder: bool  # True when the whole folder loaded as a catalogue after the import


def _fail(source: Path, message: str, *, row: Any = None, field: str | None = None) -> LayerError:
    where = source.name + (f", {row}" if row is not None else "")
    text = f"{where}: field '{field}' {message}" if field else f"{where}: {message}"
    return LayerError(text, field=field, file=str(source))


# -- reading ------------------------------------------------------------------------------------
def _read_vector(source: Path) -> geopandas.GeoDataFrame:
    import pyogrio

    path = str(source)
    if source.suffix.lower() == ".zip":
        path = "/vsizip/" + str(source.resolve())
    encoding = None
    if source.suffix.lower() in (".shp", ".zip") and not source.with_suffix(".cpg").exists():
        # A .dbf without .cpg is read by GDAL as Latin-1; Chinese offices write GBK (or UTF-8).
        info = pyogrio.read_info(path)
        if (info.get("encoding") or "").upper() in ("ISO-8859-1", ""):
            encoding = "UTF-8"
    try:
        try:
            return pyogrio.read_dataframe(path, encoding=encoding)
        except UnicodeDecodeError:
            return pyogrio.read_dataframe(path, encoding="GB18030")
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds; all mean "unreadable"
        raise _fail(source, f"is not a readable {source.suffix} file ({exc})") from exc


def _read_text_table(source: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(source, encoding=encoding, dtype=str, keep_default_na=False)
        except UnicodeDecodeError:
            continue
        except (ValueError, pd.errors.ParserError) as exc:
            raise _fail(source, f"is not a readable CSV file ({exc})") from exc
    raise _fail(source, "is neither UTF-8 nor GBK text")


def _find_column(columns: list[str], wanted: str | None, names: tuple[str, ...], what: str,
                 source: Path) -> str:  # fmt: skip
    if wanted is not None:
        if wanted not in columns:
            raise _fail(source, f"has no column {wanted!r} (columns: {', '.join(columns)})",
                        field=what)  # fmt: skip
        return wanted
    by_lower = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    raise _fail(
        source,
        f"has no {what} column (looked for {', '.join(names)}); name it with --{what}",
        field=what,
    )


def _number_cell(source: Path, value: Any, row: str, column: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        number = float("nan")
    if not np.isfinite(number):
        raise _fail(source, f"is not a number: {value!r}", row=row, field=column)
    return number


def _read_table(source: Path, lon: str | None, lat: str | None) -> geopandas.GeoDataFrame:
    if source.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            df = pd.read_excel(source, dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - openpyxl's errors vary with the damage
            raise _fail(source, f"is not a readable Excel file ({exc})") from exc
        first_line = 2  # the header is row 1
    else:
        df = _read_text_table(source)
        first_line = 2
    df.columns = [str(c).strip() for c in df.columns]
    cols = list(df.columns)
    x_col = _find_column(cols, lon, LON_NAMES, "lon", source)
    y_col = _find_column(cols, lat, LAT_NAMES, "lat", source)
    xs, ys = [], []
    for i, (x, y) in enumerate(zip(df[x_col], df[y_col], strict=True)):
        row = f"row {i + first_line}"
        xs.append(_number_cell(source, x, row, x_col))
        ys.append(_number_cell(source, y, row, y_col))
    props = df.drop(columns=[x_col, y_col]).replace({"": None})
    return geopandas.GeoDataFrame(props, geometry=shapely.points(xs, ys), crs=None)


def read_source(source: Path, *, lon: str | None = None, lat: str | None = None) -> Any:
    if not source.is_file():
        raise _fail(source, "does not exist")
    suffix = source.suffix.lower()
    if suffix in TABLE:
        return _read_table(source, lon, lat)
    if suffix in VECTOR:
        return _read_vector(source)
    raise _fail(source, f"is not a supported file type ({', '.join(VECTOR + TABLE)})")


# -- converting ---------------------------------------------------------------------------------
def to_wgs84(gdf: Any, source: Path, crs: str | None, datum: str) -> Any:
    """Reproject to EPSG:4326 (a file's own CRS unless --crs), then undo a shifted datum."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if datum not in DATUMS:
        raise InvalidInput(f"--datum must be one of {', '.join(DATUMS)}", field="datum")
    if crs is not None:
        try:
            gdf = gdf.set_crs(CRS.from_user_input(crs), allow_override=True)
        except CRSError as exc:
            raise InvalidInput(f"--crs {crs!r} is not a known CRS ({exc})", field="crs") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    if not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    if len(gdf):
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise _fail(
                source,
                "has coordinates outside lon/lat range: projected data? give its CRS with --crs "
                "(e.g. EPSG:4549 for CGCS2000 Gauss-Krüger, central meridian 111°E)",
                field="geometry",
            )
    if datum != "wgs84" and len(gdf):
        gdf = gdf.set_geometry(geometry_to_wgs84(np.asarray(gdf.geometry.values), datum))
    return gdf


def apply_mapping(columns: list[str], layer_id: str, mapping: dict[str, str],
                  source: Path) -> dict[str, str]:  # fmt: skip
    """{source column: schema field}: --map first, then Shapefile-cut names (township_c)."""
    fields = [f.name for f in SCHEMAS[layer_id].fields + COMMON_FIELDS]
    renames: dict[str, str] = {}
    for field, column in mapping.items():
        if field not in fields:
            raise InvalidInput(
                f"--map {field}=…: {layer_id} has no field {field!r} ({', '.join(fields)})",
                field="map",
            )
        if column not in columns:
            raise _fail(source, f"has no column {column!r} (columns: {', '.join(columns)})",
                        field=field)  # fmt: skip
        renames[column] = field
    for field in fields:
        cut = field[:SHAPEFILE_NAME_CHARS]
        if field not in columns and field not in renames.values() and cut in columns:
            renames.setdefault(cut, field)
    return renames


TRUE_TEXT = frozenset({"true", "yes", "1", "是", "y", "t"})
FALSE_TEXT = frozenset({"false", "no", "0", "否", "n", "f"})


def _from_text(kind: str, value: Any) -> Any:
    """Spreadsheets and CSV hold every cell as text: read numbers and yes/no for typed fields
    (coerce still rejects what does not parse, naming the field)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if kind in ("int", "float"):
        try:
            number = float(text)
        except ValueError:
            return value
        return int(number) if kind == "int" and number.is_integer() else number
    if kind == "bool":
        if text.lower() in TRUE_TEXT:
            return True
        if text.lower() in FALSE_TEXT:
            return False
    return value


def checked_features(gdf: Any, layer_id: str, source: Path) -> list[dict[str, Any]]:
    schema = SCHEMAS[layer_id]
    fields = schema.fields + COMMON_FIELDS
    known = {f.name for f in fields}
    label = "row" if source.suffix.lower() in TABLE else "feature"
    offset = 2 if label == "row" else 1  # a table's first data row is line/row 2
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    out, seen = [], set()
    for i, (raw, geom) in enumerate(
        zip(gdf[cols].to_dict(orient="records"), gdf.geometry.values, strict=True)
    ):
        where = f"{label} {i + offset}"
        rec: dict[str, Any] = {}
        for f in fields:
            try:
                rec[f.name] = coerce(f, _from_text(f.type, raw.get(f.name)))
            except FieldProblem as exc:
                raise _fail(source, str(exc), row=where, field=f.name) from exc
        for key, value in raw.items():
            if key not in known and not (isinstance(value, float) and value != value):
                rec[key] = value
        if rec[schema.key] in seen:
            raise _fail(source, f"repeats {rec[schema.key]!r}", row=where, field=schema.key)
        seen.add(rec[schema.key])
        if geom is None or geom.is_empty:
            raise _fail(source, "is empty", row=where, field="geometry")
        if geom.geom_type not in schema.geometry_types:
            want = " or ".join(schema.geometry_types)
            raise _fail(source, f"must be {want}, got {geom.geom_type}", row=where,
                        field="geometry")  # fmt: skip
        if not geom.is_valid:
            raise _fail(source, f"is not valid ({shapely.is_valid_reason(geom)})", row=where,
                        field="geometry")  # fmt: skip
        out.append(feature(geom, rec))
    return out


# -- writing ------------------------------------------------------------------------------------
def _swap_in(staging: Path, into: Path) -> None:
    """Replace `into` with `staging` (same parent, so renames stay on one filesystem)."""
    if not into.exists():
        staging.rename(into)
        return
    old = into.with_name(f".{into.name}.old-{staging.name}")
    into.rename(old)
    staging.rename(into)
    shutil.rmtree(old, ignore_errors=True)


def import_layer(layer_id: str, source: Path, into: Path, *, datum: str = "wgs84",
                 crs: str | None = None, lon: str | None = None, lat: str | None = None,
                 mapping: dict[str, str] | None = None) -> ImportResult:  # fmt: skip
    """Convert `source` into `into/<layer_id>.geojson`; raises LayerError/InvalidInput (and
    leaves `into` untouched) on any problem."""
    from floodpost.geo.catalogue import MANIFEST, Catalogue

    if layer_id not in SCHEMAS:
        raise InvalidInput(f"layer must be one of {', '.join(SCHEMAS)}", field="layer")
    source, into = Path(source), Path(into)
    if into.exists() and not into.is_dir():
        raise InvalidInput(f"--into {into} is not a folder", field="into")
    gdf = read_source(source, lon=lon, lat=lat)
    gdf = to_wgs84(gdf, source, crs, datum)
    renames = apply_mapping([str(c) for c in gdf.columns], layer_id, mapping or {}, source)
    # A mapped column wins over a column already called like the field (KML's own `id`).
    shadowed = [c for c in gdf.columns if c in renames.values() and c not in renames]
    gdf = gdf.drop(columns=shadowed).rename(columns=renames)
    features = checked_features(gdf, layer_id, source)
    into.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{into.name}.import-", dir=into.parent))
    try:
        staging.rmdir()
        if into.exists():
            shutil.copytree(into, staging)
        else:
            staging.mkdir()
        for ext in EXTENSIONS:  # the new file replaces whatever held this layer before
            (staging / f"{layer_id}{ext}").unlink(missing_ok=True)
        manifest_path = staging / MANIFEST
        if manifest_path.is_file():
            doc = json.loads(manifest_path.read_text(encoding="utf-8"))
            doc.get("layers", {}).pop(layer_id, None)  # now plain WGS-84 at the default name
            manifest_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")  # fmt: skip
        target = staging / f"{layer_id}.geojson"
        target.write_bytes(feature_collection_bytes(features, pretty_lines=True))
        complete = all(
            any((staging / f"{lid}{ext}").is_file() for ext in EXTENSIONS)
            for lid, s in SCHEMAS.items()
            if s.required
        )
        if complete:  # cross-layer references (codes, nesting) checked as serving will
            Catalogue.load(staging)
        _swap_in(staging, into)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ImportResult(layer_id, len(features), into / f"{layer_id}.geojson", complete)
