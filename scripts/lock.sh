#!/usr/bin/env bash
# Regenerates the pinned, hashed lock files that scripts/install.sh installs with
# `pip install --require-hashes` (issue 13, supply chain). Run after changing dependencies in
# pyproject.toml, review the diff, then run scripts/audit.sh before committing.
#   requirements.lock       the service: runtime dependencies + the build backend (hatchling)
#   requirements-test.lock  the same plus the `test` extra
# Needs `uv` (pip install uv) — in any scratch environment; nothing here touches .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
build=$(mktemp)
trap 'rm -f "$build"' EXIT
# The build backend (and what its editable builds need) is locked too, so the editable install
# runs with --no-build-isolation and nothing is fetched unhashed.
printf 'hatchling>=1.21\neditables>=0.5\n' >"$build"
# uv's default index is PyPI; UV_INDEX_URL points it elsewhere.
common=(--universal --python-version 3.11 --generate-hashes --no-header --quiet)
"$UV" pip compile "${common[@]}" pyproject.toml "$build" -o requirements.lock
"$UV" pip compile "${common[@]}" --extra test pyproject.toml "$build" -o requirements-test.lock
echo "lock: requirements.lock $(grep -c '==' requirements.lock) pins, requirements-test.lock $(grep -c '==' requirements-test.lock) pins"
