"""What a worker does through the API: claim, report events, finish; and what users then see."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.services.compute.conftest import claim, finish, report, submit


def test_claim_run_report_finish(compute: TestClient, alice, worker) -> None:
    job = submit(compute, alice, step="train", inputs={"data_uri": "/data/x"})
    claimed = claim(compute, worker, job)
    assert claimed["run"] is True
    assert claimed["job"]["state"] == "running"
    assert claimed["entry_point"] == "python -m algorithms run toy"
    # The same message delivered twice (or to a second worker) is skipped.
    again = claim(compute, worker, job, name="w2")
    assert again["run"] is False and "running" in again["reason"]

    events = [
        {"type": "progress", "value": 0.25, "message": "epoch 1"},
        {"type": "metric", "epoch": 1, "values": {"loss": 0.9}},
        {"type": "metric", "epoch": 2, "values": {"loss": 0.5}},
        {"type": "log", "level": "info", "message": "halfway"},
        {"type": "metric", "epoch": 3, "values": {"loss": 0.2, "f1": 0.8}},
        {"type": "artifact", "name": "mask", "uri": "/results/x/mask"},
        {"type": "result", "model": {"weights_uri": "/models/x"}},
    ]
    control = report(compute, worker, job["id"], events)
    assert control == {"state": "running", "cancel": False}
    seen = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
    assert seen["progress"] == 0.25 and seen["worker"] == "w1" and seen["worker_host"] == "host-a"

    finish(compute, worker, job["id"], results={"results_uri": "/results/x"}, model_id="m-1")
    done = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
    assert done["state"] == "completed" and done["progress"] == 1.0
    assert done["model_id"] == "m-1"
    assert done["results"]["results_uri"] == "/results/x"
    assert done["results"]["artifacts"] == {"mask": "/results/x/mask"}
    assert done["results"]["summary"]["model"]["weights_uri"] == "/models/x"
    assert done["finished_at"] >= done["started_at"] >= done["created_at"]

    metrics = compute.get(f"/api/v0/jobs/{job['id']}/metrics", headers=alice).json()["items"]
    assert [m["epoch"] for m in metrics] == [1, 2, 3]
    assert metrics[2]["values"] == {"loss": 0.2, "f1": 0.8}
    logs = compute.get(f"/api/v0/jobs/{job['id']}/logs?tail=2", headers=alice).json()
    assert [line["message"] for line in logs["lines"]][-1] == "attempt 1 ended completed"
    # A finished job cannot be canceled; the worker's late reports are told to stop.
    assert compute.post(f"/api/v0/jobs/{job['id']}/cancel", headers=alice).status_code == 409
    assert report(compute, worker, job["id"], [])["cancel"] is True


def test_cancel_running_job_tells_the_worker(compute: TestClient, alice, worker) -> None:
    job = submit(compute, alice)
    claim(compute, worker, job)
    canceled = compute.post(f"/api/v0/jobs/{job['id']}/cancel", headers=alice).json()
    assert canceled["state"] == "canceled"
    assert report(compute, worker, job["id"], [{"type": "progress", "value": 0.5}]) == {
        "state": "canceled",
        "cancel": True,
    }
    # The worker's late finish changes nothing.
    finish(compute, worker, job["id"], state="failed", error="killed")
    seen = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
    assert seen["state"] == "canceled" and seen["error"] == "canceled by alice"


def test_canceled_queued_job_is_skipped_by_workers(compute: TestClient, alice, worker) -> None:
    job = submit(compute, alice)
    compute.post(f"/api/v0/jobs/{job['id']}/cancel", headers=alice)
    answer = claim(compute, worker, job)
    assert answer == {**answer, "run": False, "reason": "job is canceled"}


def test_failure_keeps_the_error(compute: TestClient, alice, worker) -> None:
    job = submit(compute, alice)
    claim(compute, worker, job)
    report(compute, worker, job["id"], [{"type": "error", "message": "bad", "field": "k"}])
    finish(compute, worker, job["id"], state="failed", error="bad (field k)")
    seen = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
    assert seen["state"] == "failed" and seen["error"] == "bad (field k)"


def test_log_is_bounded_and_tailable(compute: TestClient, alice, worker) -> None:
    job = submit(compute, alice)
    claim(compute, worker, job)
    lines = [{"type": "log", "level": "info", "message": f"line {i}"} for i in range(25)]
    report(compute, worker, job["id"], lines)
    logs = compute.get(f"/api/v0/jobs/{job['id']}/logs", headers=alice).json()
    assert len(logs["lines"]) == 10  # MLEX_JOB_LOG_LINES in these tests
    assert logs["lines"][-1]["message"] == "line 24"
    assert logs["dropped"] == 16  # the claim's line and lines 0-14
    tail = compute.get(f"/api/v0/jobs/{job['id']}/logs?tail=3", headers=alice).json()
    assert [line["message"] for line in tail["lines"]] == ["line 22", "line 23", "line 24"]


def test_only_workers_use_worker_endpoints(compute: TestClient, alice) -> None:
    job = submit(compute, alice)
    response = compute.post(
        f"/api/v0/worker/jobs/{job['id']}/claim",
        json={"worker": "w", "attempt": 1},
        headers=alice,
    )
    assert response.status_code == 403


def test_event_stream_of_a_finished_job(compute: TestClient, alice, worker) -> None:
    job = submit(compute, alice, step="train")
    claim(compute, worker, job)
    report(compute, worker, job["id"], [{"type": "metric", "epoch": 1, "values": {"loss": 1.0}}])
    finish(compute, worker, job["id"])
    with compute.stream("GET", f"/api/v0/jobs/{job['id']}/events", headers=alice) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    kinds = [line.split(": ", 1)[1] for line in body.splitlines() if line.startswith("event:")]
    assert kinds == ["metric", "state", "progress"]
    data = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data:")]
    assert data[0]["values"] == {"loss": 1.0} and data[1]["state"] == "completed"


def test_workers_list_shows_running_jobs(compute: TestClient, alice, worker) -> None:
    beat = {"name": "w1", "host": "host-a", "queues": ["cpu"], "gpus": [], "concurrency": 2}
    assert compute.post("/api/v0/worker/heartbeat", json=beat, headers=worker).status_code == 204
    job = submit(compute, alice)
    claim(compute, worker, job)
    listed = compute.get("/api/v0/workers", headers=alice).json()
    assert listed["total"] == 1
    assert listed["items"][0]["jobs"] == [job["id"]]
    assert listed["items"][0]["queues"] == ["cpu"] and listed["items"][0]["concurrency"] == 2
