"""A real MLExContent app (with two published cards) behind a real MLExCompute app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.client import BaseClient
from services.compute.app import create_app
from services.compute.settings import ComputeSettings
from services.content.app import create_app as create_content_app
from services.content.settings import ContentSettings
from tests.fixtures.db import ADMIN_KEY, key_headers
from workers.broker import filesystem_folders

TOY_CARD: dict[str, Any] = {
    "name": "toy",
    "version": "1.0.0",
    "application": "clustering",
    "entry_point": "python -m algorithms run toy",
    "steps": ["train", "infer", "run"],
    "parameters": {
        "type": "object",
        "properties": {
            "n_clusters": {"type": "integer", "minimum": 2, "default": 3},
            "epochs": {"type": "integer", "minimum": 1, "default": 2},
        },
        "additionalProperties": False,
    },
}
GPU_CARD: dict[str, Any] = {
    **TOY_CARD,
    "name": "gpunet",
    "steps": ["train", "infer"],
    "resources": {"gpu": "required"},
}


@pytest.fixture
def content_http(
    make_settings: Callable[..., Any], database_url: str, tmp_path: Path
) -> Iterator[TestClient]:
    # Its own SQLite file, as in `mlex up` (PostgreSQL is shared, as in production).
    own = (
        {"database_url": f"sqlite:///{tmp_path / 'content.db'}"} if "sqlite" in database_url else {}
    )
    app = create_content_app(make_settings(ContentSettings, register_builtins=False, **own))
    with TestClient(app) as client:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        for card in (TOY_CARD, GPU_CARD):
            response = client.post("/api/v0/algorithms", json=card, headers=admin)
            assert response.status_code == 201, response.text
        yield client


@pytest.fixture
def compute_settings(make_settings: Callable[..., Any]) -> ComputeSettings:
    return make_settings(ComputeSettings, reaper_enabled=False, job_log_lines=10)


@pytest.fixture
def compute(compute_settings: ComputeSettings, content_http: TestClient) -> Iterator[TestClient]:
    """The compute app (reaper off: tests sweep by hand) talking to the content app."""
    content = BaseClient(api_key=ADMIN_KEY, http=content_http)
    app = create_app(compute_settings, content_client=content)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def alice(compute: TestClient) -> dict[str, str]:
    return key_headers(compute.app, "alice", "user")


@pytest.fixture
def bob(compute: TestClient) -> dict[str, str]:
    return key_headers(compute.app, "bob", "user")


@pytest.fixture
def worker(compute: TestClient) -> dict[str, str]:
    return key_headers(compute.app, "worker-1", "worker")


@pytest.fixture
def queued_messages(compute_settings: ComputeSettings) -> Callable[[], list[Path]]:
    """The messages waiting in the embedded broker's queue folder."""
    folder = filesystem_folders(compute_settings.home)["queue"]
    return lambda: sorted(folder.glob("*.msg"))


def submit(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"algorithm": "toy", "version": "1.0.0", "step": "run", **fields}
    response = client.post("/api/v0/jobs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def claim(client: TestClient, headers: dict[str, str], job: dict[str, Any], name: str = "w1"):
    body = {"worker": name, "host": "host-a", "attempt": job["attempts"]}
    response = client.post(f"/api/v0/worker/jobs/{job['id']}/claim", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def report(client: TestClient, headers: dict[str, str], job_id: str, events: list, name="w1"):
    response = client.post(
        f"/api/v0/worker/jobs/{job_id}/events",
        json={"worker": name, "events": events},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def finish(client: TestClient, headers: dict[str, str], job_id: str, name="w1", **fields):
    body = {"worker": name, "state": "completed", **fields}
    response = client.post(f"/api/v0/worker/jobs/{job_id}/finish", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
