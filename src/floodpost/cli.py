"""The `floodpost` command line (CONTRACT.md): serve, demo, user add, simulate."""

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

    demo = sub.add_parser("demo", help="replay the June 2017 Suining flood on a fresh store")
    _common(demo, db_default=None)
    demo.add_argument("--speed", default="max", help="simulated seconds per real second, or max")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)

    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["commander", "staff", "field", "viewer"])
    pw = add.add_mutually_exclusive_group(required=True)
    pw.add_argument("--password")
    pw.add_argument("--password-stdin", action="store_true")
    _common(add, db_default=None)
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
    return parser


def _settings(args: argparse.Namespace, **overrides: object):  # noqa: ANN202
    from floodpost.settings import load_settings

    values: dict[str, Any] = {}  # Any: each field's own type is checked by Settings
    if getattr(args, "db", None):
        values["db_url"] = args.db
    if getattr(args, "geodata", None):
        values["geodata_dir"] = args.geodata
    for name in ("host", "port", "workers", "tls_certfile", "tls_keyfile"):
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
    from floodpost.web.app import create_app

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
    store = open_store(settings.db_url)
    try:
        create_account(store, args.name, args.role, password)
    finally:
        store.close()
    print(f"floodpost: account {args.name!r} ({args.role}) created in {settings.db_url}")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"serve": cmd_serve, "demo": cmd_demo, "simulate": cmd_simulate}
    try:
        if args.command == "user":
            return cmd_user_add(args) if args.user_command == "add" else cmd_user_change(args)
        return handlers[args.command](args)
    except FloodpostError as exc:
        print(f"floodpost: {exc.message}", file=sys.stderr)
        return 2
