"""docs/API.md stays true (datasette style): every route the app serves is documented, every
documented route exists, every CLI subcommand and option is documented, the contract's routes all
exist, and the enumerations, error codes and export columns the docs list are the code's own.

Routes are matched on `METHOD /path` at the start of a heading or of a table row, with the path
written the way FastAPI spells it (`/api/reports/{report_id}`).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts

from floodpost import errors
from floodpost.cli import build_parser
from floodpost.export.columns import FIELD_NAMES
from floodpost.reports import model

ROOT = Path(__file__).resolve().parents[1]
API_MD = ROOT / "docs" / "API.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# `METHOD /path` opening a heading (## …) or a table row (| …), optionally in backticks.
DOC_ROUTE = re.compile(
    r"^(?:#{2,6}\s+|\|\s*)`?(" + "|".join(METHODS) + r") (/[^\s`|]*)`?", re.MULTILINE
)

# Mirrors the HTTP tables of shared/docs/CONTRACT.md (the public interface every outside client
# relies on). CI checks the repository out without shared/, so the list lives here; when the
# contract is readable beside the repository, test_contract_mirror_is_current compares the two.
CONTRACT_ROUTES = frozenset(
    {
        ("GET", "/healthz"),
        ("POST", "/api/auth/token"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("GET", "/api/layers"),
        ("GET", "/api/layers/{id}"),
        ("POST", "/api/reports"),
        ("GET", "/api/reports"),
        ("GET", "/api/events"),
        ("GET", "/api/stats/summary"),
        ("GET", "/api/stats/by-township"),
        ("GET", "/api/stats/by-zone"),
        ("GET", "/api/stats/by-village"),
        ("GET", "/api/stats/by-day"),
        ("GET", "/api/export"),
        # Early warning (issue 9)
        ("POST", "/api/readings"),
        ("GET", "/api/readings"),
        ("GET", "/api/warnings"),
        # Evacuation orders and roll-call (issue #10).
        ("POST", "/api/orders"),
        ("GET", "/api/orders"),
        ("GET", "/api/orders/{id}"),
        ("POST", "/api/orders/{id}/ack"),
        ("POST", "/api/orders/{id}/cancel"),
        ("GET", "/api/orders/{id}/cap"),
        ("GET", "/api/alerts.atom"),
        ("GET", "/api/rollcall"),
        ("POST", "/api/rollcall/{household_id}"),
        # Pages table (served as GET).
        ("GET", "/"),
        ("GET", "/report"),
        ("GET", "/review"),
    }
)
# Routes the contract already describes for open issues, not built yet: the mirror test counts
# them as part of the contract, test_every_contract_route_exists does not require them, and
# test_pending_contract_routes_are_not_served fails once one is served, so it moves up to
# CONTRACT_ROUTES with its tests in the change that builds it.
CONTRACT_PENDING = {}
CONTRACT_MD = ROOT.parent / "shared" / "docs" / "CONTRACT.md"


def _api_md() -> str:
    return API_MD.read_text(encoding="utf-8")


def _shape(path: str) -> str:
    """A path with its parameter names blanked: /api/layers/{id} == /api/layers/{layer_id}."""
    return re.sub(r"{[^}]*}", "{}", path)


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of everything the app serves, the static mount included."""
    found = set()
    for ctx in iter_route_contexts(app.routes):
        methods = ctx.methods if ctx.methods is not None else {"GET"}  # a Mount serves GET
        for method in methods:
            if method != "HEAD":
                found.add((method, ctx.path_format))
    return found


def doc_routes(text: str) -> set[tuple[str, str]]:
    return {(m, p) for m, p in DOC_ROUTE.findall(text)}


def test_every_route_the_app_serves_is_documented(app):
    missing = sorted(app_routes(app) - doc_routes(_api_md()))
    assert missing == [], f"routes missing from docs/API.md: {missing}"


def test_every_documented_route_exists(app):
    stale = sorted(doc_routes(_api_md()) - app_routes(app))
    assert stale == [], f"docs/API.md documents routes the app does not serve: {stale}"


def test_every_contract_route_exists(app):
    served = {(m, _shape(p)) for m, p in app_routes(app)}
    missing = sorted(r for r in CONTRACT_ROUTES if (r[0], _shape(r[1])) not in served)
    assert missing == [], f"CONTRACT.md routes the app does not serve: {missing}"


def _contract_routes_from(text: str) -> set[tuple[str, str]]:
    """Routes named in the contract's first table column: `GET /a`, `GET /a` · `b`, `GET /x, POST /x`."""
    found: set[tuple[str, str]] = set()
    in_pages = False
    for line in text.splitlines():
        if line.startswith("## "):
            in_pages = line.strip() == "## Pages"
        if not line.startswith("| `"):
            continue
        cell = line.replace("\\|", "/").split("|")[1]  # `csv\|xlsx` is one cell
        if in_pages:  # `/report` (field): the path is the backticked part
            page = re.search(r"`([^`]+)`", cell)
            if page:
                found.add(("GET", page.group(1)))
            continue
        last_base = None
        for method, path in re.findall(r"`(?:(GET|POST|PUT|PATCH|DELETE) )?([^`]+)`", cell):
            if method:
                last_base = (method, path.split("?")[0])
                found.add(last_base)
            elif last_base:  # `GET /api/stats/by-township` · `by-zone`: a sibling of the last
                found.add((last_base[0], last_base[1].rsplit("/", 1)[0] + "/" + path))
    return found


@pytest.mark.skipif(not CONTRACT_MD.is_file(), reason="shared/docs/CONTRACT.md not beside the repo")
def test_contract_mirror_is_current():
    from_contract = _contract_routes_from(CONTRACT_MD.read_text(encoding="utf-8"))
    mirrored = CONTRACT_ROUTES | CONTRACT_PENDING.keys()
    assert from_contract == mirrored, (
        "CONTRACT_ROUTES + CONTRACT_PENDING no longer mirror shared/docs/CONTRACT.md: "
        f"only in contract {sorted(from_contract - mirrored)}, "
        f"only here {sorted(mirrored - from_contract)}"
    )


def test_pending_contract_routes_are_not_served(app):
    served = {(m, _shape(p)) for m, p in app_routes(app)}
    built = sorted(r for r in CONTRACT_PENDING if (r[0], _shape(r[1])) in served)
    assert built == [], f"served now: move them from CONTRACT_PENDING to CONTRACT_ROUTES: {built}"
    assert not CONTRACT_ROUTES & CONTRACT_PENDING.keys()


def test_route_pattern_reads_headings_and_table_rows():
    text = "### `POST /api/reports`\n| `GET /api/x/{id}` | y |\nGET /not/a/heading\n"
    assert doc_routes(text) == {("POST", "/api/reports"), ("GET", "/api/x/{id}")}


# -- command line --------------------------------------------------------------------------
def cli_commands() -> Iterator[tuple[str, list[str]]]:
    """("serve", ["--db", ...]), ("user add", ["NAME", "--role", ...]) for every leaf command."""

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> Iterator[tuple[str, list[str]]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if subs:
            for name, sub in subs[0].choices.items():
                yield from walk(sub, [*words, name])
            return
        options = []
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            long = [s for s in action.option_strings if s.startswith("--")]
            options.append(long[0] if long else action.dest.upper())
        yield " ".join(words), options

    yield from walk(build_parser(), [])


def cli_section(text: str, command: str) -> str:
    """The heading `floodpost <command> …` and its text, up to the next heading of its level or
    above."""
    head = re.search(
        r"^(#{2,6}) `floodpost " + re.escape(command) + r"(?![\w-])[^\n]*\n", text, re.MULTILINE
    )
    if head is None:
        return ""
    level = len(head.group(1))
    end = re.compile(r"^#{1,LEVEL} ".replace("LEVEL", str(level)), re.MULTILINE).search(
        text, head.end()
    )
    return text[head.start() : end.start() if end else len(text)]


def test_cli_walk_finds_every_subcommand():
    names = [name for name, _ in cli_commands()]
    assert names == [
        "serve",
        "demo",
        "user add",
        "user passwd",
        "user disable",
        "households import",
        "readings import",
        "simulate",
        "import",
        "sms receive",
    ]


@pytest.mark.parametrize("command,options", list(cli_commands()))
def test_every_cli_command_and_option_is_documented(command, options):
    section = cli_section(_api_md(), command)
    assert section, f"docs/API.md has no heading `floodpost {command} …`"
    missing = [o for o in options if not re.search(re.escape(o) + r"(?![\w-])", section)]
    assert missing == [], f"`floodpost {command}` options missing from docs/API.md: {missing}"


# -- the values the docs enumerate are the code's ---------------------------------------------
@pytest.mark.parametrize(
    "values",
    [
        model.KINDS,
        model.INCIDENT_SUBTYPES,
        model.RESERVOIR_STATUSES,
        model.URGENCIES,
        model.HELP_STATES,
        model.RESOLUTIONS,
        model.REPORT_STATUSES,
        ("commander", "staff", "field", "viewer", "gauge"),
    ],
    ids=["kinds", "subtypes", "reservoir_statuses", "urgencies", "states", "resolutions",
         "statuses", "roles"],
)  # fmt: skip
def test_enumerations_are_documented(values):
    text = _api_md()
    assert [v for v in values if f"`{v}`" not in text] == []


def test_every_error_code_is_documented():
    codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.FloodpostError)
        and cls.status < 500
    }  # fmt: skip
    text = _api_md()
    assert sorted(c for c in codes if f"`{c}`" not in text) == []


def test_every_export_column_is_documented():
    text = _api_md()
    match = re.search(r"<!-- export-columns -->\n(.*?)\n<!-- /export-columns -->", text, re.S)
    assert match, "docs/API.md lost its export-columns markers"
    listed = re.findall(r"`(\w+)`", match.group(1))
    assert listed == list(FIELD_NAMES), "export columns in docs/API.md differ from the code's order"


def test_json_examples_are_valid_json():
    blocks = re.findall(r"```json\n(.*?)```", _api_md(), re.S)
    assert blocks, "docs/API.md has no JSON examples"
    for block in blocks:
        json.loads(block)


# -- docs/OPERATIONS.md -----------------------------------------------------------------------
OPERATIONS_MD = ROOT / "docs" / "OPERATIONS.md"


def test_settings_named_in_the_docs_exist():
    from floodpost.settings import Settings

    known = {f"FLOODPOST_{name.upper()}" for name in Settings.model_fields}
    named = set()
    for path in (API_MD, OPERATIONS_MD):
        named |= set(re.findall(r"FLOODPOST_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    named.discard("FLOODPOST_PG_BIN")  # scripts/pg_cluster.sh's own variable
    assert sorted(named - known) == []


def test_files_the_operations_guide_points_to_exist():
    text = OPERATIONS_MD.read_text(encoding="utf-8")
    paths = set(re.findall(r"\b((?:scripts|bench|geodata)/[\w./-]+\.(?:sh|py|md))", text))
    assert paths, "docs/OPERATIONS.md names no repository files"
    assert sorted(p for p in paths if not (ROOT / p).is_file()) == []


def test_the_sqlite_to_postgres_copy_script_in_the_guide_works(tmp_path, catalogue):
    """The guide's copy script, run as written (SQLite to SQLite here; the PostgreSQL target is
    the same Store interface, tested in test_store.py on both backends)."""
    import subprocess
    import sys
    import time

    from floodpost.replay.demo import load_all
    from floodpost.storage import open_store
    from floodpost.storage.base import User

    blocks = re.findall(r"```python\n(.*?)```", OPERATIONS_MD.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "expected exactly one python block (copy_store.py)"
    script = tmp_path / "copy_store.py"
    script.write_text(blocks[0], encoding="utf-8")
    src_url, dst_url = f"sqlite:///{tmp_path}/old.db", f"sqlite:///{tmp_path}/new.db"
    src = open_store(src_url)
    try:
        n = load_all(src, catalogue)
        src.add_user(User("李明", "field", "$argon2id$not-a-real-hash", time.time()))
        before = src.read("SELECT kind, SUM(people) AS p FROM agg GROUP BY kind ORDER BY kind")
    finally:
        src.close()
    out = subprocess.run(
        [sys.executable, str(script), src_url, dst_url],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == f"copied {n} reports"
    dst = open_store(dst_url)
    try:
        assert (
            dst.read("SELECT kind, SUM(people) AS p FROM agg GROUP BY kind ORDER BY kind") == before
        )
        assert dst.get_user("李明").role == "field"
    finally:
        dst.close()
