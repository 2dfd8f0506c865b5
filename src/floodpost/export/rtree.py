"""A GeoPackage R-tree spatial index of points, bulk-loaded into SQLite's R-tree shadow tables.

Filling `rtree_<table>_<column>` row by row (INSERT INTO the virtual table) made SQLite choose a
leaf and split nodes for every point: 1.3 s of the 4.1 s a GeoPackage of 100k reports took, and
about 15 s per million (bench/README.md); sorting the points first did not help (Morton or
x-stripes order took longer still). Here the tree is packed whole, Sort-Tile-Recursive: the
points sorted by longitude into vertical slices of about √(leaves) leaves each, each slice by
latitude into full leaves, the same again one level up until one node is left, the root.

The nodes are written straight into the virtual table's shadow tables in SQLite's own format
(sqlite/ext/rtree/rtree.c): a node is a blob of the size of the existing root (1228 bytes: GDAL's
table has 2 dimensions, SQLite caps a node at 51 cells), starting with the tree's depth (root
only) and its cell count as big-endian 16-bit integers, then 24-byte cells — a 64-bit id (a
feature's fid in a leaf, a child node's number above) and minx, maxx, miny, maxy as big-endian
32-bit floats, rounded outwards as SQLite rounds them. `_rowid` maps each fid to its leaf,
`_parent` each node but the root (node 1) to its parent. `rtreecheck()` accepts the result, and
SQLite (or GDAL) later inserts into and deletes from it like any tree it built itself.

Input: the coordinates as two float64 arrays indexed by fid - 1, which the export collects as
it inserts (16 bytes a report, 16 MB per million; reading them back sorted from the finished
table took 2 s per million, a scan of every row). The build adds the order by longitude and the
leaf of each fid (12 bytes a point), one slice's cells and the nodes above the leaves (one per
51 points): about 40 MB at its peak for a million points, freed when the export ends.
"""

from __future__ import annotations

import math
import sqlite3
import struct

import numpy as np
import numpy.typing as npt

# SQLite's RNDTOWARDS and RNDAWAY: how rtree.c widens a double that does not fit a float exactly.
_TOWARDS = 1.0 - 1.0 / 8388608.0
_AWAY = 1.0 + 1.0 / 8388608.0
CELL = np.dtype([("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")])
_HEADER = struct.Struct(">HH")
_ROWID_BATCH = 50_000

Floats = npt.NDArray[np.float64]


def value_down(d: Floats) -> npt.NDArray[np.float32]:
    """rtree.c's rtreeValueDown: the nearest float, or one just below `d` if that is above it."""
    f = d.astype(np.float32)
    over = f.astype(np.float64) > d
    f[over] = (d[over] * np.where(d[over] < 0, _AWAY, _TOWARDS)).astype(np.float32)
    return f


def value_up(d: Floats) -> npt.NDArray[np.float32]:
    """rtree.c's rtreeValueUp: the nearest float, or one just above `d` if that is below it."""
    f = d.astype(np.float32)
    under = f.astype(np.float64) < d
    f[under] = (d[under] * np.where(d[under] < 0, _TOWARDS, _AWAY)).astype(np.float32)
    return f


class _Writer:
    """Numbers nodes (the root is 1, the others 2, 3, … as made) and inserts them."""

    def __init__(self, conn: sqlite3.Connection, rtree: str, node_bytes: int) -> None:
        self.conn, self.rtree, self.node_bytes = conn, rtree, node_bytes
        self.cap = (node_bytes - 4) // CELL.itemsize
        self.next_node = 2

    def blob(self, cells: npt.NDArray[np.void], depth: int = 0) -> bytes:
        # astype: np.concatenate and friends answer native (little-endian) byte order.
        data = _HEADER.pack(depth, len(cells)) + cells.astype(CELL, copy=False).tobytes()
        return data + bytes(self.node_bytes - len(data))

    def nodes(self, cells: npt.NDArray[np.void], root: bool, depth: int) -> npt.NDArray[np.void]:
        """Writes `cells` (already in packing order) as nodes of `cap` cells; returns one cell
        per node (its number and bounding box), for the level above."""
        count = math.ceil(len(cells) / self.cap)
        numbers = [1] if root else list(range(self.next_node, self.next_node + count))
        if not root:
            self.next_node += count
        starts = np.arange(count) * self.cap
        self.conn.executemany(
            f'INSERT INTO "{self.rtree}_node" (nodeno, data) VALUES (?, ?)',
            (
                (number, self.blob(cells[s : s + self.cap], depth if root else 0))
                for number, s in zip(numbers, starts.tolist(), strict=True)
            ),
        )
        up = np.zeros(count, dtype=CELL)
        up["id"] = numbers
        up["minx"] = np.minimum.reduceat(cells["minx"], starts)
        up["maxx"] = np.maximum.reduceat(cells["maxx"], starts)
        up["miny"] = np.minimum.reduceat(cells["miny"], starts)
        up["maxy"] = np.maximum.reduceat(cells["maxy"], starts)
        return up

    def children(self, cells: npt.NDArray[np.void], parents: npt.NDArray[np.void]) -> None:
        """`_parent` rows: cell i of `cells` lies in node parents[i // cap]."""
        owner = parents["id"][np.arange(len(cells)) // self.cap]
        self.conn.executemany(
            f'INSERT INTO "{self.rtree}_parent" (nodeno, parentnode) VALUES (?, ?)',
            zip(cells["id"].tolist(), owner.tolist(), strict=True),
        )


def _str_order(cells: npt.NDArray[np.void], cap: int) -> npt.NDArray[np.void]:
    """One level's cells in Sort-Tile-Recursive order (slices by x, each by y)."""
    slices = math.ceil(math.sqrt(math.ceil(len(cells) / cap)))
    per_slice = math.ceil(len(cells) / slices / cap) * cap
    cx = cells["minx"].astype(np.float64) + cells["maxx"]
    cy = cells["miny"].astype(np.float64) + cells["maxy"]
    slice_of = np.empty(len(cells), dtype=np.int64)
    slice_of[np.argsort(cx, kind="stable")] = np.arange(len(cells)) // per_slice
    return cells[np.lexsort((cy, slice_of))]


def bulk_load(conn: sqlite3.Connection, rtree: str, lon: Floats, lat: Floats) -> None:
    """Fills the empty R-tree `rtree` (GDAL's, with its empty root node) inside the caller's
    transaction with the points (lon[i], lat[i]) of the features with fid i + 1; a NaN
    coordinate means no point."""
    fids = np.flatnonzero(~(np.isnan(lon) | np.isnan(lat))) + 1
    if len(fids) == 0:
        return
    (node_bytes,) = conn.execute(
        f'SELECT length(data) FROM "{rtree}_node" WHERE nodeno = 1'
    ).fetchone()
    for shadow in ("node", "rowid", "parent"):
        conn.execute(f'DELETE FROM "{rtree}_{shadow}"')
    w = _Writer(conn, rtree, int(node_bytes))
    single = len(fids) <= w.cap  # one leaf, which is the root
    leaves = math.ceil(len(fids) / w.cap)
    per_slice = math.ceil(leaves / math.ceil(math.sqrt(leaves))) * w.cap
    by_lon = fids[np.argsort(lon[fids - 1], kind="stable")]
    leaf_of = np.zeros(len(lon), dtype=np.int32)  # fid - 1 -> its leaf's node number
    level: list[npt.NDArray[np.void]] = []
    for start in range(0, len(by_lon), per_slice):
        part = by_lon[start : start + per_slice]
        part = part[np.argsort(lat[part - 1], kind="stable")]
        x, y = lon[part - 1], lat[part - 1]
        cells = np.empty(len(part), dtype=CELL)
        cells["id"] = part
        cells["minx"], cells["maxx"] = value_down(x), value_up(x)
        cells["miny"], cells["maxy"] = value_down(y), value_up(y)
        made = w.nodes(cells, root=single, depth=0)
        leaf_of[part - 1] = made["id"][np.arange(len(part)) // w.cap]
        level.append(made)
    # `_rowid` in fid order: a b-tree filled in key order, not at random (1M points: 1.7 s).
    for start in range(0, len(fids), _ROWID_BATCH):
        batch = fids[start : start + _ROWID_BATCH]
        conn.executemany(
            f'INSERT INTO "{rtree}_rowid" (rowid, nodeno) VALUES (?, ?)',
            zip(batch.tolist(), leaf_of[batch - 1].tolist(), strict=True),
        )
    cells, depth = np.concatenate(level), 1
    while not single:
        cells = _str_order(cells, w.cap)
        root = len(cells) <= w.cap
        made = w.nodes(cells, root=root, depth=depth)
        w.children(cells, made)
        if root:
            return
        cells, depth = made, depth + 1
