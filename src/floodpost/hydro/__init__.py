"""Early warning: gauges, village rain thresholds, reservoir levels and the warnings they raise.

Pure domain (no web, no storage): `thresholds` checks the geodata values, `readings` checks
readings batches, `sl323` parses SL 323 CSV exports, `rolling` keeps the rolling rain totals
and `rules` turns totals and levels into warning levels.
"""
