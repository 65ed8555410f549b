"""A claimed job's inputs become the spec: registered models and Splash ML labels resolved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.client import BaseClient
from services.compute.schemas import JobInputs, JobPublic
from services.labels.app import create_app as create_labels_app
from services.labels.client import LabelsClient
from services.labels.settings import LabelsSettings
from tests.fixtures.db import ADMIN_KEY
from workers.inputs import InputError, build_spec, results_location
from workers.settings import WorkerSettings


def job_with(**inputs: Any) -> JobPublic:
    return JobPublic.model_construct(
        id="job1",
        algorithm="toy",
        version="1.0.0",
        step="train",
        parameters={"epochs": 2},
        inputs=JobInputs(**inputs),
        attempts=1,
        image=None,
    )


@pytest.fixture
def settings(tmp_path: Path) -> WorkerSettings:
    return WorkerSettings(home=tmp_path / "home", results_uri=str(tmp_path / "results"))


def test_outputs_and_plain_inputs(settings: WorkerSettings, tmp_path: Path) -> None:
    spec = build_spec(job_with(data_uri="/d", labels_uri="/l"), settings, tmp_path)
    assert spec.inputs.data_uri == "/d" and spec.inputs.labels_uri == "/l"
    assert spec.outputs.results_uri == str(tmp_path / "results")
    assert spec.outputs.model_dir == str(tmp_path / "home" / "models" / "job1")
    assert spec.parameters == {"epochs": 2} and spec.work_dir == str(tmp_path)
    assert results_location("http://tiled/api/v1/metadata/results", "j") == (
        "http://tiled/api/v1/metadata/results/j"
    )


def test_model_id_becomes_model_uri(settings, tmp_path, content_http: TestClient) -> None:
    content = BaseClient(api_key=ADMIN_KEY, http=content_http)
    model = content.post_json(
        "/models",
        {
            "name": "m",
            "algorithm": "toy",
            "algorithm_version": "1.0.0",
            "weights_uri": "/models/abc",
            "parameters": {"n_clusters": 4},
        },
    )
    spec = build_spec(job_with(model_id=model["id"]), settings, tmp_path, content=content)
    assert spec.inputs.model_uri == "/models/abc"
    assert spec.inputs.model_parameters["n_clusters"] == 4
    with pytest.raises(InputError):
        build_spec(job_with(model_id="nope"), settings, tmp_path, content=content)


def test_tagging_event_becomes_item_labels(
    settings, tmp_path, make_settings: Callable[..., Any]
) -> None:
    labels_settings = make_settings(
        LabelsSettings, database_url=f"sqlite:///{tmp_path / 'labels.db'}"
    )
    with TestClient(create_labels_app(labels_settings)) as http:
        labels = LabelsClient(api_key=ADMIN_KEY, http=http)
        dataset = labels.create_dataset("beamline", "shots", "/data/shots", item_count=4)
        for name in ("ring", "arc"):
            labels.create_class("beamline", name)
        event = labels.create_event(dataset.id, tagger_id="alice")
        labels.add_tags(event.id, [{"item": 0, "label": "ring"}, {"item": 2, "label": "arc"}])
        job = job_with(dataset_id=str(dataset.id), tagging_event_id=str(event.id))
        spec = build_spec(job, settings, tmp_path, labels=labels)
    assert spec.inputs.data_uri == "/data/shots"
    assert spec.inputs.labels == {"classes": ["arc", "ring"], "items": {"0": "ring", "2": "arc"}}
