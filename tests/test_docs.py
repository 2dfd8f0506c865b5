"""The README stays true: its settings table, its two commands, and CI running its test command."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.settings_table import settings_table

ROOT = Path(__file__).resolve().parents[1]


def test_settings_table_matches_settings_class():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", readme, re.S
    )
    assert match, "README lost its settings table markers"
    assert match.group(1).strip() == settings_table(), (
        "README settings table is stale: run `python scripts/settings_table.py`"
    )


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scripts/start.sh" in readme and "scripts/test.sh" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci
    for script in ("start.sh", "test.sh", "install.sh"):
        assert (ROOT / "scripts" / script).stat().st_mode & 0o111, f"{script} is not executable"


def test_no_cdn_anywhere_in_served_code():
    cdn = re.compile(
        r"cdn\.jsdelivr|cdnjs\.cloudflare|unpkg\.com|code\.jquery\.com|bootstrapcdn|fonts\.googleapis"
    )
    offenders = []
    for base in ("src", "web/templates", "web/static/js", "web/static/css"):
        for path in (ROOT / base).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".html", ".js", ".css"}:
                if cdn.search(path.read_text(encoding="utf-8", errors="replace")):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
