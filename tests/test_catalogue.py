"""The layer catalogue: loads the shipped layers once, and refuses bad data with a clear error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas
import pytest
from shapely.geometry import Point, box

from floodpost.errors import LayerError, NotFound
from floodpost.geo import gcj02
from floodpost.geo.catalogue import Catalogue
from floodpost.paths import default_geodata

LAYERS = ("county", "townships", "villages", "reservoirs", "shelters", "zones", "stations")


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.load(default_geodata())


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped county to break in one place."""
    dst = tmp_path / "county"
    shutil.copytree(default_geodata(), dst)
    return dst


def _edit(path: Path, fn) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    fn(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_layers_and_counts(cat: Catalogue):
    assert cat.layer_ids == LAYERS
    assert [cat.title_key(lid) for lid in LAYERS][2] == "layer.villages"
    assert cat.count("townships") == 17
    assert cat.count("villages") == len(cat.villages_by_code) > 300
    for lid in LAYERS:
        gdf = cat.gdf(lid)
        assert gdf.crs.to_epsg() == 4326
        assert gdf.has_sindex
    assert cat.is_demo("villages") and cat.is_demo("zones")
    assert not cat.is_demo("county") and not cat.is_demo("townships")
    with pytest.raises(NotFound):
        cat.gdf("rivers")


def test_geojson_bytes_cached_and_complete(cat: Catalogue):
    data = cat.geojson_bytes("villages")
    assert data is cat.geojson_bytes("villages")
    doc = json.loads(data)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == cat.count("villages")
    props = doc["features"][0]["properties"]
    assert len(props["code"]) == 12 and props["township_code"] == props["code"][:9]
    township = json.loads(cat.geojson_bytes("townships"))["features"][0]["properties"]
    assert len(township["code"]) == 9 and township["name"]
    zone = json.loads(cat.geojson_bytes("zones"))["features"][0]["properties"]
    assert isinstance(zone["village_codes"], list)


def test_lookups(cat: Catalogue):
    v = cat.village("430527100201")
    assert v is not None and v["township_code"] == "430527100" and v["demo"] is True
    assert cat.village("430527999999") is None
    assert cat.township("430527100")["name"] == "长铺镇"
    assert cat.shelter("S001")["kind"] == "township_compound"
    assert cat.reservoir("R001")["scale"] in {"中型", "小(1)型", "小(2)型"}
    zone = cat.zone("Z001")
    assert "430527100201" in zone["village_codes"]
    assert cat.zone_of_village("430527100201") == "Z001"
    minx, miny, maxx, maxy = cat.bounds
    assert 109.8 < minx < maxx < 110.6 and 26.2 < miny < maxy < 27.2
    assert cat.county_geometry.contains(Point(110.10785, 26.57584))  # Changpu
    assert (cat.county_code, cat.county_name) == ("430527", "绥宁县")


@pytest.mark.parametrize(
    ("layer", "mutate", "field"),
    [
        ("villages", lambda d: d["features"][3]["properties"].pop("population"), "population"),
        (
            "villages",
            lambda d: d["features"][3]["properties"].update(population="many"),
            "population",
        ),
        ("villages", lambda d: d["features"][3]["properties"].update(code="43052710"), "code"),
        ("townships", lambda d: d["features"][0]["properties"].update(code="4305271"), "code"),
        ("shelters", lambda d: d["features"][0]["properties"].update(kind="tent"), "kind"),
        (
            "zones",
            lambda d: d["features"][0]["properties"].update(village_codes="x"),
            "village_codes",
        ),
        (
            "villages",
            lambda d: d["features"][0].update(
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[110, 26], [111, 27], [111, 26], [110, 27], [110, 26]]],
                }
            ),
            "geometry",
        ),
        (
            "reservoirs",
            lambda d: d["features"][0].update(
                geometry={"type": "LineString", "coordinates": [[110, 26], [111, 27]]}
            ),
            "geometry",
        ),
        (
            "villages",
            lambda d: d.update(crs={"type": "name", "properties": {"name": "EPSG:3857"}}),
            "crs",
        ),
    ],
    ids=[
        "missing",
        "wrong-type",
        "bad-code",
        "bad-township-code",
        "bad-choice",
        "bad-list",
        "invalid-geometry",
        "wrong-geometry-type",
        "projected-crs",
    ],
)
def test_bad_layer_names_file_and_field(copy: Path, layer, mutate, field):
    _edit(copy / f"{layer}.geojson", mutate)
    with pytest.raises(LayerError) as err:
        Catalogue.load(copy)
    assert err.value.field == field
    assert f"{layer}.geojson" in err.value.message and field in err.value.message


def test_cross_layer_references_checked(copy: Path):
    _edit(
        copy / "villages.geojson",
        lambda d: d["features"][0]["properties"].update(township_code="430527999"),
    )
    with pytest.raises(LayerError) as err:
        Catalogue.load(copy)
    assert err.value.field == "township_code" and "villages" in err.value.message


def test_missing_required_layer_and_optional_layer(copy: Path):
    (copy / "reservoirs.geojson").unlink()
    # The reservoirs' gauges name them: without the layer they go too.
    stations = json.loads((copy / "stations.geojson").read_text(encoding="utf-8"))
    stations["features"] = [
        f for f in stations["features"] if not f["properties"].get("reservoir_id")
    ]
    (copy / "stations.geojson").write_text(json.dumps(stations), encoding="utf-8")
    cat = Catalogue.load(copy)
    assert cat.count("reservoirs") == 0 and cat.reservoir("R001") is None
    assert json.loads(cat.geojson_bytes("reservoirs"))["features"] == []
    (copy / "villages.geojson").unlink()
    with pytest.raises(LayerError, match="villages.geojson"):
        Catalogue.load(copy)


def test_unreadable_file_and_bad_manifest(copy: Path):
    (copy / "county.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(LayerError, match="county.geojson"):
        Catalogue.load(copy)
    shutil.copy(default_geodata() / "county.geojson", copy / "county.geojson")
    (copy / "manifest.json").write_text('{"layers": {"villages": {"datum": "utm"}}}')
    with pytest.raises(LayerError) as err:
        Catalogue.load(copy)
    assert err.value.field == "datum"


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_geopackage_layer_and_missing_crs(copy: Path):
    shelters = geopandas.read_file(copy / "shelters.geojson")
    (copy / "shelters.geojson").unlink()
    shelters.to_crs("EPSG:3857").to_file(copy / "shelters.gpkg", driver="GPKG")
    cat = Catalogue.load(copy)  # reprojected to EPSG:4326 at load
    assert cat.count("shelters") == len(shelters)
    assert cat.gdf("shelters").geometry[0].distance(shelters.geometry[0]) < 1e-6
    (copy / "shelters.gpkg").unlink()
    shelters.set_crs(None, allow_override=True).to_file(copy / "shelters.gpkg", driver="GPKG")
    with pytest.raises(LayerError) as err:
        Catalogue.load(copy)
    assert err.value.field == "crs" and "shelters.gpkg" in err.value.message


def _fc(features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _feat(geom, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geom.__geo_interface__}


def test_gcj02_county_converted_at_load(tmp_path: Path):
    """A county's own Amap-digitised (GCJ-02) layers, declared in manifest.json."""
    truth = {
        "county": box(110.0, 26.5, 110.2, 26.7),
        "t": box(110.0, 26.5, 110.2, 26.7),
        "v1": box(110.0, 26.5, 110.1, 26.7),
        "v2": box(110.1, 26.5, 110.2, 26.7),
    }
    gcj = {k: gcj02.geometry_from_wgs84(g, "gcj02") for k, g in truth.items()}
    (tmp_path / "county.geojson").write_text(
        _fc([_feat(gcj["county"], code="430999", name="示例县")])
    )
    (tmp_path / "townships.geojson").write_text(
        _fc([_feat(gcj["t"], code="430999100", name="示例镇")])
    )
    (tmp_path / "villages.geojson").write_text(
        _fc(
            [
                _feat(
                    gcj["v1"],
                    code="430999100201",
                    name="甲",
                    township_code="430999100",
                    population=10,
                ),
                _feat(
                    gcj["v2"],
                    code="430999100202",
                    name="乙",
                    township_code="430999100",
                    population=20,
                ),
            ]
        )
    )
    manifest = {"layers": {k: {"datum": "gcj02"} for k in ("county", "townships", "villages")}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    cat = Catalogue.load(tmp_path)
    got = cat.gdf("villages").geometry[0]
    assert got.equals_exact(truth["v1"], 1e-8)
    assert cat.county_geometry.equals_exact(truth["county"], 1e-8)
    assert cat.count("zones") == 0
    # Without the manifest the same files are taken as WGS-84 and land ~600 m off.
    (tmp_path / "manifest.json").unlink()
    shifted = Catalogue.load(tmp_path).gdf("villages").geometry[0]
    assert shifted.hausdorff_distance(truth["v1"]) > 0.003


def test_geodata_readme_documents_every_schema_field():
    from floodpost.geo.schemas import SCHEMAS
    from floodpost.paths import geodata_dir

    readme = (geodata_dir() / "README.md").read_text(encoding="utf-8")
    for lid, schema in SCHEMAS.items():
        assert f"### {lid}" in readme
        for field in schema.fields:
            assert f"`{field.name}`" in readme, (lid, field.name)
