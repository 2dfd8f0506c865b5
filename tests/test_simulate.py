"""`floodpost simulate`: deterministic per seed, exact counts, a realistic mix."""

from __future__ import annotations

import json
from collections import Counter

from floodpost.cli import main
from floodpost.replay.simulate import build_reports, simulate
from floodpost.storage import open_store


def test_deterministic_per_seed(catalogue):
    a = build_reports(catalogue, 2000, seed=7)
    b = build_reports(catalogue, 2000, seed=7)
    c = build_reports(catalogue, 2000, seed=8)
    assert [(r["id"], h) for r, h in a] == [(r["id"], h) for r, h in b]
    assert json.dumps([r for r, _ in a]) == json.dumps([r for r, _ in b])
    assert {r["id"] for r, _ in a}.isdisjoint({r["id"] for r, _ in c})


def test_counts_mix_and_links(store, catalogue):
    n = simulate(store, catalogue, events=5000, seed=3)
    assert n == 5000 and store.last_change_seq() == 5000
    rows = store.read(
        "SELECT kind, state, status, COUNT(*) AS n FROM reports GROUP BY kind, state, status"
    )
    kinds = Counter()
    states = Counter()
    statuses = Counter()
    for r in rows:
        kinds[r["kind"]] += int(r["n"])
        statuses[r["status"]] += int(r["n"])
        if r["kind"] == "help_request":
            states[r["state"]] += int(r["n"])
    assert set(kinds) == {"evacuation", "rescue", "incident", "help_request"}
    assert set(states) == {"new", "assigned", "en_route", "resolved"}
    assert statuses["retracted"] > 0
    actions = Counter(r["action"] for r in store.read("SELECT action FROM changes"))
    assert actions["create"] == sum(kinds.values()) and actions["retract"] + actions["correct"] > 0
    # Spread over villages, zones and the flood week (local days).
    spread = store.read(
        "SELECT COUNT(DISTINCT village_code) AS v, COUNT(DISTINCT zone_id) AS z FROM reports"
    )[0]
    assert int(spread["v"]) > 250 and int(spread["z"]) > 80
    days = {r["hour"][:10] for r in store.read("SELECT DISTINCT hour FROM agg")}
    assert {"2017-06-24", "2017-07-01"} <= days
    # Every "rescued N" help request has its linked rescue report with N people.
    resolved, _ = store.list_reports(kind="help_request", limit=10000)
    rescued = [r for r in resolved if r.get("resolution") == "rescued"]
    assert rescued
    for r in rescued[:50]:
        rescue = store.get_report(r["rescue_id"])
        assert rescue["help_request_id"] == r["id"] and rescue["people"] == r["rescued"]
    # Routing matches the catalogue.
    sample, _ = store.list_reports(limit=200)
    for r in sample:
        v = catalogue.village(r["village_code"])
        assert v["township_code"] == r["township_code"]
        assert r["zone_id"] == catalogue.zone_of_village(r["village_code"])


def test_cli(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/sim.db"
    assert main(["simulate", "--db", url, "--events", "1500", "--seed", "2"]) == 0
    assert "1500" in capsys.readouterr().out
    s = open_store(url)
    try:
        assert s.last_change_seq() == 1500
    finally:
        s.close()
