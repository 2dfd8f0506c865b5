"""Geodata: datum conversion, the layer catalogue, report routing and the demo-data build."""
