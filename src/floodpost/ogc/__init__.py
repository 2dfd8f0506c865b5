"""OGC API – Features Part 1 (core, geojson, oas30) over the catalogue and the report store.

Framework-free: web/routers/ogc.py parses the HTTP request into plain values, calls
`service.OgcService` and sends what it returns. Collections come from `registry.providers`, a
plain dict of id → Provider (pygeoapi's provider idea), so new collections are a few lines.
"""
