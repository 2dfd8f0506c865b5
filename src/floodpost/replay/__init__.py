"""Replays of flood logs: the 2017 Suining flood (demo) and synthetic logs (simulate)."""
