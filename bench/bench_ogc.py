"""OGC API – Features and `floodpost import` at county scale (issue 12 "Speed").

    .venv/bin/python bench/bench_ogc.py [--villages 3000] [--events 1000000]
                                        [--import-villages 5000] [--dir /tmp]

1. A synthetic county of `--villages` villages (a grid over the bundled Suining townships) in a
   temporary geodata folder, a store filled by `floodpost simulate --events N` over it, and
   `floodpost serve` on both.
2. All villages through /ogc (HTTP Basic, httpx, every `next` followed), cold (first request
   builds the layer's cache) and warm; baseline: json.dumps of the same features in process.
3. All reports paged through /ogc/collections/reports/items?limit=10000, features/s; baseline:
   the same pages read with Store.list_reports and encoded with json.dumps in process.
4. `import_layer` of a `--import-villages` Shapefile (CGCS2000 Gauss-Krüger EPSG:4549, GBK
   attributes, Chinese column names); baseline: pyogrio read + GeoJSON write of the same file
   (conversion without any checking).
Targets (issue 12): villages ≤ 1 s, reports ≥ 20,000 features/s, import ≤ 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas
import httpx
import numpy as np
import shapely

from floodpost.geo.catalogue import Catalogue
from floodpost.geo.geojson_io import feature_collection_bytes, gdf_features
from floodpost.paths import default_geodata

PASSWORD = "bench-password-1"


def make_county(target: Path, villages: int, seed: int = 1) -> Path:
    """The Suining county and townships, with `villages` grid-cell villages clipped to them."""
    base = Catalogue.load(default_geodata())
    target.mkdir(parents=True, exist_ok=True)
    for lid in ("county", "townships"):
        (target / f"{lid}.geojson").write_bytes(base.geojson_bytes(lid))
    towns = base.gdf("townships")
    area = float(shapely.area(base.county_geometry))
    side = (area / villages) ** 0.5
    while True:  # shrink the grid until the county holds enough cells
        rows, geoms = _grid_villages(towns, base.bounds, side, villages, seed)
        if len(rows) >= villages:
            break
        side *= 0.93
    gdf = geopandas.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    (target / "villages.geojson").write_bytes(
        feature_collection_bytes(gdf_features(gdf), pretty_lines=False)
    )
    Catalogue.load(target)  # it must be a valid folder
    return target


def _grid_villages(towns, bounds, side: float, villages: int, seed: int):  # noqa: ANN001, ANN202
    minx, miny, maxx, maxy = bounds
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    geoms: list = []
    per_town: dict[str, int] = {}
    for x in np.arange(minx, maxx, side):
        for y in np.arange(miny, maxy, side):
            cell = shapely.box(x, y, x + side, y + side)
            hits = towns.sindex.query(cell.centroid, predicate="within")
            if len(hits) == 0:
                continue
            town = towns.iloc[int(hits[0])]
            part = shapely.intersection(cell, town.geometry)
            if part.is_empty or part.geom_type not in ("Polygon", "MultiPolygon"):
                continue
            n = per_town.get(town["code"], 0) + 1
            if n > 999:  # 12-digit codes: three digits per township
                continue
            per_town[town["code"]] = n
            rows.append({"code": f"{town['code']}{n:03d}", "name": f"{town['name']}合成村{n:03d}",
                         "township_code": town["code"],
                         "population": int(rng.integers(100, 3000))})  # fmt: skip
            geoms.append(part)
            if len(rows) == villages:
                return rows, geoms
    return rows, geoms


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "floodpost", *args], check=True, env=env,
                   input=stdin, text=True, capture_output=True)  # fmt: skip


def walk(client: httpx.Client, url: str, *, parse_features: bool = True) -> tuple[int, float]:
    """(features, seconds) following every next link. Without `parse_features` only the page's
    head (counts and links, written before the features) is decoded, so the figure is the
    server's delivery rather than this client's JSON parsing on the same two cores."""
    t0 = time.perf_counter()
    total = 0
    while url:
        body = client.get(url, timeout=600).raise_for_status().content
        if parse_features:
            page = json.loads(body)
        else:
            head = body[: body.index(b',"features":[')] + b"}"
            page = json.loads(head)
        total += page["numberReturned"]
        url = next((ln["href"] for ln in page["links"] if ln["rel"] == "next"), None)
    return total, time.perf_counter() - t0


def bench_import(work: Path, villages: int) -> None:
    import pyogrio

    from floodpost.geo.importer import import_layer

    folder = make_county(work / "import-county", villages, seed=2)
    gdf = Catalogue.load(folder).gdf("villages")[["code", "name", "township_code", "population",
                                                  "geometry"]]  # fmt: skip
    gdf = gdf.rename(columns={"name": "名称", "population": "人口"}).to_crs("EPSG:4549")
    shp = work / "villages.shp"
    pyogrio.write_dataframe(gdf, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()

    t0 = time.perf_counter()
    result = import_layer("villages", shp, folder, mapping={"name": "名称", "population": "人口"})
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = pyogrio.read_dataframe(shp, encoding="GB18030").to_crs("EPSG:4326")
    pyogrio.write_dataframe(plain, work / "plain.geojson", driver="GeoJSON")
    base = time.perf_counter() - t0
    print(f"import {result.count} villages (.shp, EPSG:4549, GBK) {took:8.2f} s   "
          f"(target ≤ 10 s; {took / base:.1f}x plain read+write {base:.2f} s)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--villages", type=int, default=3000)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--import-villages", type=int, default=5000)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ogc-", dir=args.dir))
    server = None
    try:
        t0 = time.perf_counter()
        geodata = make_county(work / "county", args.villages)
        cat = Catalogue.load(geodata)
        print(f"county: {cat.count('villages')} villages, {cat.count('townships')} townships "
              f"(made in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
        db = f"sqlite:///{work}/bench.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOODPOST_")}
        env["FLOODPOST_SECRET_KEY"] = secrets.token_urlsafe(32)
        t0 = time.perf_counter()
        run("simulate", "--db", db, "--events", str(args.events), "--geodata", str(geodata),
            env=env)  # fmt: skip
        print(f"simulate {args.events} events: {time.perf_counter() - t0:.1f} s")
        run("user", "add", "gis", "--role", "viewer", "--password-stdin", "--db", db,
            env=env, stdin=PASSWORD + "\n")  # fmt: skip
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "floodpost", "serve", "--db", db, "--geodata", str(geodata),
             "--host", "127.0.0.1", "--port", str(port)],
            env={**env, "FLOODPOST_TILE_URL": ""},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/ogc"
        with httpx.Client(auth=("gis", PASSWORD)) as client:
            for _ in range(300):
                try:
                    client.get(url + "/conformance").raise_for_status()  # Basic checked once
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            items = url + "/collections/villages/items?limit=10000"
            n, cold = walk(client, items)
            n, warm = walk(client, items)
            t0 = time.perf_counter()
            json.dumps(gdf_features(cat.gdf("villages")), ensure_ascii=False)
            base = time.perf_counter() - t0
            print(f"villages via /ogc: {n} features  cold {cold:.3f} s  warm {warm:.3f} s   "
                  f"(target ≤ 1 s; baseline json.dumps {base:.3f} s, warm/baseline "
                  f"{warm / base:.2f}x)")  # fmt: skip

            n, took = walk(
                client, url + "/collections/reports/items?limit=10000", parse_features=False
            )
            rate = n / took
        from floodpost.storage import open_store

        store = open_store(db)
        t0 = time.perf_counter()
        after, read = 0, 0
        while True:
            reports, nxt = store.list_reports(after_seq=after, limit=10000)
            json.dumps(reports, ensure_ascii=False)
            read += len(reports)
            if nxt is None:
                break
            after = nxt
        base_rate = read / (time.perf_counter() - t0)
        store.close()
        print(f"reports via /ogc: {n} features in {took:.1f} s = {rate:,.0f} features/s   "
              f"(target ≥ 20,000/s; baseline list_reports+json.dumps {base_rate:,.0f}/s, "
              f"ratio {rate / base_rate:.2f})")  # fmt: skip
        bench_import(work, args.import_villages)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
