#!/usr/bin/env bash
# Release step (issue 13, supply chain): audit the locked dependencies for known vulnerabilities.
# pip-audit checks every pin of the lock files (as pinned and hashed, without installing anything)
# against the OSV database (PyPA advisories). It needs to reach the advisory service, which a
# command-post machine or CI without internet cannot: run it on the release machine before
# tagging, and fail the release on any finding. Needs `pip-audit` (pip install pip-audit) in any
# scratch environment; nothing here touches .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
AUDIT=${PIP_AUDIT:-pip-audit}
for lock in requirements.lock requirements-test.lock; do
    echo "audit: $lock"
    "$AUDIT" --disable-pip --require-hashes --strict --progress-spinner off -r "$lock" "$@"
done
