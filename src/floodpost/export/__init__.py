"""Exports of the report log with its routing (issues 5, 12, 14): CSV, XLSX, GeoJSON, GeoPackage.

Every writer pages through `store.list_reports` with the report list's filters and yields bytes
as it goes, so memory stays bounded however long the log is and the download starts at once:
CSV and GeoJSON are text made a page at a time, XLSX is a zip written to the response as it is
compressed (export/xlsx.py). A GeoPackage is a SQLite file whose first page changes until the
last row is in, so it is built in a temporary file (export/gpkg.py) and then streamed from it.
"""

from floodpost.export.formats import FORMATS, export_stream

__all__ = ["FORMATS", "export_stream"]
