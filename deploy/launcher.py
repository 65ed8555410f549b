"""The embedded launcher behind ``mlex up``: every part of MLEx on one machine.

It starts the parts that exist (Tiled, the three APIs, one CPU worker, the front-ends) as child
processes, each in its own process group, waits until each answers, prints where to go, and on
Ctrl-C or SIGTERM stops them all (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mlex_cli.main import SERVICES, module_available
from services.common.settings import DEFAULT_PORTS, get_settings

HEALTH_TIMEOUT_S = 60.0
STOP_GRACE_S = 6.0


@dataclass
class Part:
    """One child process of the platform."""

    name: str
    module: str
    argv: list[str]
    health_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def ports_for(base_port: int) -> dict[str, int]:
    """Every part's port, shifted by ``base_port - 8000``."""
    shift = base_port - DEFAULT_PORTS["tiled"]
    return {name: port + shift for name, port in DEFAULT_PORTS.items()}


def plan_parts(base_port: int) -> list[Part]:
    """The parts to start, in order, leaving out those not built yet."""
    ports = ports_for(base_port)
    mlex = [sys.executable, "-m", "mlex_cli"]
    candidates = [
        Part(
            "tiled",
            "services.tiled.server",
            [*mlex, "tiled", "--port", str(ports["tiled"])],
            f"http://127.0.0.1:{ports['tiled']}/api/v1/",
        ),
    ]
    for name in ("content", "labels", "compute"):
        candidates.append(
            Part(
                name,
                SERVICES[name][1],
                [*mlex, "api", name, "--port", str(ports[name])],
                f"http://127.0.0.1:{ports[name]}/api/v0/health",
            )
        )
    candidates.append(Part("worker", "workers.main", [*mlex, "worker", "--queues", "cpu,gpu"]))
    candidates.append(
        Part(
            "frontends",
            "frontends.server",
            [*mlex, "frontends", "--port", str(ports["frontends"])],
            f"http://127.0.0.1:{ports['frontends']}/",
        )
    )
    return [part for part in candidates if module_available(part.module)]


def child_environment(base_port: int, bootstrap_key: str) -> dict[str, str]:
    """Environment shared by every child: where the others are, and the run's internal key."""
    ports = ports_for(base_port)
    env = dict(os.environ)
    env.update(
        {
            "MLEX_HOME": str(get_settings().home),
            "MLEX_ADMIN_API_KEY": bootstrap_key,
            "MLEX_WORKER_API_KEY": bootstrap_key,
            "MLEX_TILED_URL": f"http://127.0.0.1:{ports['tiled']}",
            "MLEX_CONTENT_URL": f"http://127.0.0.1:{ports['content']}",
            "MLEX_COMPUTE_URL": f"http://127.0.0.1:{ports['compute']}",
            "MLEX_LABELS_URL": f"http://127.0.0.1:{ports['labels']}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def wait_healthy(part: Part, deadline: float) -> bool:
    """Poll a part's health URL until it answers 2xx, the part dies, or time runs out."""
    if part.health_url is None:
        return part.process is not None and part.process.poll() is None
    while time.monotonic() < deadline:
        if part.process is not None and part.process.poll() is not None:
            return False
        try:
            if httpx.get(part.health_url, timeout=2.0).status_code < 300:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def stop_parts(parts: list[Part]) -> None:
    """SIGTERM every process group, then SIGKILL whatever is left after the grace period."""
    running = [p for p in parts if p.process is not None and p.process.poll() is None]
    for part in reversed(running):
        _signal_group(part, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for part in running:
        assert part.process is not None
        try:
            part.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for part in running:
        _signal_group(part, signal.SIGKILL)
        assert part.process is not None
        try:
            part.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass


def _signal_group(part: Part, sig: signal.Signals) -> None:
    if part.process is None:
        return
    try:
        os.killpg(part.process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def first_run_admin_key(home: Path) -> str | None:
    """Create the admin user and a key on first run; return the key to print once."""
    from services.common.auth.store import AuthStore

    settings = get_settings()
    store = AuthStore.from_url(settings.resolved_auth_database_url(), cache_seconds=0)
    try:
        if any(user.role == "admin" for user in store.list_users()):
            return None
        store.ensure_user("admin", "admin")
        key, _ = store.create_key("admin", "created by mlex up on first run")
        return key
    finally:
        store.engine.dispose()


def _run_demo_data(env: dict[str, str], home: Path) -> None:
    marker = home / ".demo-data-written"
    if marker.exists() or not module_available("services.tiled.demo"):
        return
    print("writing demo data (first run only)...", flush=True)
    result = subprocess.run([sys.executable, "-m", "mlex_cli", "demo-data"], env=env, check=False)
    if result.returncode == 0:
        marker.write_text("ok\n")
    else:
        print("warning: demo data could not be written; see the messages above", flush=True)


def run_platform(base_port: int = 8000, demo_data: bool = True) -> int:
    """Start everything that exists and block until Ctrl-C / SIGTERM; return an exit code."""
    settings = get_settings()
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    parts = plan_parts(base_port)
    if not parts:
        sys.stderr.write("mlex: error: no part of the platform is installed\n")
        return 2
    admin_key = first_run_admin_key(home)
    bootstrap_key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    env = child_environment(base_port, bootstrap_key or secrets.token_urlsafe(32))
    (home / "logs").mkdir(exist_ok=True)

    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    exit_code = 0
    try:
        for part in parts:
            if stopping:
                break
            log = open(home / "logs" / f"{part.name}.log", "ab")  # noqa: SIM115 - child owns it
            part.process = subprocess.Popen(
                part.argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            log.close()
            if not wait_healthy(part, time.monotonic() + HEALTH_TIMEOUT_S):
                print(f"mlex: {part.name} did not start; see {home / 'logs' / part.name}.log")
                exit_code = 1
                stopping = True
                break
            print(f"  {part.name:<10} ready" + (f"  {part.health_url}" if part.health_url else ""))
            if part.name == "tiled" and demo_data:
                _run_demo_data(env, home)
        if not stopping:
            _announce(parts, base_port, admin_key, home)
        while not stopping:
            for part in parts:
                if part.process is not None and part.process.poll() is not None:
                    print(f"mlex: {part.name} exited with code {part.process.returncode}")
                    exit_code = 1
                    stopping = True
            time.sleep(0.2)
    finally:
        print("stopping MLEx...", flush=True)
        stop_parts(parts)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


def _announce(parts: list[Part], base_port: int, admin_key: str | None, home: Path) -> None:
    ports = ports_for(base_port)
    names = {part.name for part in parts}
    if "frontends" in names:
        print(f"\nMLEx is running: open http://127.0.0.1:{ports['frontends']}/")
    else:
        first_api = next((n for n in ("labels", "content", "compute") if n in names), None)
        where = f"http://127.0.0.1:{ports[first_api]}/api/v0/docs" if first_api else "(no API)"
        print(f"\nMLEx is running: APIs at {where}")
    for name in ("content", "compute", "labels"):
        if name in names:
            print(f"  {SERVICES[name][0]:<12} http://127.0.0.1:{ports[name]}/api/v0/docs")
    if "tiled" in names:
        print(
            f"  Tiled        http://127.0.0.1:{ports['tiled']}/"
            f"  (key in {home / 'tiled' / 'api_key'})"
        )
    if admin_key:
        print(f"\nAdmin API key (shown once, store it safely):\n  {admin_key}")
    print(f"Data and logs: {home}\nPress Ctrl-C to stop.", flush=True)
