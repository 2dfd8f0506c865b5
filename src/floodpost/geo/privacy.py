"""Personal data in layers: the zones layer carries each responsible member's phone number."""

from __future__ import annotations

import json


def without_contacts(geojson: bytes, keep: frozenset[str] = frozenset()) -> bytes:
    """The zones layer with `contact` (the owner's phone number) removed, except in `keep`."""
    data = json.loads(geojson)
    for feature in data.get("features", []):
        props = feature.get("properties") or {}
        if props.get("id") not in keep:
            props.pop("contact", None)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
