"""The stations layer and the early-warning fields of villages and reservoirs, checked at load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from floodpost.errors import LayerError
from floodpost.geo.catalogue import Catalogue
from floodpost.paths import default_geodata


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    dst = tmp_path / "county"
    shutil.copytree(default_geodata(), dst)
    return dst


def _edit(path: Path, key: str, fn) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    for f in doc["features"]:
        if f["properties"].get("id", f["properties"].get("code")) == key:
            fn(f["properties"])
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_shipped_gauges_and_thresholds(catalogue):
    stations = catalogue.records("stations")
    pp = [s for s in stations.values() if s["kind"] == "PP"]
    rr = [s for s in stations.values() if s["kind"] == "RR"]
    villages = catalogue.records("villages")
    assert len(rr) == catalogue.count("reservoirs")
    assert len(villages) / 6 <= len(pp) <= len(villages) / 2  # a gauge for every few villages
    assert all(s["demo"] and len(s["id"]) == 8 for s in stations.values())
    for v in villages.values():
        assert stations[v["rain_station"]]["kind"] == "PP"
        assert set(v["warn_mm"]) == {"1h", "3h", "6h", "24h"}
        blue_or_yellow = v["warn_mm"]["1h"][0]
        assert blue_or_yellow == (35 if v["low_lying"] or v["near_river"] else 45)
    for r in catalogue.records("reservoirs").values():
        assert stations[r["station"]]["reservoir_id"] == r["id"]
        assert r["flood_limit_m"] <= r["normal_m"] <= r["design_flood_m"] < r["crest_m"]
    names = {s["name"] for s in pp}
    assert {"寨市乡上翁(示例站)", "河口乡岩坡村(示例站)", "竹舟江(示例站)"} <= names


def test_levels_out_of_order_refused_at_load(copy: Path):
    _edit(copy / "reservoirs.geojson", "R003", lambda p: p.update(crest_m=p["check_flood_m"] - 1))
    with pytest.raises(LayerError) as err:
        Catalogue.load(copy)
    assert err.value.field == "crest_m"
    assert "R003" in str(err.value) and "reservoirs.geojson" in str(err.value)


def test_bad_thresholds_refused_at_load(copy: Path):
    code = "430527100201"
    _edit(copy / "villages.geojson", code, lambda p: p.update(warn_mm={"1h": [50, 40]}))
    with pytest.raises(LayerError) as err:
        Catalogue.load(copy)
    assert err.value.field == "warn_mm" and code in str(err.value)


@pytest.mark.parametrize(
    ("layer", "key", "change", "field"),
    [
        ("villages", "430527100201", {"rain_station": "NOSUCH01"}, "rain_station"),
        ("reservoirs", "R001", {"station": "DEMP0001"}, "station"),  # a rain gauge, not RR
        ("stations", "DEMP0001", {"id": "TOOLONG01"}, "id"),
        ("stations", "DEMP0001", {"kind": "XX"}, "kind"),
        ("stations", "DEMR0001", {"reservoir_id": "R999"}, "reservoir_id"),
    ],
)
def test_station_references_checked(copy: Path, layer, key, change, field):
    _edit(copy / f"{layer}.geojson", key, lambda p: p.update(change))
    with pytest.raises(LayerError) as err:
        Catalogue.load(copy)
    assert err.value.field == field


def test_gpkg_stores_thresholds_as_json_text(copy: Path):
    import geopandas

    gdf = geopandas.read_file(copy / "villages.geojson")
    gdf["warn_mm"] = gdf["warn_mm"].map(json.dumps)
    (copy / "villages.geojson").unlink()
    gdf.to_file(copy / "villages.gpkg", driver="GPKG")
    cat = Catalogue.load(copy)
    assert cat.village("430527100201")["warn_mm"]["1h"] == [35.0, 45.0]
