"""Trained models: registration with lineage, finding them, soft delete, architecture checks."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.services.content.conftest import DEMO_DEFAULTS

API = "/api/v0"
DATASET = "http://tiled:8000/api/v1/metadata/beamline/scan_0042"


def model_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "foam segmenter",
        "algorithm": "demo_unet",
        "algorithm_version": "1.0.0",
        "weights_uri": "file:///models/job-17/weights.pt",
        "parameters": {"depth": 3, "epochs": 5},
        "metrics": {
            "final": {"val_loss": 0.12, "f1": 0.91},
            "epochs": [{"epoch": 1, "loss": 0.5}, {"epoch": 2, "loss": 0.3}],
        },
        "lineage": {
            "job_id": "job-17",
            "dataset_uris": [DATASET],
            "tagging_event_ids": ["event-3"],
        },
        "tags": ["foam"],
    }
    body.update(overrides)
    return body


def register(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/models", json=model_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def test_a_registered_model_keeps_its_lineage_and_normalised_parameters(
    client: TestClient, worker_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    response = client.post(f"{API}/models", json=model_body(), headers=worker_headers)
    assert response.status_code == 201
    model = response.json()
    assert response.headers["location"] == f"{API}/models/{model['id']}"
    assert model["framework"] == "pytorch"  # from the card
    assert model["created_by"] == "worker-1"
    assert model["parameters"] == {**DEMO_DEFAULTS, "depth": 3, "epochs": 5}
    assert model["metrics"] == model_body()["metrics"]
    assert model["lineage"] == {
        "job_id": "job-17",
        "dataset_uris": [DATASET],
        "tagging_event_ids": ["event-3"],
        "parent_model_id": None,
    }
    read = client.get(f"{API}/models/{model['id']}", headers=worker_headers)
    assert read.status_code == 200 and read.json() == model


def test_a_model_is_found_from_its_data_set_uri_and_from_its_job_id(
    client: TestClient, worker_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    first = register(client, worker_headers)
    other = register(
        client,
        worker_headers,
        lineage={"job_id": "job-18", "dataset_uris": ["file:///data/other"]},
        tags=["other"],
    )
    tuned = register(
        client,
        worker_headers,
        name="fine-tuned",
        lineage={"job_id": "job-19", "dataset_uris": [DATASET], "parent_model_id": first["id"]},
    )

    def find(**params: str) -> list[str]:
        response = client.get(f"{API}/models", params=params, headers=worker_headers)
        assert response.status_code == 200
        return ids(response.json())

    assert find(dataset=DATASET) == [tuned["id"], first["id"]]
    assert find(job="job-17") == [first["id"]]
    assert find(job="job-18") == [other["id"]]
    assert find(tagging_event="event-3") == [first["id"]]
    assert find(tag="other") == [other["id"]]
    assert find(parent=first["id"]) == [tuned["id"]]
    assert find(algorithm="demo_unet", version="1.0.0", job="job-19") == [tuned["id"]]
    assert find(algorithm="someone_else") == []
    assert find(dataset="file:///data/none") == []
    assert find(created_by="worker-1") == [tuned["id"], other["id"], first["id"]]


def test_numeric_lineage_ids_are_kept_as_text(
    client: TestClient, worker_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    model = register(client, worker_headers, lineage={"job_id": 42, "tagging_event_ids": [7, 8]})
    assert model["lineage"]["job_id"] == "42"
    assert model["lineage"]["tagging_event_ids"] == ["7", "8"]
    found = client.get(f"{API}/models", params={"tagging_event": 8}, headers=worker_headers)
    assert ids(found.json()) == [model["id"]]


def test_delete_is_soft_and_keeps_the_lineage(
    client: TestClient, worker_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    parent = register(client, worker_headers)
    child = register(
        client, worker_headers, lineage={"job_id": "job-2", "parent_model_id": parent["id"]}
    )
    response = client.delete(f"{API}/models/{parent['id']}", headers=worker_headers)
    assert response.status_code == 204
    assert ids(client.get(f"{API}/models", headers=worker_headers).json()) == [child["id"]]
    with_deleted = client.get(
        f"{API}/models", params={"include_deleted": "true", "job": "job-17"}, headers=worker_headers
    ).json()
    assert ids(with_deleted) == [parent["id"]]
    read = client.get(f"{API}/models/{parent['id']}", headers=worker_headers).json()
    assert read["deleted_at"] is not None and read["lineage"]["dataset_uris"] == [DATASET]
    child_read = client.get(f"{API}/models/{child['id']}", headers=worker_headers).json()
    assert child_read["lineage"]["parent_model_id"] == parent["id"]
    again = client.delete(f"{API}/models/{parent['id']}", headers=worker_headers)
    assert again.status_code == 204
    missing = client.delete(f"{API}/models/no-such-model", headers=worker_headers)
    assert missing.status_code == 404


def test_who_may_register_and_delete(
    client: TestClient,
    worker_headers: dict[str, str],
    user_headers: dict[str, str],
    contributor_headers: dict[str, str],
    demo: dict[str, Any],
) -> None:
    refused = client.post(f"{API}/models", json=model_body(), headers=user_headers)
    assert refused.status_code == 403
    model = register(client, worker_headers)
    assert client.delete(f"{API}/models/{model['id']}", headers=user_headers).status_code == 403
    assert client.get(f"{API}/models/{model['id']}", headers=user_headers).status_code == 200
    deleted = client.delete(f"{API}/models/{model['id']}", headers=contributor_headers)
    assert deleted.status_code == 204


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"algorithm": "nothing"}, 422, "algorithm"),
        ({"algorithm_version": "9.0.0"}, 422, "algorithm_version"),
        ({"parameters": {"depth": 99, "colour": 1}}, 422, "parameters.colour"),
        ({"lineage": {"parent_model_id": "no-such-model"}}, 422, "lineage.parent_model_id"),
        ({"lineage": {"job": "x"}}, 422, "lineage.job"),
        ({"metrics": {"final": {"loss": "low"}}}, 422, "metrics.final.loss"),
        ({"weights_uri": ""}, 422, "weights_uri"),
    ],
)
def test_bad_registrations_are_refused_and_nothing_is_stored(
    client: TestClient,
    worker_headers: dict[str, str],
    demo: dict[str, Any],
    overrides: dict[str, Any],
    status: int,
    field: str,
) -> None:
    response = client.post(f"{API}/models", json=model_body(**overrides), headers=worker_headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    listed = client.get(f"{API}/models", params={"include_deleted": "true"}, headers=worker_headers)
    assert listed.json()["total"] == 0


def test_non_finite_metrics_are_refused(
    client: TestClient, worker_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    body = '{"name": "m", "algorithm": "demo_unet", "algorithm_version": "1.0.0", '
    body += '"weights_uri": "file:///w", "metrics": {"final": {"loss": NaN}}}'
    response = client.post(
        f"{API}/models",
        content=body,
        headers={**worker_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "metrics.final.loss"


def test_inference_with_other_architecture_parameters_is_refused(
    client: TestClient, user_headers: dict[str, str], worker_headers: dict[str, str], demo: Any
) -> None:
    model = register(client, worker_headers)  # trained with depth 3
    check = f"{API}/models/{model['id']}/check"
    changed = client.post(
        check, json={"parameters": {"depth": 5, "activation": "tanh"}}, headers=user_headers
    )
    assert changed.status_code == 422
    error = changed.json()["error"]
    assert [d["field"] for d in error["details"]] == [
        "parameters.activation",
        "parameters.depth",
    ]
    assert "trained with 3" in error["details"][1]["message"]
    # Training and inference options may change; the architecture comes from the model.
    accepted = client.post(check, json={"parameters": {"crop": 512}}, headers=user_headers)
    assert accepted.status_code == 200
    assert accepted.json()["parameters"] == {**DEMO_DEFAULTS, "depth": 3, "crop": 512}
    assert accepted.json()["model_id"] == model["id"]
    same = client.post(check, json={"parameters": {"depth": 3}}, headers=user_headers)
    assert same.status_code == 200


def test_validate_with_a_model_id_checks_the_architecture_too(
    client: TestClient, user_headers: dict[str, str], worker_headers: dict[str, str], demo: Any
) -> None:
    model = register(client, worker_headers)
    validate = f"{API}/algorithms/demo_unet/1.0.0/validate"
    refused = client.post(
        validate,
        json={"parameters": {"depth": 4, "epochs": 0}, "model_id": model["id"]},
        headers=user_headers,
    )
    assert refused.status_code == 422
    fields = [d["field"] for d in refused.json()["error"]["details"]]
    assert fields == ["parameters.depth", "parameters.epochs"]
    accepted = client.post(
        validate, json={"parameters": {}, "model_id": model["id"]}, headers=user_headers
    )
    assert accepted.status_code == 200 and accepted.json()["parameters"]["depth"] == 3
    unknown = client.post(
        validate, json={"parameters": {}, "model_id": "no-such-model"}, headers=user_headers
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "model_id"
