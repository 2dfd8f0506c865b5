"""Evacuation orders, their CAP 1.2 alerts and the household roll-call (issue #10)."""
