"""Which responses the app's gzip middleware leaves as they are (web/app.py).

Starlette's defaults (images, zips, fonts, the live event stream), and the XLSX export: it is a
zip deflated already, and gzip level 6 gained 0.2 % of its size for 0.4 s of CPU per 100,000
reports (13.37 MB → 13.34 MB, bench/README.md). The GeoPackage export stays compressible: it is
SQLite pages of uncompressed text, and gzip takes 2/3 off it (100,000 reports: 37.9 MB →
12.7 MB for 1.1 s of CPU) — worth it on a command post's field uplink. CSV and GeoJSON likewise.
"""

from __future__ import annotations

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES

from floodpost.export import FORMATS

ALREADY_COMPRESSED = (FORMATS["xlsx"].media_type.partition(";")[0],)
GZIP_EXCLUDED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, *ALREADY_COMPRESSED)
