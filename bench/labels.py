"""Splash ML benchmark: bulk tag writes, current labels, tag-query latency, concurrent clients.

Runs a real uvicorn server of the label store on a free port, first on SQLite, then on
PostgreSQL (skipped when 127.0.0.1:5432 does not answer), and prints the figures:

    python -m bench.labels            # 100,000 tags / items
    python -m bench.labels --quick    # 20,000

Targets: bulk insert of 100,000 tags under 3 s; current labels of 100,000 items under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ADMIN_KEY = "bench-admin-key-0123456789"
POSTGRES_ADMIN_URL = os.environ.get(
    "MLEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LABELS = ("cat", "dog", "bird")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"mlex_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def labels_server(database_url: str, home: Path) -> Iterator[str]:
    """Serve ``services.labels.app:create_app`` with uvicorn in a child process."""
    port = free_port()
    env = {
        **os.environ,
        "MLEX_HOME": str(home),
        "MLEX_DATABASE_URL": database_url,
        "MLEX_ADMIN_API_KEY": ADMIN_KEY,
        "MLEX_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "uvicorn", "services.labels.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the label server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
    return response.json()


def run_backend(name: str, database_url: str, size: int, seconds: float) -> None:
    home = Path(tempfile.mkdtemp(prefix="mlex-bench-labels-"))
    with labels_server(database_url, home) as url:
        http = httpx.Client(base_url=url + "/api/v0", timeout=120, headers=_auth())
        for label in LABELS:
            check(http.post("/projects/bench/classes", json={"name": label}))
        dataset = check(
            http.post(
                "/datasets",
                json={"project": "bench", "name": "big", "uri": "/bench", "item_count": size},
            )
        )
        first = check(http.post("/events", json={"dataset_id": dataset["id"]}))
        tags = [
            {"item": i, "label": LABELS[i % 3], "confidence": 0.5 + (i % 50) / 100}
            for i in range(size)
        ]  # noqa: E501
        seconds_insert, result = timed(
            http.post, f"/events/{first['id']}/tags", json={"tags": tags}
        )
        check(result)
        print(f"[{name}] bulk insert of {size:,} tags (one HTTP call): {seconds_insert:.2f} s")

        second = check(http.post("/events", json={"dataset_id": dataset["id"]}))
        relabel = [{"item": i, "label": LABELS[(i + 1) % 3]} for i in range(0, size, 2)]
        seconds_relabel, result = timed(
            http.post,
            f"/events/{second['id']}/tags",
            json={"tags": relabel, "replace": True},
        )
        check(result)
        print(
            f"[{name}] relabel {len(relabel):,} items with replace "
            f"(+{len(relabel):,} unlabel rows): {seconds_relabel:.2f} s"
        )

        store_seconds, cpu_seconds = current_labels_in_process(database_url, dataset["id"], size)
        print(
            f"[{name}] current labels of {size:,} items ({size + len(relabel) * 2:,} tag rows), "
            f"store query: {store_seconds:.3f} s, {cpu_seconds:.3f} s of CPU here (best of 3)"
        )
        page_times = [
            timed(
                http.get,
                f"/datasets/{dataset['id']}/labels",
                params={"limit": 1000, "offset": 1000 * number},
            )[0]
            for number in range(6)
        ]
        print(
            f"[{name}] GET /datasets/{{id}}/labels, pages of 1000: first {page_times[0]:.3f} s, "
            f"next ones {statistics.median(page_times[1:]) * 1000:.0f} ms (resolved once)"
        )
        seconds_export, _ = timed(http.get, f"/datasets/{dataset['id']}/export?format=csv")
        print(f"[{name}] CSV export of every current label: {seconds_export:.2f} s")

        latencies = []
        rng = random.Random(0)
        for _ in range(200 if size > 20_000 else 100):
            params = {"dataset": dataset["id"], "offset": rng.randrange(size), "limit": 100}
            latencies.append(timed(http.get, "/tags", params=params)[0] * 1000)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(0.99 * (len(latencies) - 1))]
        print(f"[{name}] GET /tags pages of 100: p50 {p50:.1f} ms, p99 {p99:.1f} ms")

        rps, errors = concurrent_clients(url, dataset["id"], size, 20, seconds)
        print(
            f"[{name}] 20 concurrent clients (80% tag queries, 20% writes of 10 tags): "
            f"{rps:.0f} requests/s, {errors} errors"
        )
        http.close()


def current_labels_in_process(database_url: str, dataset_id: int, size: int) -> tuple[float, float]:
    """Time the store's current-labels query directly (no HTTP): (wall, CPU) seconds."""
    from services.common.db import make_engine, make_session_factory, read_only
    from services.labels.current import current_labels

    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    best, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        with read_only(sessions()) as session:
            cpu = time.process_time()
            seconds, current = timed(current_labels, session, dataset_id)
            best_cpu = min(best_cpu, time.process_time() - cpu)
        best = min(best, seconds)
    engine.dispose()
    assert current.labeled_items().size == size
    return best, best_cpu


def concurrent_clients(
    url: str, dataset_id: int, size: int, clients: int, seconds: float
) -> tuple[float, int]:
    """Requests per second of ``clients`` threads, each with its own connection."""
    counts = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def work(number: int) -> None:
        rng = random.Random(number)
        with httpx.Client(base_url=url + "/api/v0", timeout=60, headers=_auth()) as http:
            event = check(http.post("/events", json={"dataset_id": dataset_id}))
            item = 0
            while time.monotonic() < stop:
                if rng.random() < 0.2:
                    rows = [{"item": (item + k) % size, "label": "dog"} for k in range(10)]
                    item += 10
                    response = http.post(f"/events/{event['id']}/tags", json={"tags": rows})
                else:
                    params = {"dataset": dataset_id, "item": rng.randrange(size)}
                    response = http.get("/tags", params=params)
                counts[number] += 1
                errors[number] += response.status_code >= 400

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started), sum(errors)


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.labels", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20,000 tags instead of 100,000")
    args = parser.parse_args(argv)
    size = 20_000 if args.quick else 100_000
    seconds = 3.0 if args.quick else 10.0
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (figures are wall-clock)")
    with tempfile.TemporaryDirectory(prefix="mlex-bench-sqlite-") as folder:
        run_backend("sqlite", f"sqlite:///{folder}/labels.db", size, seconds)
    if port_open("127.0.0.1", 5432):
        with postgres_database() as url:
            run_backend("postgres", url, size, seconds)
    else:
        print("[postgres] skipped: nothing answers on 127.0.0.1:5432")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
