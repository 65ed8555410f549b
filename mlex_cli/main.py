"""The ``mlex`` command: start the platform or one of its parts, and manage users and keys.

Every part is optional at run time: a sub-command whose part is not installed or not built
says so on one line and exits 2, as does any bad flag.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import NoReturn

from services.common.settings import DEFAULT_PORTS

SERVICES = {
    "content": ("MLExContent", "services.content.app"),
    "compute": ("MLExCompute", "services.compute.app"),
    "labels": ("Splash ML", "services.labels.app"),
}


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


class _PassThroughParser(_Parser):
    """A sub-command parser that hands every argument to the part it starts."""

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        namespace = namespace or argparse.Namespace()
        namespace.args = list(args or [])
        return namespace, []


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value}: must be 1-65535")
    return value


def _base_port(text: str) -> int:
    value = _port(text)
    if value + max(DEFAULT_PORTS.values()) - 8000 > 65535:
        raise argparse.ArgumentTypeError(f"invalid base port {value}: ports would exceed 65535")
    return value


def module_available(module: str) -> bool:
    """True when a part of the platform is built (its module can be found)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _require(module: str, what: str) -> None:
    if not module_available(module):
        raise CliError(f"{what} is not available in this installation yet")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlex`` (also used by tests that check compose commands)."""
    parser = _Parser(prog="mlex", description="MLEx: MLOps for image analysis at user facilities.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    up = sub.add_parser("up", help="start the whole platform on the embedded defaults")
    up.add_argument("--base-port", type=_base_port, default=8000, help="shift every port by N-8000")
    up.add_argument("--no-demo-data", action="store_true", help="do not write demo data")

    api = sub.add_parser("api", help="run one API service")
    api.add_argument("name", choices=sorted(SERVICES))
    api.add_argument("--port", type=_port, default=None)
    api.add_argument("--host", default=None, help="bind address (default MLEX_BIND or 127.0.0.1)")
    api.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")

    worker = sub.add_parser("worker", help="run a Celery worker (options after --queues ...)")
    worker.add_argument(
        "args", nargs=argparse.REMAINDER, help="worker options, e.g. --queues gpu,cpu"
    )
    worker.__class__ = _PassThroughParser

    frontends = sub.add_parser("frontends", help="run the web front-ends")
    frontends.add_argument("--port", type=_port, default=DEFAULT_PORTS["frontends"])
    frontends.add_argument("--host", default=None)

    tiled = sub.add_parser("tiled", help="run the Tiled data server")
    tiled.add_argument("--port", type=_port, default=DEFAULT_PORTS["tiled"])
    tiled.add_argument("--host", default=None)

    users = sub.add_parser("users", help="manage users")
    users_sub = users.add_subparsers(dest="action", required=True, parser_class=_Parser)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", default="user", choices=["admin", "contributor", "user", "worker"])
    users_sub.add_parser("list", help="list users")

    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True, parser_class=_Parser)
    create = keys_sub.add_parser("create", help="create a key for a user (printed once)")
    create.add_argument("user")
    create.add_argument("--name", default="", help="a note to recognise the key by")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id or prefix")
    revoke.add_argument("key")
    key_list = keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    key_list.add_argument("--user", default=None)

    demo = sub.add_parser("demo-data", help="write the synthetic demo data sets into Tiled")
    demo.add_argument("args", nargs=argparse.REMAINDER)
    demo.__class__ = _PassThroughParser
    return parser


def _bind(host: str | None) -> str:
    from services.common.settings import get_settings

    return host or get_settings().bind


def _run_api(args: argparse.Namespace) -> int:
    title, module = SERVICES[args.name]
    _require(module, title)
    import uvicorn

    port = args.port or DEFAULT_PORTS[args.name]
    uvicorn.run(
        f"{module}:create_app",
        factory=True,
        host=_bind(args.host),
        port=port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    return 0


def _run_worker(args: argparse.Namespace) -> int:
    _require("workers.main", "The Celery worker")
    from workers.main import main as worker_main

    return int(worker_main(list(args.args)) or 0)


def _run_frontends(args: argparse.Namespace) -> int:
    _require("frontends.server", "The front-ends")
    from frontends.server import serve

    serve(_bind(args.host), args.port)
    return 0


def _run_tiled(args: argparse.Namespace) -> int:
    _require("services.tiled.server", "The Tiled server")
    from services.tiled.server import serve

    serve(_bind(args.host), args.port)
    return 0


def _run_demo_data(args: argparse.Namespace) -> int:
    _require("services.tiled.demo", "Demo data")
    from services.tiled.demo import main as demo_main

    return int(demo_main(list(args.args)) or 0)


def _auth_store():  # type: ignore[no-untyped-def]
    from services.common.auth.store import AuthStore
    from services.common.settings import get_settings

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return AuthStore.from_url(settings.resolved_auth_database_url(), cache_seconds=0)


def _run_users(args: argparse.Namespace) -> int:
    from services.common.auth.store import AuthError

    store = _auth_store()
    try:
        if args.action == "add":
            user = store.add_user(args.name, args.role)
            print(f"added user {user.name} ({user.role})")
        else:
            for user in store.list_users():
                state = " (disabled)" if user.disabled else ""
                print(f"{user.name}\t{user.role}{state}")
    except AuthError as error:
        raise CliError(str(error)) from None
    return 0


def _run_keys(args: argparse.Namespace) -> int:
    from services.common.auth.store import AuthError

    store = _auth_store()
    try:
        if args.action == "create":
            key, info = store.create_key(args.user, args.name)
            print(f"key id {info.id} for {info.user} ({info.role}); shown once, store it safely:")
            print(key)
        elif args.action == "revoke":
            info = store.revoke_key(args.key)
            print(f"revoked key id {info.id} ({info.prefix}...) of {info.user}")
        else:
            for info in store.list_keys(args.user):
                state = "revoked" if info.revoked else "active"
                print(
                    f"{info.id}\t{info.prefix}...\t{info.user}\t{info.role}\t{state}\t{info.name}"
                )
    except AuthError as error:
        raise CliError(str(error)) from None
    return 0


def _run_up(args: argparse.Namespace) -> int:
    from deploy.launcher import run_platform

    return run_platform(base_port=args.base_port, demo_data=not args.no_demo_data)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "up": _run_up,
    "api": _run_api,
    "worker": _run_worker,
    "frontends": _run_frontends,
    "tiled": _run_tiled,
    "users": _run_users,
    "keys": _run_keys,
    "demo-data": _run_demo_data,
}


def main(argv: list[str] | None = None) -> int:
    """Run ``mlex``; returns the exit code (2 for any user error, with one line on stderr)."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except CliError as error:
        sys.stderr.write(f"mlex: error: {error}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
