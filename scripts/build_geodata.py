"""Build geodata/suining/* from the raw sources (deterministic; safe to re-run).

The raw sources live in ../shared/sources/suining (outside this repository); the files this
build needs are copied, with their licence notes (SOURCES.md), into geodata/sources/suining/,
so by default the build reads that copy and is reproducible from the repository alone:

    python scripts/build_geodata.py                       # → geodata/suining/
    python scripts/build_geodata.py --sources ../shared/sources/suining --out /tmp/x

The logic is product code in floodpost.geo.build (and tested there).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout even without `pip install -e`

from floodpost.geo.build import build_all  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=Path, default=ROOT / "geodata" / "sources" / "suining")
    ap.add_argument("--out", type=Path, default=ROOT / "geodata" / "suining")
    args = ap.parse_args(argv)
    sizes = build_all(args.sources, args.out)
    for name, size in sizes.items():
        print(f"{args.out / name}\t{size / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
