"""The layer catalogue: every geodata layer of a county, loaded and validated once at start-up.

    cat = Catalogue.load(Path("geodata/suining"))
    cat.gdf("villages")            # GeoDataFrame, EPSG:4326, spatial index built
    cat.geojson_bytes("villages")  # cached FeatureCollection for GET /api/layers/{id}
    cat.village("430527100201")    # properties dict or None

Layer files are `<id>.geojson` or `<id>.gpkg`. An optional `manifest.json` may name the file
and the datum (`wgs84` default, `gcj02`, `bd09`) of each layer; shifted data is converted to
WGS-84 here, so everything downstream is WGS-84.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import geopandas
import shapely

from floodpost.errors import LayerError, NotFound
from floodpost.geo.geojson_io import feature_collection_bytes, gdf_features
from floodpost.geo.layer_io import find_layer_file, read_layer
from floodpost.geo.schemas import COMMON_FIELDS, LAYER_IDS, SCHEMAS

MANIFEST = "manifest.json"


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise LayerError(f"{MANIFEST}: not valid JSON ({exc})", file=str(path)) from exc
    layers = doc.get("layers", {}) if isinstance(doc, dict) else None
    if not isinstance(layers, dict):
        raise LayerError(f"{MANIFEST}: 'layers' must be an object", field="layers", file=str(path))
    for lid in layers:
        if lid not in SCHEMAS:
            raise LayerError(f"{MANIFEST}: unknown layer {lid!r}", field="layers", file=str(path))
    return doc


def _empty_gdf(layer_id: str) -> geopandas.GeoDataFrame:
    cols = [f.name for f in SCHEMAS[layer_id].fields + COMMON_FIELDS]
    return geopandas.GeoDataFrame({c: [] for c in cols}, geometry=[], crs="EPSG:4326")


class Catalogue:
    """All layers of one county. Build with `Catalogue.load`; treat returned dicts as read-only."""

    def __init__(
        self,
        directory: Path,
        manifest: dict,
        layers: dict[str, geopandas.GeoDataFrame],
        records: dict[str, list[dict]],
    ):
        self.directory = directory
        self.manifest = manifest
        self._gdfs = layers
        # The validated plain-Python records (a GeoDataFrame would turn a column of ints with
        # a gap into floats); the GeoDataFrames hold the same rows in the same order.
        self._records: dict[str, dict[str, dict]] = {
            lid: {r[SCHEMAS[lid].key]: r for r in recs} for lid, recs in records.items()
        }
        self._zone_of_village = {
            code: z["id"]
            for z in self._records["zones"].values()
            for code in z["village_codes"] or []
        }
        self._bytes: dict[str, bytes] = {}
        self._lock = threading.Lock()
        county = layers["county"].geometry.values
        self.county_geometry = shapely.union_all(county) if len(county) > 1 else county[0]
        self.bounds: tuple[float, float, float, float] = tuple(  # type: ignore[assignment]
            float(v) for v in self.county_geometry.bounds
        )

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path) -> Catalogue:
        """Read and validate every layer in `directory`; raises LayerError on bad data."""
        directory = Path(directory)
        if not directory.is_dir():
            raise LayerError(f"geodata directory {directory} does not exist", field="geodata")
        manifest = _read_manifest(directory)
        declared = manifest.get("layers", {})
        layers: dict[str, geopandas.GeoDataFrame] = {}
        all_records: dict[str, list[dict]] = {}
        for lid in LAYER_IDS:
            spec = declared.get(lid) or {}
            path = find_layer_file(directory, lid, spec.get("file"))
            if path is None:
                if SCHEMAS[lid].required:
                    raise LayerError(
                        f"{lid}.geojson (or {lid}.gpkg) is missing in {directory}",
                        field=lid,
                        file=str(directory / f"{lid}.geojson"),
                    )
                layers[lid] = _empty_gdf(lid)
                all_records[lid] = []
                continue
            records, geoms = read_layer(path, SCHEMAS[lid], spec.get("datum", "wgs84"))
            all_records[lid] = records
            if lid == "county" and not records:
                raise LayerError(f"{path.name}: has no feature", field="geometry", file=str(path))
            # Copies: the GeoDataFrame must not share mutable lists/dicts with the records.
            rows = [dict(r) for r in records]
            gdf = geopandas.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
            if not records:
                gdf = _empty_gdf(lid)
            gdf.sindex  # noqa: B018 - build the spatial index now, not on the first request
            layers[lid] = gdf
        cat = cls(directory, manifest, layers, all_records)
        cat._check_references()
        return cat

    def _check_references(self) -> None:
        """Codes that point into other layers must exist (and villages nest in townships)."""
        townships = self._records["townships"]
        villages = self._records["villages"]

        def fail(lid: str, key: str, field: str, msg: str) -> LayerError:
            return LayerError(
                f"{lid}: feature {key}: field '{field}' {msg}", field=field, layer=lid
            )

        for code, v in villages.items():
            if v["township_code"] not in townships:
                raise fail("villages", code, "township_code", f"{v['township_code']} is unknown")
            if not code.startswith(v["township_code"]):
                raise fail("villages", code, "code", f"does not start with {v['township_code']}")
        for lid in ("reservoirs", "shelters", "zones"):
            for key, r in self._records[lid].items():
                if r["township_code"] not in townships:
                    raise fail(lid, key, "township_code", f"{r['township_code']} is unknown")
                for field in ("village_code", "downstream_villages", "village_codes"):
                    value = r.get(field)
                    codes = value if isinstance(value, list) else [value] if value else []
                    unknown = [c for c in codes if c not in villages]
                    if unknown:
                        raise fail(lid, key, field, f"names unknown villages {unknown[:3]}")
        self._check_stations(fail)
        seen: dict[str, str] = {}
        for zid, z in self._records["zones"].items():
            for code in z["village_codes"] or []:
                if code in seen and seen[code] != zid:
                    raise fail("zones", zid, "village_codes", f"{code} is also in {seen[code]}")
                seen[code] = zid

    def _check_stations(self, fail) -> None:
        """Gauges sit in known townships; villages and reservoirs name gauges of the right kind."""
        stations = self._records["stations"]
        for sid, st in stations.items():
            if st["township_code"] not in self._records["townships"]:
                raise fail("stations", sid, "township_code", f"{st['township_code']} is unknown")
            rid = st.get("reservoir_id")
            if rid and rid not in self._records["reservoirs"]:
                raise fail("stations", sid, "reservoir_id", f"{rid} is unknown")
        for code, v in self._records["villages"].items():
            gauge = v.get("rain_station")
            if gauge and gauge not in stations:
                raise fail(
                    "villages", code, "rain_station", f"{gauge} is not in the stations layer"
                )
            if v.get("warn_mm") and not gauge:
                raise fail("villages", code, "rain_station", "is needed with warn_mm")
        for rid, r in self._records["reservoirs"].items():
            gauge = r.get("station")
            if not gauge:
                continue
            if gauge not in stations:
                raise fail("reservoirs", rid, "station", f"{gauge} is not in the stations layer")
            if stations[gauge]["kind"] != "RR":
                raise fail("reservoirs", rid, "station", f"{gauge} is not a reservoir station (RR)")

    # ---- layers --------------------------------------------------------------------------
    @property
    def layer_ids(self) -> tuple[str, ...]:
        return LAYER_IDS

    def _check_id(self, layer_id: str) -> str:
        if layer_id not in self._gdfs:
            raise NotFound(f"unknown layer {layer_id!r}", field="id")
        return layer_id

    def title_key(self, layer_id: str) -> str:
        """i18n key of the layer's title, e.g. "layer.villages"."""
        return f"layer.{self._check_id(layer_id)}"

    def gdf(self, layer_id: str) -> geopandas.GeoDataFrame:
        return self._gdfs[self._check_id(layer_id)]

    def count(self, layer_id: str) -> int:
        return len(self._gdfs[self._check_id(layer_id)])

    def is_demo(self, layer_id: str) -> bool:
        """True if any feature of the layer is demo data (the UI shows a badge)."""
        gdf = self._gdfs[self._check_id(layer_id)]
        return bool(len(gdf) and gdf["demo"].fillna(False).astype(bool).any())

    def geojson_bytes(self, layer_id: str) -> bytes:
        """UTF-8 GeoJSON FeatureCollection of the layer, built once and cached."""
        self._check_id(layer_id)
        data = self._bytes.get(layer_id)
        if data is None:
            with self._lock:
                data = self._bytes.get(layer_id)
                if data is None:
                    data = feature_collection_bytes(
                        gdf_features(self._gdfs[layer_id]), pretty_lines=False
                    )
                    self._bytes[layer_id] = data
        return data

    # ---- features by key -----------------------------------------------------------------
    @property
    def villages_by_code(self) -> dict[str, dict]:
        return self._records["villages"]

    def village(self, code: str) -> dict | None:
        return self._records["villages"].get(code)

    def township(self, code: str) -> dict | None:
        return self._records["townships"].get(code)

    def shelter(self, shelter_id: str) -> dict | None:
        return self._records["shelters"].get(shelter_id)

    def reservoir(self, reservoir_id: str) -> dict | None:
        return self._records["reservoirs"].get(reservoir_id)

    def station(self, station_id: str) -> dict | None:
        return self._records["stations"].get(station_id)

    def zone(self, zone_id: str) -> dict | None:
        return self._records["zones"].get(zone_id)

    def records(self, layer_id: str) -> dict[str, dict]:
        """{key: properties} of a layer, in file order (key: code or id)."""
        return self._records[self._check_id(layer_id)]

    def zone_of_village(self, code: str) -> str | None:
        """Id of the zone whose village_codes list the village, if any."""
        return self._zone_of_village.get(code)

    @property
    def county_code(self) -> str:
        return str(self._gdfs["county"]["code"].iloc[0])

    @property
    def county_name(self) -> str:
        return str(self._gdfs["county"]["name"].iloc[0])
