"""Supply chain (issue 13): the service's dependencies are pinned and hashed in lock files that
match pyproject.toml, and scripts/install.sh installs them with hash checking only."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)")


def _locked(name: str) -> dict[str, list[tuple[Version, int]]]:
    """{package: [(version, hash count)]} of a lock file (one package may have a pin per marker)."""
    out: dict[str, list[tuple[Version, int]]] = {}
    current: list[tuple[Version, int]] | None = None
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        m = PIN.match(line)
        if m:
            current = out.setdefault(canonicalize_name(m.group(1)), [])
            current.append((Version(m.group(2)), 0))
        elif "--hash=sha256:" in line and current:
            version, n = current[-1]
            current[-1] = (version, n + 1)
    return out


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.mark.parametrize(
    "lock,extras", [("requirements.lock", []), ("requirements-test.lock", ["test"])]
)
def test_every_dependency_is_pinned_hashed_and_within_its_bounds(lock, extras):
    locked = _locked(lock)
    assert locked, lock
    for name, pins in locked.items():
        assert all(n >= 1 for _, n in pins), f"{lock}: {name} has a pin without a hash"
    project = _project()
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    wanted.append("hatchling>=1.21")  # the build backend, for the editable install
    for spec in map(Requirement, wanted):
        pins = locked.get(canonicalize_name(spec.name))
        assert pins, f"{lock} does not pin {spec.name}: run scripts/lock.sh"
        for version, _ in pins:
            assert spec.specifier.contains(version, prereleases=True), (lock, spec, version)


def test_the_service_lock_holds_no_test_tools():
    service = _locked("requirements.lock")
    for tool in ("pytest", "playwright", "schemathesis"):
        assert canonicalize_name(tool) not in service


def test_install_script_checks_hashes_and_installs_nothing_unlocked():
    script = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    installs = [line for line in script.splitlines() if re.search(r"pip install", line)]
    assert installs, "scripts/install.sh installs nothing?"
    for line in installs:
        if line.lstrip().startswith("#"):
            continue
        assert "--require-hashes" in line or (
            "--no-deps" in line
            and "--no-build-isolation" in line
            and line.rstrip().endswith("-e .")
        ), line
    assert "requirements.lock" in script and "requirements-test.lock" in script
