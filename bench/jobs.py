"""Job latency and throughput on each broker, with a real stack (APIs under uvicorn, workers).

Prints submit->running latency p50/p99 (server timestamps: ``started_at - created_at``) over
jobs submitted one at a time to an idle worker (targets: < 0.3 s on Redis, < 1 s embedded),
then the throughput of a burst of tiny jobs and whether every one of them ended ``completed``.
The tiny job is the ``threshold`` card on one 16x16 image (a real ``python -m algorithms``
child, so throughput is bounded by process start-up).

    python -m bench.jobs --quick            # 10 latency jobs, 40 throughput jobs
    python -m bench.jobs                    # 100 and 1,000 (long: each job is a process)
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from services.compute.client import ComputeClient

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-admin-key-0123456789"
REDIS_URL = os.environ.get("MLEX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait(predicate, timeout: float, what: str, every: float = 0.05):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"waited {timeout} s for {what}")


class Stack:
    """Content and compute APIs and ``workers`` Celery workers on one broker."""

    def __init__(self, home: Path, broker: str | None, workers: int, concurrency: int) -> None:
        self.home = home
        self.processes: list[subprocess.Popen[bytes]] = []
        ports = {"content": free_port(), "compute": free_port()}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MLEX_")}
        self.env.update(
            {
                "MLEX_HOME": str(home),
                "MLEX_ADMIN_API_KEY": KEY,
                "MLEX_CONTENT_URL": f"http://127.0.0.1:{ports['content']}",
                "MLEX_COMPUTE_URL": f"http://127.0.0.1:{ports['compute']}",
                "MLEX_RESULTS_URI": str(home / "results"),
                "MLEX_LOG_LEVEL": "WARNING",
            }
        )
        if broker:
            self.env["MLEX_BROKER_URL"] = broker
        self.compute_url = self.env["MLEX_COMPUTE_URL"]
        for name, port in ports.items():
            self._spawn(
                name,
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
            )
            url = f"http://127.0.0.1:{port}/api/v0/health"
            wait(lambda url=url: _healthy(url), 60, f"{name} API")
        for index in range(workers):
            self._spawn(
                f"worker{index}",
                [
                    sys.executable,
                    "-m",
                    "workers.main",
                    "--queues",
                    "cpu,gpu",
                    "--name",
                    f"bench{index}",
                    "--concurrency",
                    str(concurrency),
                    "--loglevel",
                    "WARNING",
                ],
            )
        with self.client() as client:
            wait(lambda: len(client.workers()) == workers, 60, "workers")

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        self.processes.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def client(self) -> ComputeClient:
        return ComputeClient(self.compute_url, KEY, timeout=60)

    def stop(self) -> None:
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).is_success
    except httpx.HTTPError:
        return False


def tiny_job(data_uri: str) -> dict:
    return {"algorithm": "threshold", "version": "latest", "inputs": {"data_uri": data_uri}}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure_latency(stack: Stack, data_uri: str, count: int) -> list[float]:
    """Submit jobs one at a time to an idle worker; seconds from created to running."""
    latencies = []
    with stack.client() as client:
        for _ in range(count):
            job = client.submit(tiny_job(data_uri))
            started = wait(lambda job=job: client.job(job.id).started_at, 60, "job start", 0.02)
            latencies.append((started - job.created_at).total_seconds())
            wait(lambda job=job: client.job(job.id).state != "running", 120, "job end", 0.05)
    return latencies


def measure_throughput(stack: Stack, data_uri: str, count: int) -> dict[str, float]:
    """Submit a burst of jobs and wait for all of them to end."""
    with stack.client() as client:

        def ended() -> int:
            return sum(
                client.jobs(state=state, limit=1).total
                for state in ("completed", "failed", "canceled")
            )

        before = ended()
        began = time.perf_counter()
        ids = [client.submit(tiny_job(data_uri)).id for _ in range(count)]
        submitted = time.perf_counter() - began
        done = 0
        last_change = time.monotonic()
        while done < count and time.monotonic() - last_change < 120:
            now_ended = ended() - before
            if now_ended != done:
                done, last_change = now_ended, time.monotonic()
            time.sleep(0.5)
        elapsed = time.perf_counter() - began
        states = [client.job(job_id).state for job_id in ids]
    return {
        "jobs": count,
        "submit_per_s": count / submitted,
        "jobs_per_s": count / elapsed,
        "seconds": elapsed,
        "completed": states.count("completed"),
        "lost": count - sum(states.count(s) for s in ("completed", "failed", "canceled")),
    }


def run_broker(name: str, broker: str | None, args: argparse.Namespace, data_uri: str) -> None:
    with tempfile.TemporaryDirectory(prefix=f"mlex-bench-{name}-") as home:
        stack = Stack(Path(home), broker, args.workers, args.concurrency)
        try:
            measure_latency(stack, data_uri, 2)  # warm-up: imports, caches
            latencies = measure_latency(stack, data_uri, args.latency_jobs)
            print(
                f"{name:10s} submit->running over {len(latencies)} jobs: "
                f"p50 {percentile(latencies, 0.5):.3f} s, p99 {percentile(latencies, 0.99):.3f} s, "
                f"mean {statistics.fmean(latencies):.3f} s",
                flush=True,
            )
            result = measure_throughput(stack, data_uri, args.throughput_jobs)
            print(
                f"{name:10s} throughput: {result['jobs']} jobs in {result['seconds']:.1f} s = "
                f"{result['jobs_per_s']:.2f} jobs/s ({args.workers} worker(s) x "
                f"{args.concurrency}); submitted at {result['submit_per_s']:.0f}/s; "
                f"completed {result['completed']}, lost {result['lost']}",
                flush=True,
            )
        finally:
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 latency and 40 burst jobs")
    parser.add_argument("--brokers", default="filesystem,redis")
    parser.add_argument("--latency-jobs", type=int, default=100)
    parser.add_argument("--throughput-jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        args.latency_jobs, args.throughput_jobs = 10, 40
    with tempfile.TemporaryDirectory(prefix="mlex-bench-data-") as data:
        data_uri = str(Path(data) / "tiny.npy")
        np.save(data_uri, np.random.default_rng(0).random((1, 16, 16), dtype=np.float32))
        for name in args.brokers.split(","):
            broker = None if name == "filesystem" else REDIS_URL
            if broker:
                try:
                    import redis

                    redis.Redis.from_url(broker).flushdb()
                except Exception as error:  # no Redis here: say so and go on
                    print(f"{name:10s} skipped: {error}")
                    continue
            run_broker(name, broker, args, data_uri)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
