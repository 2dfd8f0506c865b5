"""`floodpost readings import FILE`: an SL 323 CSV export into the store, all rows or none."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from floodpost.errors import InvalidInput
from floodpost.hydro.intake import store_readings
from floodpost.hydro.network import GaugeNetwork
from floodpost.hydro.sl323 import decode, parse_csv
from floodpost.storage.base import Store


def import_file(
    store: Store, catalogue: Any, path: Path, *, actor: str | None, now: float | None = None
) -> dict[str, Any]:
    """Parse the whole file first (a bad row stops it, naming line and column), then keep its
    readings in one transaction: a conflict with stored readings keeps nothing either."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc.strerror})", field="file") from exc
    net = GaugeNetwork.of(catalogue)
    parsed = parse_csv(decode(data), net.infos, now or time.time(), name=Path(path).name)
    if not parsed.readings:
        return {
            "table": parsed.table,
            "accepted": 0,
            "duplicates": 0,
            "skipped": parsed.skipped,
            "warnings": [],
        }
    result = store_readings(
        store, net, parsed.readings, actor=actor, source=f"file:{Path(path).name}"
    )
    return {"table": parsed.table, "skipped": parsed.skipped, **result}
