"""Where the bundled web assets and geodata live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(installed: str, checkout: str) -> Path:
    # A wheel carries them inside the package (force-include); an editable install or a
    # checkout uses the repository's top-level folders.
    inside = _PKG / installed
    if inside.is_dir():
        return inside
    return _PKG.parents[1] / checkout


def web_dir() -> Path:
    return _find("_web", "web")


def geodata_dir() -> Path:
    return _find("_geodata", "geodata")


def default_geodata() -> Path:
    return geodata_dir() / "suining"
