"""A worker key's tagging event is checked against a real MLExCompute app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.common.client import BaseClient
from services.compute.app import create_app as create_compute_app
from services.compute.settings import ComputeSettings
from services.content.app import create_app as create_content_app
from services.content.settings import ContentSettings
from services.labels.app import create_app
from services.labels.client import LabelsClient
from services.labels.settings import LabelsSettings
from tests.fixtures.db import ADMIN_KEY

TOY_CARD = {
    "name": "toy",
    "version": "1.0.0",
    "application": "clustering",
    "entry_point": "python -m algorithms run toy",
    "steps": ["run"],
    "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_worker_writes_events_only_for_jobs_it_runs(make_settings, tmp_path: Path) -> None:
    def sqlite(name: str) -> str:
        return f"sqlite:///{tmp_path / (name + '.db')}"

    content_app = create_content_app(
        make_settings(ContentSettings, register_builtins=False, database_url=sqlite("content"))
    )
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with TestClient(content_app) as content_http:
        assert content_http.post("/api/v0/algorithms", json=TOY_CARD, headers=admin).is_success
        compute_app = create_compute_app(
            make_settings(ComputeSettings, reaper_enabled=False, database_url=sqlite("compute")),
            content_client=BaseClient(api_key=ADMIN_KEY, http=content_http),
        )
        labels_app = create_app(
            make_settings(LabelsSettings, worker_job_check="required", database_url=sqlite("l"))
        )
        with TestClient(compute_app) as compute_http, TestClient(labels_app) as labels_http:
            labels_app.state.compute_http = compute_http
            auth = labels_app.state.auth  # one users-and-keys database for all services
            keys = {}
            for user, role in (("alice", "user"), ("gpu-1", "worker"), ("gpu-2", "worker")):
                auth.ensure_user(user, role)
                keys[user] = auth.create_key(user)[0]

            def job() -> str:
                body = {"algorithm": "toy", "version": "1.0.0", "step": "run"}
                headers = {"Authorization": f"Bearer {keys['alice']}"}
                response = compute_http.post("/api/v0/jobs", json=body, headers=headers)
                assert response.status_code == 201, response.text
                return response.json()["id"]

            running, queued = job(), job()
            claim = {"worker": "celery@node-7", "host": "node-7", "attempt": 1}
            response = compute_http.post(
                f"/api/v0/worker/jobs/{running}/claim",
                json=claim,
                headers={"Authorization": f"Bearer {keys['gpu-1']}"},
            )
            assert response.json()["run"] is True

            dataset = LabelsClient(http=labels_http, api_key=keys["alice"]).create_dataset(
                "p", "d", "/d", item_count=4
            )

            def open_event(user: str, job_id: str, worker: str | None = None) -> int:
                headers = {"Authorization": f"Bearer {keys[user]}"}
                if worker:
                    headers["X-MLEx-Worker"] = worker
                body = {"dataset_id": dataset.id, "job_id": job_id}
                return labels_http.post("/api/v0/events", json=body, headers=headers)

            assert open_event("gpu-1", running, worker="celery@node-7").status_code == 201
            refused = open_event("gpu-2", running)
            assert refused.status_code == 403
            assert "celery@node-7" in refused.json()["error"]["message"]
            assert open_event("gpu-1", queued, worker="celery@node-7").status_code == 403
            assert open_event("gpu-1", "no-such-job").status_code == 403
    labels_app.state.engine.dispose()
