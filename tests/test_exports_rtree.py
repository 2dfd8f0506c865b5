"""The packed R-tree of the GeoPackage export (export/rtree.py) is a tree SQLite itself accepts:
rtreecheck() passes, it holds exactly the boxes SQLite's own inserts would hold (same float
rounding), box queries find what a full scan finds, and SQLite edits it afterwards."""

from __future__ import annotations

import random
import sqlite3

import numpy as np
import pytest

from floodpost.export.rtree import bulk_load


def _db(points: list[tuple[int, float, float]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE pts (fid INTEGER PRIMARY KEY, lon REAL, lat REAL)")
    conn.executemany("INSERT INTO pts VALUES (?, ?, ?)", points)
    for name in ("packed", "reference"):
        conn.execute(f"CREATE VIRTUAL TABLE {name} USING rtree(id, minx, maxx, miny, maxy)")
    conn.execute("INSERT INTO reference SELECT fid, lon, lon, lat, lat FROM pts")
    lon = np.full(3 * len(points) // 2 + 2, np.nan)  # fids without a point: unplaced, past the end
    lat = np.full(3 * len(points) // 2 + 2, np.nan)
    for fid, x, y in points:
        lon[fid - 1], lat[fid - 1] = x, y
    conn.execute("BEGIN")
    bulk_load(conn, "packed", lon, lat)
    conn.execute("COMMIT")
    return conn


def _points(n: int, seed: int = 7) -> list[tuple[int, float, float]]:
    rnd = random.Random(seed)
    # Coordinates that are not exact floats, both signs (rounding outwards differs by sign),
    # and repeated points.
    # Every third fid has no point (no coordinates reported).
    out = [(3 * i // 2 + 1, rnd.uniform(-180, 180), rnd.uniform(-90, 90)) for i in range(n)]
    if n > 10:
        out[5] = (out[5][0], out[4][1], out[4][2])
    return out


def _depth(conn: sqlite3.Connection, table: str) -> int:
    (data,) = conn.execute(f"SELECT data FROM {table}_node WHERE nodeno = 1").fetchone()
    return int.from_bytes(data[:2], "big")


@pytest.mark.parametrize(
    ("n", "depth"), [(1, 0), (51, 0), (52, 1), (2601, 1), (2602, 2), (9000, 2)]
)
def test_packed_tree_is_sqlites_tree_with_the_same_boxes(n, depth):
    conn = _db(_points(n))
    assert conn.execute("SELECT rtreecheck('packed')").fetchone()[0] == "ok"
    assert _depth(conn, "packed") == depth
    packed = conn.execute("SELECT * FROM packed ORDER BY id").fetchall()
    assert packed == conn.execute("SELECT * FROM reference ORDER BY id").fetchall()
    assert len(packed) == n


def test_box_queries_find_what_a_scan_finds_and_sqlite_edits_the_tree():
    conn = _db(_points(6000, seed=3))
    rnd = random.Random(5)
    for _ in range(40):
        x, y = rnd.uniform(-180, 170), rnd.uniform(-90, 80)
        box = (x, x + rnd.uniform(0, 40), y, y + rnd.uniform(0, 30))
        found = conn.execute(
            "SELECT id FROM packed WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
            (box[0], box[1], box[2], box[3]),
        ).fetchall()
        scan = conn.execute(
            "SELECT fid FROM pts WHERE lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?", box
        ).fetchall()
        assert sorted(found) == sorted(scan)
    gone = conn.execute("SELECT COUNT(*) FROM pts WHERE fid % 3 = 0").fetchone()[0]
    conn.execute("DELETE FROM packed WHERE id % 3 = 0")
    conn.execute("INSERT INTO packed VALUES (100000, 1.5, 1.5, 2.5, 2.5)")
    assert conn.execute("SELECT rtreecheck('packed')").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM packed").fetchone()[0] == 6000 - gone + 1


def test_no_points_leaves_the_empty_root():
    conn = _db([])
    assert conn.execute("SELECT rtreecheck('packed')").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM packed").fetchone()[0] == 0
