"""The checks are written once: pre-commit runs what scripts/test.sh runs, the JavaScript tools
are pinned, and page scripts share one global (window.floodpost)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
JS = ROOT / "web" / "static" / "js"


def _test_sh_checks() -> list[str]:
    lines = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.startswith((".venv/bin/", "node_modules/.bin/"))]


def test_pre_commit_runs_the_checks_of_test_sh():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    checks = _test_sh_checks()
    assert len(checks) >= 5  # ruff check, ruff format, mypy, eslint, prettier
    assert sorted(entries) == sorted(checks)


def test_javascript_tools_are_pinned_and_locked():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    dev = package["devDependencies"]
    assert {"eslint", "prettier"} <= set(dev)
    for name, version in dev.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is not exact"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert dev["eslint"].startswith("9.")
    install = (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
    assert "npm ci" in install
    assert "node_modules/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


def test_page_scripts_publish_only_window_floodpost():
    published = set()
    for path in JS.glob("*.js"):
        source = path.read_text(encoding="utf-8")
        published |= set(re.findall(r"\bwindow\.([A-Za-z_$][\w$]*)\s*=(?!=)", source))
        published |= set(re.findall(r"\bglobal\.([A-Za-z_$][\w$]*)\s*=(?!=)", source))
    assert published == {"floodpost"}


def test_one_csrf_cookie_reader():
    readers = [p.name for p in JS.glob("*.js") if "fp_csrf" in p.read_text(encoding="utf-8")]
    assert readers == ["http.js"]


def test_every_page_loads_the_http_helper_first():
    templates = ROOT / "web" / "templates"
    base = (templates / "_base.html").read_text(encoding="utf-8")
    assert base.index("/static/js/http.js") < base.index("{% block scripts %}")
    report = (templates / "report.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script src="/static/js/([\w.-]+)\?', report)
    assert scripts[0] == "http.js"
