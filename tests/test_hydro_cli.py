"""`floodpost readings import FILE` and `floodpost user add --role gauge`."""

from __future__ import annotations

from floodpost.cli import main
from floodpost.storage import open_store


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_import_rain_then_a_bad_file_stores_nothing(tmp_path, sqlite_url, catalogue, capsys):
    gauge = catalogue.village("430527100201")["rain_station"]
    rows = "".join(f"{gauge},2017-06-24 {h:02d}:00:00,20.0,1.00\n" for h in (9, 10, 11))
    good = _write(
        tmp_path,
        "rain.csv",
        "STCD,TM,DRP,INTV,WTH\n" + rows + f"{gauge},2017-06-24 12:00:00,,1.00,\n",
        "gbk",
    )
    assert main(["readings", "import", str(good), "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "(ST_PPTN_R): 3 readings stored, 0 duplicates, 1 rows without a value" in out
    assert main(["readings", "import", str(good), "--db", sqlite_url]) == 0
    assert "0 readings stored, 3 duplicates" in capsys.readouterr().out
    bad = _write(
        tmp_path,
        "bad.csv",
        f"STCD,TM,DRP,INTV\n{gauge},2017-06-25 09:00:00,1.0,1\n{gauge},2017-06-25 10:00:00,1.0,60\n",
    )
    assert main(["readings", "import", str(bad), "--db", sqlite_url]) == 2
    assert "bad.csv: line 3, column INTV" in capsys.readouterr().err
    store = open_store(sqlite_url)
    try:
        n = store.read("SELECT COUNT(*) AS n FROM readings")[0]["n"]
        warned = store.read("SELECT code, level FROM warnings WHERE code = '430527100201'")
    finally:
        store.close()
    assert n == 3 and warned == [{"code": "430527100201", "level": "prepare"}]  # 60 mm in 3 h


def test_user_add_gauge(sqlite_url, capsys):
    assert (
        main(
            [
                "user",
                "add",
                "gw-1",
                "--role",
                "gauge",
                "--password",
                "a-long-password",
                "--db",
                sqlite_url,
            ]
        )
        == 0
    )
    store = open_store(sqlite_url)
    try:
        assert store.get_user("gw-1").role == "gauge"
    finally:
        store.close()
