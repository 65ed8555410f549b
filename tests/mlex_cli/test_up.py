"""`mlex up`: every part that exists answers, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.launcher import plan_parts, ports_for
from tests.fixtures.env import port_open


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def free_base_port() -> int:
    for _ in range(50):
        base = random.randrange(20000, 60000, 100)
        if not any(port_open("127.0.0.1", p, 0.2) for p in ports_for(base).values()):
            return base
    raise RuntimeError("no free port range")


@pytest.mark.slow
def test_up_starts_parts_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    base = free_base_port()
    parts = plan_parts(base)
    assert parts, "at least one part of the platform must exist"
    env = {**os.environ, "MLEX_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlex_cli", "up", "--base-port", str(base), "--no-demo-data"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 60 * len(parts)
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            output.append(line)
            if "Press Ctrl-C to stop" in line:
                break
        text = "".join(output)
        assert "MLEx is running" in text, text
        assert "Admin API key" in text
        for part in parts:
            if part.health_url:
                assert httpx.get(part.health_url, timeout=5).status_code < 300, part.name
        children = descendants(process.pid)
        assert children, "the launcher should have child processes"

        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        while time.monotonic() - started < 10 and any(alive(pid) for pid in children):
            time.sleep(0.1)
        assert not [pid for pid in children if alive(pid)], "children left running"
        for port in ports_for(base).values():
            assert not port_open("127.0.0.1", port, 0.2), f"port {port} still bound"
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_second_run_prints_no_new_admin_key(tmp_path: Path) -> None:
    from deploy.launcher import first_run_admin_key
    from services.common.settings import get_settings

    os.environ["MLEX_HOME"] = str(tmp_path)
    get_settings.cache_clear()
    try:
        first = first_run_admin_key(tmp_path)
        second = first_run_admin_key(tmp_path)
    finally:
        get_settings.cache_clear()
    assert first is not None and first.startswith("mlex_")
    assert second is None
