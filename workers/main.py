"""``mlex worker``: start a Celery worker (prefork pool) on the MLEx queues."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import threading

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
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip compiling UMAP's numba kernels into the disk cache at start",
    )
    return parser


def warm_up_in_background() -> threading.Thread | None:
    """Compile UMAP's numba kernels into the on-disk cache without delaying the worker.

    Jobs run in child processes, so what they need is the disk cache: the first UMAP job then
    loads compiled kernels (seconds) instead of compiling them (about half a minute).
    """
    if importlib.util.find_spec("umap") is None:
        return None
    command = [
        sys.executable,
        "-c",
        "from algorithms.latent.reduction import warm_up_umap; print(round(warm_up_umap(), 1))",
    ]

    def run() -> None:
        logger = logging.getLogger("mlex.worker")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as error:
            logger.warning("UMAP warm-up did not finish: %s", error)
            return
        if done.returncode == 0:
            logger.info("UMAP kernels warm (%s s)", done.stdout.strip())
        else:
            logger.warning("UMAP warm-up failed: %s", done.stderr.strip()[-500:])

    thread = threading.Thread(target=run, name="umap-warm-up", daemon=True)
    thread.start()
    return thread


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
    # Every report to MLExCompute would otherwise log an INFO line.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not args.no_warm_up:
        warm_up_in_background()
    try:
        app.worker_main(celery_argv(name, queues, args.concurrency, args.loglevel))
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
