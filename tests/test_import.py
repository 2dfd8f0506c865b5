"""`floodpost import`: a county's own files (Shapefile in GBK and Gauss-Krüger, KML, XLSX, CSV in
GBK with GCJ-02 coordinates) become a geodata folder that the catalogue loads; bad files are
refused naming file, row and field, and leave the folder as it was."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from floodpost.cli import main
from floodpost.errors import InvalidInput, LayerError
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.gcj02 import wgs84_to_gcj02
from floodpost.geo.importer import import_layer
from floodpost.paths import default_geodata

pyogrio = pytest.importorskip("pyogrio")


@pytest.fixture
def county(tmp_path: Path) -> Path:
    """A copy of the bundled geodata folder to import into."""
    target = tmp_path / "county"
    shutil.copytree(default_geodata(), target)
    return target


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def _villages_shapefile(catalogue: Any, path: Path, *, cpg: bool) -> None:
    """The villages as a survey office would deliver them: CGCS2000 / 3-degree Gauss-Krüger
    CM 111E (EPSG:4549), Chinese column names in GBK, dBase's 10-character names."""
    gdf = catalogue.gdf("villages")[["code", "name", "township_code", "population", "geometry"]]
    gdf = gdf.rename(columns={"name": "名称", "population": "人口"}).to_crs("EPSG:4549")
    pyogrio.write_dataframe(gdf, path, encoding="GBK")
    assert "township_c" in pyogrio.read_info(path)["fields"]  # cut to 10 characters
    if not cpg:
        path.with_suffix(".cpg").unlink()


@pytest.mark.parametrize("cpg", [True, False])
def test_gk_shapefile_in_gbk_round_trips(
    tmp_path: Path, county: Path, catalogue: Any, cpg: bool
) -> None:
    shp = tmp_path / "村庄.shp"
    _villages_shapefile(catalogue, shp, cpg=cpg)
    result = import_layer("villages", shp, county, mapping={"name": "名称", "population": "人口"})
    assert result.count == catalogue.count("villages") and result.checked_folder
    loaded = Catalogue.load(county)
    original = catalogue.gdf("villages").set_index("code")
    imported = loaded.gdf("villages").set_index("code")
    assert list(imported.index) == list(original.index)
    assert (imported["name"] == original["name"]).all()  # GBK read right
    assert (imported["population"] == original["population"]).all()
    # Gauss-Krüger → WGS-84 back to where it was (6-decimal output ≈ 0.1 m).
    shift = shapely.hausdorff_distance(imported.geometry.values, original.geometry.values)
    assert float(np.max(shift)) < 2e-6


def test_zipped_shapefile_via_cli(tmp_path: Path, county: Path, catalogue: Any, capsys) -> None:
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    _villages_shapefile(catalogue, shp_dir / "villages.shp", cpg=False)
    archive = tmp_path / "villages.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp_dir.iterdir():
            z.write(part, part.name)
    code = main(["import", "villages", str(archive), "--into", str(county),
                 "--map", "name=名称", "--map", "population=人口"])  # fmt: skip
    assert code == 0
    assert f"{catalogue.count('villages')} villages" in capsys.readouterr().out
    assert Catalogue.load(county).count("villages") == catalogue.count("villages")


def _shelter_rows(catalogue: Any) -> list[dict[str, Any]]:
    gdf = catalogue.gdf("shelters")
    return [
        {"编号": r["id"], "名称": r["name"], "类型": r["kind"], "容量": r["capacity"],
         "乡镇代码": r["township_code"], "经度": g.x, "纬度": g.y}
        for r, g in zip(gdf.to_dict(orient="records"), gdf.geometry.values, strict=True)
    ]  # fmt: skip


SHELTER_MAP = {"id": "编号", "name": "名称", "kind": "类型", "capacity": "容量",
               "township_code": "乡镇代码"}  # fmt: skip


def _check_shelters(county: Path, catalogue: Any, tolerance: float) -> None:
    loaded = Catalogue.load(county).gdf("shelters").set_index("id")
    original = catalogue.gdf("shelters").set_index("id")
    assert list(loaded.index) == list(original.index)
    assert (loaded["name"] == original["name"]).all()
    assert (loaded["capacity"] == original["capacity"]).all()
    dist = shapely.distance(loaded.geometry.values, original.geometry.values)
    assert float(np.max(dist)) < tolerance


def test_xlsx_with_chinese_headers(tmp_path: Path, county: Path, catalogue: Any) -> None:
    from openpyxl import Workbook

    rows = _shelter_rows(catalogue)
    wb = Workbook()
    ws = wb.active
    ws.append(list(rows[0]))
    for r in rows:
        ws.append(list(r.values()))
    book = tmp_path / "安置点.xlsx"
    wb.save(book)
    import_layer("shelters", book, county, mapping=SHELTER_MAP)  # 经度/纬度 found by name
    _check_shelters(county, catalogue, 1e-6)


def test_gbk_csv_with_gcj02_coordinates(tmp_path: Path, county: Path, catalogue: Any) -> None:
    rows = _shelter_rows(catalogue)
    lon, lat = wgs84_to_gcj02([r["经度"] for r in rows], [r["纬度"] for r in rows])
    lines = ["编号,名称,类型,容量,乡镇代码,lng,lat"]
    for r, x, y in zip(rows, lon, lat, strict=True):
        lines.append(f"{r['编号']},{r['名称']},{r['类型']},{r['容量']},{r['乡镇代码']},{x},{y}")
    csv = tmp_path / "shelters.csv"
    csv.write_bytes("\r\n".join(lines).encode("gbk"))
    import_layer("shelters", csv, county, datum="gcj02", mapping=SHELTER_MAP)
    _check_shelters(county, catalogue, 1e-5)  # GCJ-02 inverse is iterative: ~1 m


def test_kml(tmp_path: Path, county: Path, catalogue: Any) -> None:
    gdf = catalogue.gdf("shelters")[["id", "name", "kind", "capacity", "township_code", "geometry"]]
    kml = tmp_path / "shelters.kml"
    gdf = gdf.rename(columns={"name": "Name", "id": "编号"})  # KML's own `id` is the placemark's
    pyogrio.write_dataframe(gdf, kml, driver="KML")
    import_layer("shelters", kml, county, mapping={"name": "Name", "id": "编号"})
    _check_shelters(county, catalogue, 1e-6)


def test_a_bad_row_names_file_row_and_field_and_changes_nothing(
    tmp_path: Path, county: Path, catalogue: Any
) -> None:
    rows = _shelter_rows(catalogue)
    rows[4]["容量"] = "很多"
    lines = [",".join(rows[0])] + [",".join(str(v) for v in r.values()) for r in rows]
    csv = tmp_path / "bad.csv"
    csv.write_text("\n".join(lines), encoding="utf-8")
    before = _digest(county)
    with pytest.raises(LayerError) as err:
        import_layer("shelters", csv, county, mapping=SHELTER_MAP)
    assert "bad.csv" in err.value.message and "row 6" in err.value.message
    assert err.value.field == "capacity"
    assert _digest(county) == before
    assert sorted(p.name for p in county.parent.iterdir()) == ["bad.csv", "county"]


def test_projected_data_without_crs_is_refused(
    tmp_path: Path, county: Path, catalogue: Any
) -> None:
    rows = _shelter_rows(catalogue)
    lines = ["id,name,kind,capacity,township_code,x,y"]
    lines += [f"{r['编号']},{r['名称']},{r['类型']},{r['容量']},{r['乡镇代码']},"
              f"{3.7e7 + i},{2.9e6 + i}" for i, r in enumerate(rows)]  # fmt: skip
    csv = tmp_path / "gk.csv"
    csv.write_text("\n".join(lines), encoding="utf-8")
    before = _digest(county)
    with pytest.raises(LayerError, match="--crs"):
        import_layer("shelters", csv, county)
    assert _digest(county) == before


def test_a_layer_breaking_references_is_refused(
    tmp_path: Path, county: Path, catalogue: Any
) -> None:
    rows = _shelter_rows(catalogue)
    rows[0]["乡镇代码"] = "999999999"
    lines = [",".join(rows[0])] + [",".join(str(v) for v in r.values()) for r in rows]
    csv = tmp_path / "s.csv"
    csv.write_text("\n".join(lines), encoding="utf-8")
    before = _digest(county)
    with pytest.raises(LayerError, match="township_code"):
        import_layer("shelters", csv, county, mapping=SHELTER_MAP)
    assert _digest(county) == before


def test_bad_options(tmp_path: Path, county: Path) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("lon,lat,名称\n110,26,a\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="--map"):
        import_layer("shelters", csv, county, mapping={"nonsense": "名称"})
    with pytest.raises(InvalidInput, match="--crs"):
        import_layer("shelters", csv, county, crs="EPSG:99999999")
    with pytest.raises(InvalidInput):
        import_layer("rivers", csv, county)
    assert main(["import", "shelters", str(csv), "--into", str(county), "--map", "bad"]) == 2


# -- reload without restart ----------------------------------------------------------------------
@pytest.fixture
def county_client(county: Path, tmp_path: Path) -> Any:
    import secrets

    from fastapi.testclient import TestClient

    from floodpost.settings import Settings
    from floodpost.web.app import create_app

    settings = Settings(
        db_url=f"sqlite:///{tmp_path}/f.db", secret_key=secrets.token_urlsafe(32),
        tile_url="", geodata_dir=county,
    )  # fmt: skip
    app = create_app(settings)
    with TestClient(app) as c:
        yield app, c


def _token(app: Any, client: Any, role: str) -> dict[str, str]:
    from floodpost.auth.accounts import create_account
    from tests.conftest import TEST_PASSWORD

    create_account(app.state.ctx.store, role, role, TEST_PASSWORD)
    r = client.post("/api/auth/token", data={"username": role, "password": TEST_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_reload_after_import(tmp_path: Path, county: Path, catalogue: Any, county_client) -> None:
    from floodpost.geo.reload import reload_log

    app, client = county_client
    boss = _token(app, client, "commander")
    rows = _shelter_rows(catalogue)[:5]
    lines = [",".join(rows[0])] + [",".join(str(v) for v in r.values()) for r in rows]
    csv = tmp_path / "five.csv"
    csv.write_text("\n".join(lines), encoding="utf-8")
    import_layer("shelters", csv, county, mapping=SHELTER_MAP)
    before = client.get("/api/layers/shelters", headers=boss).json()
    assert len(before["features"]) == catalogue.count("shelters")  # not yet reloaded
    r = client.post("/api/layers/reload", headers=boss)
    assert r.status_code == 200, r.text
    assert r.json()["layers"]["shelters"] == [catalogue.count("shelters"), 5]
    assert len(client.get("/api/layers/shelters", headers=boss).json()["features"]) == 5
    ogc = client.get("/ogc/collections/shelters/items", headers=boss).json()
    assert ogc["numberMatched"] == 5
    log = reload_log(app.state.ctx.store)
    assert log[-1]["actor"] == "commander" and log[-1]["layers"]["shelters"][1] == 5


def test_a_bad_folder_is_refused_and_the_old_layers_keep_serving(
    county: Path, catalogue: Any, county_client
) -> None:
    app, client = county_client
    boss = _token(app, client, "commander")
    (county / "villages.geojson").write_text('{"type": "FeatureCollection", "features": [1]}')
    r = client.post("/api/layers/reload", headers=boss)
    assert r.status_code == 422
    assert "villages.geojson" in r.json()["detail"]
    layer = client.get("/api/layers/villages", headers=boss).json()
    assert len(layer["features"]) == catalogue.count("villages")
    assert (
        client.post("/api/layers/reload", headers=_token(app, client, "viewer")).status_code == 403
    )
