"""Exports of the report log with its routing (issue 5): CSV, XLSX, GeoJSON, GeoPackage.

Every writer pages through `store.list_reports` and yields bytes, so memory stays bounded however
long the log is; XLSX and GeoPackage are written to a temporary file first (their formats need
the whole file before it can be read) and then streamed from it.
"""

from floodpost.export.formats import FORMATS, export_stream

__all__ = ["FORMATS", "export_stream"]
