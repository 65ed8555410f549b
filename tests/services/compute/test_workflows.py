"""Workflows: a step's outputs feed the next step; a failed step cancels its dependants."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.services.compute.conftest import claim, finish, report


def train_then_infer(**infer_fields) -> dict:
    return {
        "name": "segment",
        "steps": [
            {
                "name": "train",
                "algorithm": "toy",
                "version": "1.0.0",
                "step": "train",
                "inputs": {"data_uri": "/data/a"},
            },
            {
                "name": "infer",
                "algorithm": "toy",
                "version": "1.0.0",
                "step": "infer",
                "inputs": {"data_uri": "/data/b", "model_uri": "${train.model.weights_uri}"},
                **infer_fields,
            },
        ],
    }


def test_infer_waits_for_train_and_gets_its_model(compute: TestClient, alice, worker) -> None:
    response = compute.post("/api/v0/workflows", json=train_then_infer(), headers=alice)
    assert response.status_code == 201, response.text
    workflow = response.json()
    train, infer = workflow["jobs"]
    assert (train["step_name"], infer["step_name"]) == ("train", "infer")
    assert infer["depends_on"] == [train["id"]]
    assert workflow["state"] == "queued"
    # The dependant is not runnable yet, even if a worker gets a message for it.
    assert claim(compute, worker, infer)["run"] is False

    claim(compute, worker, train)
    report(compute, worker, train["id"], [{"type": "result", "model": {"weights_uri": "/m/1"}}])
    finish(compute, worker, train["id"], model_id="model-7")

    infer_now = compute.get(f"/api/v0/jobs/{infer['id']}", headers=alice).json()
    assert infer_now["inputs"]["model_uri"] == "/m/1"
    assert claim(compute, worker, infer_now)["run"] is True
    listed = compute.get(f"/api/v0/jobs?workflow={workflow['id']}", headers=alice).json()
    assert listed["total"] == 2
    seen = compute.get(f"/api/v0/workflows/{workflow['id']}", headers=alice).json()
    assert seen["state"] == "running"


def test_failed_step_cancels_dependants(compute: TestClient, alice, worker) -> None:
    body = train_then_infer()
    body["steps"].append(
        {"name": "report", "algorithm": "toy", "version": "1.0.0", "depends_on": ["infer"]}
    )
    workflow = compute.post("/api/v0/workflows", json=body, headers=alice).json()
    train = workflow["jobs"][0]
    claim(compute, worker, train)
    finish(compute, worker, train["id"], state="failed", error="out of memory")
    seen = compute.get(f"/api/v0/workflows/{workflow['id']}", headers=alice).json()
    states = {job["step_name"]: job["state"] for job in seen["jobs"]}
    assert states == {"train": "failed", "infer": "canceled", "report": "canceled"}
    assert seen["state"] == "failed"
    assert "train" in seen["jobs"][1]["error"]


def test_canceling_a_step_cancels_dependants(compute: TestClient, alice) -> None:
    workflow = compute.post("/api/v0/workflows", json=train_then_infer(), headers=alice).json()
    compute.post(f"/api/v0/jobs/{workflow['jobs'][0]['id']}/cancel", headers=alice)
    seen = compute.get(f"/api/v0/workflows/{workflow['id']}", headers=alice).json()
    assert [job["state"] for job in seen["jobs"]] == ["canceled", "canceled"]


def test_parameter_reference_is_validated_when_resolved(compute: TestClient, alice, worker) -> None:
    body = train_then_infer(parameters={"n_clusters": "${train.best_k}"})
    workflow = compute.post("/api/v0/workflows", json=body, headers=alice).json()
    train, infer = workflow["jobs"]
    claim(compute, worker, train)
    report(
        compute,
        worker,
        train["id"],
        [{"type": "result", "best_k": 1, "model": {"weights_uri": "/m"}}],
    )
    finish(compute, worker, train["id"])
    infer_now = compute.get(f"/api/v0/jobs/{infer['id']}", headers=alice).json()
    assert infer_now["state"] == "canceled"
    assert "n_clusters" in infer_now["error"]


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        (
            [
                {"name": "a", "algorithm": "toy", "depends_on": ["b"]},
                {"name": "b", "algorithm": "toy", "depends_on": ["a"]},
            ],
            "steps",
        ),
        ([{"name": "a", "algorithm": "toy", "inputs": {"model_uri": "${zzz.model}"}}], "steps.0"),
        ([{"name": "a", "algorithm": "toy"}, {"name": "a", "algorithm": "toy"}], "steps.1.name"),
        (
            [{"name": "a", "algorithm": "toy", "parameters": {"n_clusters": 0}}],
            "steps.0.parameters.n_clusters",
        ),
    ],
)
def test_bad_workflows_are_422(compute: TestClient, alice, steps, field) -> None:
    response = compute.post("/api/v0/workflows", json={"steps": steps}, headers=alice)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert compute.get("/api/v0/jobs", headers=alice).json()["total"] == 0


def test_other_users_cannot_read_a_workflow(compute: TestClient, alice, bob) -> None:
    workflow = compute.post("/api/v0/workflows", json=train_then_infer(), headers=alice).json()
    assert compute.get(f"/api/v0/workflows/{workflow['id']}", headers=bob).status_code == 404
