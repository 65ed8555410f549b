"""Tagging events, and worker keys that may only write events of their own jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.common.client import ApiClientError
from services.labels.app import create_app
from services.labels.client import LabelsClient
from services.labels.schemas import EventPublic
from tests.fixtures.env import free_port


def test_event_round_trip_and_listing(labeling, client_for, http, error_of) -> None:
    alice = labeling.client
    earlier = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = alice.create_event(labeling.dataset.id, description="first pass", run_time=earlier)
    assert (first.tagger_id, first.created_by, first.run_time) == ("alice", "alice", earlier)
    model = alice.create_event(
        labeling.dataset.id, tagger_id="resnet-7", accuracy=0.91, job_id="job-42"
    )
    assert isinstance(model, EventPublic)
    assert alice.get_event(first.id) == first
    assert [e.id for e in alice.list_events()] == [model.id, first.id]  # newest first
    assert [e.id for e in alice.list_events(tagger="resnet-7")] == [model.id]
    assert [e.id for e in alice.list_events(job_id="job-42")] == [model.id]
    assert [e.id for e in alice.list_events(dataset=labeling.dataset.id + 1)] == []
    bob = client_for("bob", "user")
    assert bob.list_events() == []
    with pytest.raises(ApiClientError) as raised:
        bob.get_event(first.id)
    assert raised.value.status_code == 403
    with pytest.raises(ApiClientError) as raised:
        bob.create_event(labeling.dataset.id)
    assert raised.value.status_code == 403
    with pytest.raises(ApiClientError) as raised:
        alice.get_event(9999)
    assert raised.value.status_code == 404
    with pytest.raises(ApiClientError) as raised:
        alice.create_event(9999)
    assert (raised.value.status_code, raised.value.field) == (404, "dataset_id")
    headers = {"Authorization": f"Bearer {labeling.client.api_key}"}
    response = http.post(
        "/api/v0/events",
        json={"dataset_id": "x", "accuracy": -1, "run_time": "yesterday"},
        headers=headers,
    )
    assert response.status_code == 422
    fields = {d["field"] for d in error_of(response)["details"]}
    assert fields == {"dataset_id", "accuracy", "run_time"}
    later = datetime.now(UTC) + timedelta(days=1)
    event = labeling.client.create_event(labeling.dataset.id, run_time=later)
    assert event.run_time == later


def test_only_the_event_owner_writes_its_tags(labeling, client_for) -> None:
    event = labeling.client.create_event(labeling.dataset.id)
    bob = client_for("bob", "user")
    labeling.client.add_member("beamline", "bob")
    with pytest.raises(ApiClientError) as raised:
        bob.add_tags(event.id, [{"item": 0, "label": "cat"}])
    assert raised.value.status_code == 403
    own = bob.create_event(labeling.dataset.id)
    assert bob.add_tags(own.id, [{"item": 0, "label": "cat"}]).labeled == 1


def test_worker_must_name_its_job(labeling, client_for) -> None:
    worker = client_for("gpu-1", "worker")
    with pytest.raises(ApiClientError) as raised:
        worker.create_event(labeling.dataset.id)
    assert (raised.value.status_code, raised.value.field) == (422, "job_id")
    # The check against MLExCompute is off in these settings: the job is trusted.
    event = worker.create_event(labeling.dataset.id, job_id="job-1", accuracy=0.8)
    assert (event.tagger_id, event.created_by, event.job_id) == ("job-1", "gpu-1", "job-1")
    result = worker.add_tags(event.id, [{"item": 2, "label": "dog", "confidence": 0.7}])
    assert result.labeled == 1
    page = labeling.client.current_labels(labeling.dataset.id, tagger=["job-1"])
    assert [(i.item, i.labels[0].confidence) for i in page.items] == [(2, 0.7)]


@pytest.mark.parametrize("mode, status", [("required", 503), ("auto", 201)])
def test_worker_job_check_when_compute_does_not_answer(
    make_settings, mode: str, status: int
) -> None:
    from services.labels.settings import LabelsSettings
    from tests.fixtures.db import ADMIN_KEY

    settings = make_settings(
        LabelsSettings,
        worker_job_check=mode,
        compute_url=f"http://127.0.0.1:{free_port()}",
        worker_job_check_timeout=0.5,
    )
    app = create_app(settings)
    try:
        with TestClient(app) as http:
            admin = LabelsClient(http=http, api_key=ADMIN_KEY)
            dataset = admin.create_dataset("p", "d", "/d", item_count=1)
            app.state.auth.ensure_user("gpu-1", "worker")
            key, _ = app.state.auth.create_key("gpu-1")
            response = http.post(
                "/api/v0/events",
                json={"dataset_id": dataset.id, "job_id": "job-9"},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == status, response.text
            if status == 503:
                assert response.json()["error"]["field"] == "job_id"
                assert admin.list_events() == []
    finally:
        app.state.engine.dispose()
        app.state.auth.engine.dispose()
