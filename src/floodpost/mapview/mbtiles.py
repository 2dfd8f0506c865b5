"""An offline basemap in one MBTiles file (SQLite; spec 1.3), served at /tiles/{z}/{x}/{y}.

MBTiles stores rows in TMS order (row 0 at the south), while Leaflet asks for XYZ tiles (row 0 at
the north): row = 2^z − 1 − y. Raster tiles (PNG, JPEG, WebP) are drawn by the map; vector tiles
(`format: pbf`) are served with their type, gzip-encoded as stored, for vector-capable clients.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from floodpost.errors import ConfigError

MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "pbf": "application/x-protobuf",
}
RASTER = frozenset({"png", "jpg", "jpeg", "webp"})
TILE_URL = "/tiles/{z}/{x}/{y}"


@dataclass(frozen=True)
class Tile:
    data: bytes
    media_type: str
    gzipped: bool


class MBTiles:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ConfigError(f"basemap {self.path} does not exist", field="basemap")
        try:
            self._conn = sqlite3.connect(
                f"file:{self.path.resolve()}?mode=ro", uri=True, check_same_thread=False
            )
            rows = self._conn.execute("SELECT name, value FROM metadata").fetchall()
            self._conn.execute("SELECT 1 FROM tiles LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise ConfigError(
                f"basemap {self.path} is not an MBTiles file ({exc})", field="basemap"
            ) from exc
        self._lock = threading.Lock()
        self.metadata: dict[str, str] = {str(k): str(v) for k, v in rows}
        fmt = self.metadata.get("format", "png").lower()
        if fmt not in MEDIA_TYPES:
            raise ConfigError(f"basemap {self.path}: unknown tile format {fmt!r}", field="basemap")
        self.format = fmt

    @property
    def is_raster(self) -> bool:
        return self.format in RASTER

    @property
    def attribution(self) -> str:
        return self.metadata.get("attribution", "")

    def tile(self, z: int, x: int, y: int) -> Tile | None:
        if not (0 <= z <= 30 and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        row = (2**z - 1) - y  # XYZ → TMS
        with self._lock:
            found = self._conn.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                "AND tile_row = ?",
                (z, x, row),
            ).fetchone()
        if found is None:
            return None
        data = bytes(found[0])
        if self.format == "jpg" or self.format == "jpeg" or self.format == "png":
            # Some tools write JPEG tiles into a "png" file; trust the bytes.
            media = "image/jpeg" if data[:3] == b"\xff\xd8\xff" else MEDIA_TYPES[self.format]
            if data[:8] == b"\x89PNG\r\n\x1a\n":
                media = "image/png"
        else:
            media = MEDIA_TYPES[self.format]
        return Tile(data, media, data[:2] == b"\x1f\x8b")

    def close(self) -> None:
        self._conn.close()


def basemap_attribution(path: Path) -> tuple[str, bool]:
    """(attribution from the file's metadata, raster?) — read once when settings are made."""
    tiles = MBTiles(path)
    try:
        return tiles.attribution, tiles.is_raster
    finally:
        tiles.close()
