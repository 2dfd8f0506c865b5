"""The `floodpost` command line (CONTRACT.md): serve, demo, user add, simulate, sms receive."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from floodpost.errors import FloodpostError


def _common(p: argparse.ArgumentParser, *, db_default: str | None) -> None:
    p.add_argument("--db", default=db_default, help="store URL (sqlite:///path or postgresql://…)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="floodpost", description="Flood-response command post")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service")
    _common(serve, db_default=None)
    serve.add_argument("--geodata", type=Path, help="folder of layer files (default: Suining)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=None)
    serve.add_argument("--tls-cert", dest="tls_certfile", type=Path, help="PEM certificate (HTTPS)")
    serve.add_argument("--tls-key", dest="tls_keyfile", type=Path, help="PEM private key (HTTPS)")
    serve.add_argument("--basemap", type=Path, help="MBTiles file: the offline basemap")

    demo = sub.add_parser("demo", help="replay the June 2017 Suining flood on a fresh store")
    _common(demo, db_default=None)
    demo.add_argument("--speed", default="max", help="simulated seconds per real second, or max")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)

    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument(
        "--role", required=True, choices=["commander", "staff", "field", "viewer", "gauge"]
    )
    pw = add.add_mutually_exclusive_group(required=True)
    pw.add_argument("--password")
    pw.add_argument("--password-stdin", action="store_true")
    _common(add, db_default=None)
    add.add_argument("--zone", action="append", default=[], help="zone id (repeatable)")
    add.add_argument("--phone", help="the number this person's SMS come from")
    add.add_argument("--geodata", type=Path, help="folder of layer files (to check --zone)")

    households = sub.add_parser("households", help="the household roster for roll-call")
    hh_sub = households.add_subparsers(dest="households_command", required=True)
    hh_import = hh_sub.add_parser("import", help="load a roster (CSV or XLSX)")
    hh_import.add_argument("file", type=Path)
    _common(hh_import, db_default=None)
    hh_import.add_argument("--geodata", type=Path, help="folder of layer files (default: Suining)")

    readings = sub.add_parser("readings", help="hydrological readings (SL 323 CSV exports)")
    readings_sub = readings.add_subparsers(dest="readings_command", required=True)
    rimport = readings_sub.add_parser("import", help="load an ST_PPTN_R/ST_RSVR_R/ST_RIVER_R CSV")
    rimport.add_argument("file", type=Path)
    _common(rimport, db_default=None)
    rimport.add_argument("--geodata", type=Path, help="folder of layer files (default: Suining)")

    # issue 13: either ends that account's sessions and tokens at once
    passwd = user_sub.add_parser("passwd", help="change a password (ends the account's sessions)")
    passwd.add_argument("name")
    pw2 = passwd.add_mutually_exclusive_group(required=True)
    pw2.add_argument("--password")
    pw2.add_argument("--password-stdin", action="store_true")
    _common(passwd, db_default=None)
    disable = user_sub.add_parser("disable", help="disable an account (ends its sessions)")
    disable.add_argument("name")
    _common(disable, db_default=None)

    sim = sub.add_parser("simulate", help="fill a store with a synthetic flood log")
    _common(sim, db_default=None)
    sim.add_argument("--events", type=int, required=True)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--geodata", type=Path)
    imp = sub.add_parser("import", help="convert a county's file into a geodata folder layer")
    imp.add_argument("layer", help="layer id: county, townships, villages, reservoirs, …")
    imp.add_argument(
        "file", type=Path, help="GeoJSON, GeoPackage, Shapefile (.shp/.zip), KML, CSV, XLSX"
    )
    imp.add_argument("--into", type=Path, required=True, help="geodata folder to write into")
    imp.add_argument("--datum", default="wgs84", choices=["wgs84", "gcj02", "bd09"])
    imp.add_argument("--crs", help="CRS of the coordinates, e.g. EPSG:4549 (default: the file's)")
    imp.add_argument("--lon", help="longitude (x) column of a CSV/XLSX")
    imp.add_argument("--lat", help="latitude (y) column of a CSV/XLSX")
    imp.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="source column of a schema field (repeatable), e.g. name=名称")  # fmt: skip

    sms = sub.add_parser("sms", help="SMS through gammu-smsd")
    sms_sub = sms.add_subparsers(dest="sms_command", required=True)
    receive = sms_sub.add_parser("receive", help="gammu-smsd's RunOnReceive: one incoming SMS")
    _common(receive, db_default=None)
    receive.add_argument("--geodata", type=Path)
    # gammu-smsd appends the message's ids (files service: inbox file names) to the command.
    receive.add_argument("id", nargs="*", metavar="ID")
    return parser


def cmd_import(args: argparse.Namespace) -> int:
    from floodpost.errors import InvalidInput
    from floodpost.geo.importer import import_layer

    mapping: dict[str, str] = {}
    for item in args.map:
        field, sep, column = item.partition("=")
        if not sep or not field or not column:
            raise InvalidInput(f"--map takes FIELD=COLUMN, got {item!r}", field="map")
        mapping[field.strip()] = column.strip()
    result = import_layer(
        args.layer, args.file, args.into, datum=args.datum, crs=args.crs,
        lon=args.lon, lat=args.lat, mapping=mapping,
    )  # fmt: skip
    checked = "folder checked" if result.checked_folder else "folder not yet complete"
    print(f"floodpost: {result.count} {result.layer} written to {result.path} ({checked})")
    return 0


def _settings(args: argparse.Namespace, **overrides: object):  # noqa: ANN202
    from floodpost.settings import load_settings

    values: dict[str, Any] = {}  # Any: each field's own type is checked by Settings
    if getattr(args, "db", None):
        values["db_url"] = args.db
    if getattr(args, "geodata", None):
        values["geodata_dir"] = args.geodata
    for name in ("host", "port", "workers", "tls_certfile", "tls_keyfile", "basemap"):
        if getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return load_settings(**values)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from floodpost.auth.secret import resolve_secret

    settings = _settings(args)
    # Resolve (and, the first time, generate) the key before any worker starts, so all workers
    # share one; then let each worker build its app from the same environment.
    resolve_secret(settings)
    env = {
        "FLOODPOST_DB_URL": settings.db_url,
        "FLOODPOST_GEODATA_DIR": str(settings.geodata_dir),
    }
    if settings.tls_certfile:
        env["FLOODPOST_TLS_CERTFILE"] = str(settings.tls_certfile)
    if settings.basemap:
        env["FLOODPOST_BASEMAP"] = str(settings.basemap)
    os.environ.update(env)
    server = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        # A line per request costs ~9 % of the event loop at full ingest; errors still log.
        "access_log": False,
        "ssl_certfile": settings.tls_certfile,
        "ssl_keyfile": settings.tls_keyfile,
    }
    scheme = "https" if settings.tls_certfile else "http"
    where = f"{scheme}://{settings.host}:{settings.port}/"
    print(f"floodpost: {where}  (store {settings.db_url})", flush=True)
    if settings.workers > 1:
        uvicorn.run(
            "floodpost.web.app:app_from_env", factory=True, workers=settings.workers, **server
        )
        return 0
    from floodpost.web.app import create_app, tune_serving_process

    tune_serving_process()
    uvicorn.run(create_app(settings), **server)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from floodpost.replay.demo import run_demo

    return run_demo(args)


def cmd_user_add(args: argparse.Namespace) -> int:
    from floodpost.auth.accounts import create_account
    from floodpost.storage import open_store

    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else args.password
    settings = _settings(args)
    zones: list[str] = []
    phone = None
    if args.zone or args.phone:
        from floodpost.geo.catalogue import Catalogue
        from floodpost.orders.zones import check_zones, normalise_phone

        zones = check_zones(args.zone, Catalogue.load(settings.geodata_dir))
        phone = normalise_phone(args.phone) if args.phone else None
    store = open_store(settings.db_url)
    try:
        create_account(store, args.name, args.role, password)
        if zones or phone:
            from floodpost.orders.zones import set_contact

            set_contact(store, args.name, zones=zones, phone=phone)
    finally:
        store.close()
    print(f"floodpost: account {args.name!r} ({args.role}) created in {settings.db_url}")
    return 0


def cmd_readings_import(args: argparse.Namespace) -> int:
    from floodpost.geo.catalogue import Catalogue
    from floodpost.hydro.importer import import_file
    from floodpost.storage import open_store

    settings = _settings(args)
    catalogue = Catalogue.load(settings.geodata_dir)
    store = open_store(settings.db_url)
    try:
        result = import_file(store, catalogue, args.file, actor="cli")
    finally:
        store.close()
    print(
        f"floodpost: {args.file.name} ({result['table']}): {result['accepted']} readings stored, "
        f"{result['duplicates']} duplicates, {result['skipped']} rows without a value, "
        f"{len(result['warnings'])} warnings raised or risen"
    )
    return 0


def cmd_user_change(args: argparse.Namespace) -> int:
    """`user passwd` / `user disable`: the command line has a commander's authority (whoever
    runs it can read the database anyway)."""
    from floodpost.auth.accounts import change_password, disable_account
    from floodpost.storage import open_store

    settings = _settings(args)
    store = open_store(settings.db_url)
    try:
        if args.user_command == "passwd":
            password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else args.password
            change_password(store, args.name, password, actor="cli", authority=True)
            done = "password changed"
        else:
            disable_account(store, args.name, actor="cli")
            done = "disabled"
    finally:
        store.close()
    print(f"floodpost: account {args.name!r} {done}; its sessions have ended")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from floodpost.geo.catalogue import Catalogue
    from floodpost.replay.simulate import simulate
    from floodpost.storage import open_store

    if not args.db:
        raise SystemExit("floodpost simulate: --db is required")
    settings = _settings(args)
    catalogue = Catalogue.load(settings.geodata_dir)
    store = open_store(settings.db_url)
    try:
        n = simulate(store, catalogue, events=args.events, seed=args.seed)
    finally:
        store.close()
    print(f"floodpost: {n} events written to {settings.db_url}")
    return 0


def cmd_households(args: argparse.Namespace) -> int:
    from floodpost.geo.catalogue import Catalogue
    from floodpost.orders.households import parse_roster
    from floodpost.orders.rollcall import import_households
    from floodpost.orders.zones import zone_lookup
    from floodpost.storage import open_store

    settings = _settings(args)
    catalogue = Catalogue.load(settings.geodata_dir)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise SystemExit(f"floodpost households import: {exc}") from None
    households = parse_roster(data, args.file.name, catalogue.villages_by_code, catalogue.bounds)
    store = open_store(settings.db_url)
    try:
        counts = import_households(
            store,
            households,
            zone_of=zone_lookup(catalogue),
            actor="cli",
            source=args.file.name,
        )
    finally:
        store.close()
    print(
        f"floodpost: {len(households)} households in {args.file.name}: {counts['added']} added, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged"
    )
    return 0


def _reopen_standard_fds() -> None:
    """gammu-smsd closes every descriptor before RunOnReceive (man gammu-smsd-run): the next file
    opened would become fd 1 or 2 and a stray print would write into the database. Point the
    closed ones at /dev/null first."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115


def cmd_sms_receive(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from floodpost.clock import system_clock
    from floodpost.geo.catalogue import Catalogue
    from floodpost.geo.routing import ReportRouter
    from floodpost.orders.service import OrderBook
    from floodpost.orders.zones import zone_lookup
    from floodpost.sms.gammu_config import GammuConfig
    from floodpost.sms.gammu_env import read_environment
    from floodpost.sms.outgoing import SmsSender
    from floodpost.sms.places import Gazetteer
    from floodpost.sms.receive import handle_sms
    from floodpost.storage import open_store

    settings = _settings(args)
    inbox = None
    if settings.sms_gammu_config.is_file():
        inbox = GammuConfig.read(settings.sms_gammu_config).inbox
    sms = read_environment(os.environ, args.id, inbox=inbox)
    catalogue = Catalogue.load(settings.geodata_dir)
    router = ReportRouter(
        catalogue,
        outside_max_m=settings.outside_county_max_m,
        nearest_village_max_m=settings.nearest_village_max_m,
    )
    store = open_store(settings.db_url)
    try:
        # 收到 / 户 act through the same order book and roll-call as the HTTP routes.
        book = OrderBook(
            store, catalogue, zone_of=zone_lookup(catalogue, router), clock=system_clock
        )
        outcome = handle_sms(
            sms,
            store=store,
            router=router,
            places=Gazetteer.from_catalogue(catalogue),
            sender=SmsSender.from_settings(settings),
            now=datetime.now(UTC),
            book=book,
        )
    finally:
        store.close()
    # One JSON line: gammu-smsd's log shows it when run by hand, and tests read it.
    print(json.dumps(outcome.as_dict(), ensure_ascii=False), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    _reopen_standard_fds()
    args = build_parser().parse_args(argv)
    handlers = {
        "serve": cmd_serve,
        "demo": cmd_demo,
        "simulate": cmd_simulate,
        "readings": cmd_readings_import,
        "households": cmd_households,
        "import": cmd_import,
    }
    try:
        if args.command == "user":
            return cmd_user_add(args) if args.user_command == "add" else cmd_user_change(args)
        if args.command == "sms":
            return cmd_sms_receive(args)
        return handlers[args.command](args)
    except FloodpostError as exc:
        print(f"floodpost: {exc.message}", file=sys.stderr)
        return 2
