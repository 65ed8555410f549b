"""The worker's Celery app: the broker config, the task, and the worker's own heartbeat."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import threading

from celery import Celery
from celery.signals import worker_process_init, worker_ready, worker_shutdown

from services.compute.client import ComputeClient
from services.compute.schemas import WorkerHeartbeat
from workers.broker import make_celery
from workers.runner import _LIBC, PR_SET_PDEATHSIG
from workers.settings import WorkerSettings
from workers.tasks import register_tasks

logger = logging.getLogger("mlex.worker")


def detect_gpus() -> list[str]:
    """GPU names from ``nvidia-smi`` (empty when there is none)."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


class Heartbeat:
    """Tells MLExCompute every few seconds that this worker is alive (GET /workers)."""

    def __init__(self, settings: WorkerSettings, beat: WorkerHeartbeat) -> None:
        self.settings = settings
        self.beat = beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlex-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        with ComputeClient(self.settings.compute_url, self.settings.api_key(), timeout=10) as api:
            while True:
                try:
                    api.worker_heartbeat(self.beat)
                except Exception as error:  # the API may be restarting; keep beating
                    logger.warning("worker heartbeat failed: %s", error)
                if self._stop.wait(self.settings.worker_beat_interval):
                    return


def create_worker_app(
    settings: WorkerSettings, name: str, queues: list[str], concurrency: int
) -> Celery:
    """The Celery app a worker runs, with the task and the lifecycle hooks."""
    app = make_celery(settings.broker_url, settings.home, settings.broker_poll_interval)
    register_tasks(app, settings, name)
    beat = WorkerHeartbeat(
        name=name,
        host=socket.gethostname(),
        queues=queues,
        gpus=detect_gpus(),
        concurrency=concurrency,
        pid=os.getpid(),
    )
    heartbeat = Heartbeat(settings, beat)

    def _ready(**_: object) -> None:
        heartbeat.start()

    def _shutdown(**_: object) -> None:
        heartbeat.stop()

    def _pool_child(**_: object) -> None:
        # A pool process dies with the worker (kill -9), so its job is not run twice.
        if _LIBC is not None:
            import signal

            _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    worker_ready.connect(_ready, weak=False)
    worker_shutdown.connect(_shutdown, weak=False)
    worker_process_init.connect(_pool_child, weak=False)
    return app
