"""Submitting jobs: validation through MLExContent, queues, permissions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.services.compute.conftest import submit


def test_submit_validates_and_queues(compute: TestClient, alice, queued_messages) -> None:
    job = submit(compute, alice, parameters={"n_clusters": 4}, inputs={"data_uri": "/data/x"})
    assert job["state"] == "queued"
    assert job["queue"] == "cpu"
    assert job["owner"] == "alice"
    assert job["parameters"] == {"n_clusters": 4, "epochs": 2}  # defaults filled by content
    assert job["inputs"]["data_uri"] == "/data/x"
    assert job["attempts"] == 1 and job["progress"] == 0.0
    assert len(queued_messages()) == 1


def test_latest_version_resolves(compute: TestClient, alice) -> None:
    job = submit(compute, alice, version="latest")
    assert job["version"] == "1.0.0"


def test_gpu_card_goes_to_gpu_queue(compute: TestClient, alice) -> None:
    job = submit(compute, alice, algorithm="gpunet", step="train")
    assert job["queue"] == "gpu"


def test_bad_parameters_are_422_and_store_nothing(
    compute: TestClient, alice, queued_messages
) -> None:
    body = {"algorithm": "toy", "version": "1.0.0", "parameters": {"n_clusters": 1}}
    response = compute.post("/api/v0/jobs", json=body, headers=alice)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "parameters.n_clusters"
    assert compute.get("/api/v0/jobs", headers=alice).json()["total"] == 0
    assert queued_messages() == []


def test_unknown_algorithm_and_step_are_422(compute: TestClient, alice) -> None:
    response = compute.post(
        "/api/v0/jobs", json={"algorithm": "nope", "version": "1.0.0"}, headers=alice
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "algorithm"
    response = compute.post(
        "/api/v0/jobs", json={"algorithm": "gpunet", "version": "1.0.0"}, headers=alice
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "step"


def test_request_shape_errors_name_the_field(compute: TestClient, alice) -> None:
    body = {"algorithm": "toy", "version": "1.0.0", "step": "dance", "priority": 12}
    response = compute.post("/api/v0/jobs", json=body, headers=alice)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"step", "priority"} <= fields


def test_worker_key_cannot_create_or_cancel_jobs(compute: TestClient, alice, worker) -> None:
    response = compute.post("/api/v0/jobs", json={"algorithm": "toy"}, headers=worker)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    job = submit(compute, alice)
    assert compute.post(f"/api/v0/jobs/{job['id']}/cancel", headers=worker).status_code == 403
    assert compute.post(f"/api/v0/jobs/{job['id']}/retry", headers=worker).status_code == 403


def test_no_key_is_401(compute: TestClient) -> None:
    assert compute.get("/api/v0/jobs").status_code == 401


def test_users_see_only_their_jobs(compute: TestClient, alice, bob, admin_headers) -> None:
    job = submit(compute, alice)
    submit(compute, bob)
    assert compute.get(f"/api/v0/jobs/{job['id']}", headers=bob).status_code == 404
    assert compute.post(f"/api/v0/jobs/{job['id']}/cancel", headers=bob).status_code == 404
    assert compute.get(f"/api/v0/jobs/{job['id']}/logs", headers=bob).status_code == 404
    mine = compute.get("/api/v0/jobs", headers=bob).json()
    assert mine["total"] == 1 and mine["items"][0]["owner"] == "bob"
    everyone = compute.get("/api/v0/jobs", headers=admin_headers).json()
    assert everyone["total"] == 2
    only_alice = compute.get("/api/v0/jobs?owner=alice", headers=admin_headers).json()
    assert [j["id"] for j in only_alice["items"]] == [job["id"]]


def test_list_filters_and_pagination(compute: TestClient, alice) -> None:
    first = submit(compute, alice)
    submit(compute, alice, algorithm="gpunet", step="train")
    compute.post(f"/api/v0/jobs/{first['id']}/cancel", headers=alice)
    canceled = compute.get("/api/v0/jobs?state=canceled", headers=alice).json()
    assert [j["id"] for j in canceled["items"]] == [first["id"]]
    gpunet = compute.get("/api/v0/jobs?algorithm=gpunet", headers=alice).json()
    assert gpunet["total"] == 1
    page = compute.get("/api/v0/jobs?limit=1&offset=1", headers=alice).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["limit"] == 1


def test_cancel_queued_then_retry(compute: TestClient, alice, queued_messages) -> None:
    job = submit(compute, alice, priority=8)
    canceled = compute.post(f"/api/v0/jobs/{job['id']}/cancel", headers=alice).json()
    assert canceled["state"] == "canceled"
    again = compute.post(f"/api/v0/jobs/{job['id']}/cancel", headers=alice)
    assert again.status_code == 409
    retried = compute.post(f"/api/v0/jobs/{job['id']}/retry", headers=alice)
    assert retried.status_code == 201
    new = retried.json()
    assert new["id"] != job["id"] and new["state"] == "queued" and new["priority"] == 8
    assert new["parameters"] == job["parameters"]
    assert len(queued_messages()) == 2
    assert compute.post(f"/api/v0/jobs/{new['id']}/retry", headers=alice).status_code == 409
