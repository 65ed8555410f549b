"""``mlex worker``: start a Celery worker (prefork pool) on the MLEx queues."""

from __future__ import annotations

import argparse
import os
import socket

from workers.broker import QUEUES
from workers.settings import WorkerSettings, get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlex worker", description="Run an MLEx worker.")
    parser.add_argument(
        "--queues", default="cpu", help="comma-separated queues to consume (cpu, gpu)"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once")
    parser.add_argument("--name", default=None, help="worker name (default mlex-<pid>@<host>)")
    parser.add_argument("--loglevel", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="longest a job may run here, seconds (default MLEX_JOB_TIME_LIMIT)",
    )
    return parser


def parse_queues(value: str) -> list[str]:
    """The queue names of ``--queues``; unknown names are an error."""
    queues = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in queues if name not in QUEUES]
    if not queues or unknown:
        raise ValueError(f"--queues takes {', '.join(QUEUES)}; got {value!r}")
    return queues


def celery_argv(name: str, queues: list[str], concurrency: int, loglevel: str) -> list[str]:
    """The ``celery worker`` arguments an MLEx worker runs with."""
    return [
        "worker",
        "--pool=prefork",
        f"--queues={','.join(queues)}",
        f"--concurrency={concurrency}",
        f"--hostname={name}",
        f"--loglevel={loglevel.upper()}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the worker until it is stopped; the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        queues = parse_queues(args.queues)
    except ValueError as error:
        parser.error(str(error))
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    settings: WorkerSettings = get_settings()
    if args.time_limit is not None:
        if args.time_limit <= 0:
            parser.error("--time-limit must be positive")
        settings = settings.model_copy(update={"job_time_limit": args.time_limit})
    name = args.name or f"mlex-{os.getpid()}@{socket.gethostname()}"
    from workers.app import create_worker_app

    app = create_worker_app(settings, name, queues, args.concurrency)
    try:
        app.worker_main(celery_argv(name, queues, args.concurrency, args.loglevel))
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
