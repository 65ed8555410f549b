"""A real MLEx stack for job tests: content and compute APIs under uvicorn, Celery workers.

Everything runs as subprocesses on free ports with one temp MLEX_HOME, so workers reach the
APIs over HTTP exactly as in production; the broker is the embedded filesystem one or Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from services.compute.client import ComputeClient
from tests.fixtures.db import ADMIN_KEY, REDIS_URL, redis_available
from tests.fixtures.env import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_TEST_DB = 11


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll until ``predicate()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@dataclass
class Stack:
    """The running stack of one test module."""

    home: Path
    env: dict[str, str]
    compute_url: str
    content_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    apis: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def client(self) -> ComputeClient:
        return ComputeClient(self.compute_url, ADMIN_KEY, timeout=30)

    def start_worker(self, name: str, queues: str = "cpu,gpu") -> subprocess.Popen[bytes]:
        log = open(self.home / f"worker-{name}.log", "ab")  # noqa: SIM115 - closed with stack
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workers.main",
                "--queues",
                queues,
                "--name",
                name,
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(process)
        with self.client() as client:
            wait_for(lambda: any(w.name == name for w in client.workers()), 60, f"worker {name}")
        return process

    def restart_api(self, name: str) -> None:
        """Stop an API (SIGTERM) and start it again on the same port, same database."""
        port = int(self.env[f"MLEX_{name.upper()}_URL"].rsplit(":", 1)[1])
        process = self.apis.pop(name)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        _start_api(self, name, port)

    def stop(self) -> None:
        for process in [*self.workers, *self.processes]:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in [*self.workers, *self.processes]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _start_api(stack: Stack, name: str, port: int) -> None:
    log = open(stack.home / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"services.{name}.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=stack.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.processes.append(process)
    stack.apis[name] = process

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{name} API exited: {(stack.home / f'{name}.log').read_text()}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v0/health", timeout=1).is_success
        except httpx.HTTPError:
            return False

    wait_for(healthy, 60, f"the {name} API")


def _broker_url(kind: str) -> str | None:
    if kind == "filesystem":
        return None
    if not redis_available():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    import redis

    url = REDIS_URL.rsplit("/", 1)[0] + f"/{REDIS_TEST_DB}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(
    scope="module", params=["filesystem", pytest.param("redis", marks=pytest.mark.redis)]
)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Content and compute APIs plus one worker ``w1`` on one broker (embedded or Redis)."""
    home = tmp_path_factory.mktemp(f"stack-{request.param}")
    broker = _broker_url(request.param)
    content_port, compute_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLEX_")}
    env.update(
        {
            "MLEX_HOME": str(home),
            "MLEX_ADMIN_API_KEY": ADMIN_KEY,
            "MLEX_CONTENT_URL": f"http://127.0.0.1:{content_port}",
            "MLEX_COMPUTE_URL": f"http://127.0.0.1:{compute_port}",
            "MLEX_RESULTS_URI": str(home / "results"),
            "MLEX_LOG_LEVEL": "WARNING",
            "MLEX_JOB_HEARTBEAT_TIMEOUT": "3",
            "MLEX_JOB_REAPER_INTERVAL": "0.5",
            "MLEX_WORKER_REPORT_INTERVAL": "0.3",
            "MLEX_WORKER_BEAT_INTERVAL": "1",
            "MLEX_WORKER_KILL_GRACE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if broker:
        env["MLEX_BROKER_URL"] = broker
    stack = Stack(home, env, env["MLEX_COMPUTE_URL"], env["MLEX_CONTENT_URL"])
    try:
        _start_api(stack, "content", content_port)
        _start_api(stack, "compute", compute_port)
        stack.start_worker("w1")
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def disks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Eight noisy 96x96 slices of bright disks and sparse labels on slice 0, as .npy files."""
    folder = tmp_path_factory.mktemp("disks")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:96, :96]
    truth = np.zeros((8, 96, 96), dtype=np.uint8)
    for index in range(8):
        for _ in range(5):
            cy, cx = rng.uniform(10, 86, 2)
            truth[index][(yy - cy) ** 2 + (xx - cx) ** 2 <= rng.uniform(5, 11) ** 2] = 1
    images = (truth + rng.normal(0.0, 0.4, truth.shape) + 0.2).astype(np.float32)
    labels = np.full(truth.shape, 255, dtype=np.uint8)
    picked = rng.random((96, 96)) < 0.15
    labels[0][picked] = truth[0][picked]
    np.save(folder / "images.npy", images)
    np.save(folder / "labels.npy", labels)
    return {"data_uri": str(folder / "images.npy"), "labels_uri": str(folder / "labels.npy")}
