"""Lost workers and lost messages: the sweep re-queues, retries, then fails."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from services.compute.lifecycle import sweep
from tests.services.compute.conftest import claim, finish, submit


def run_sweep(compute: TestClient, later: float, waiting=None) -> list:
    app = compute.app
    with app.state.sessions() as session:
        dispatches = sweep(session, app.state.settings, now=time.time() + later, waiting=waiting)
    app.state.dispatcher.send(dispatches)
    return dispatches


def test_lost_worker_job_is_retried_on_another(
    compute: TestClient, alice, worker, queued_messages
) -> None:
    job = submit(compute, alice)
    claim(compute, worker, job, name="dead")
    timeout = compute.app.state.settings.job_heartbeat_timeout
    assert run_sweep(compute, later=timeout / 2) == []  # heartbeat still fresh
    (dispatch,) = run_sweep(compute, later=timeout + 1)
    assert dispatch.attempt == 2
    seen = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
    assert seen["state"] == "queued" and seen["attempts"] == 2 and seen["worker"] is None
    assert len(queued_messages()) == 2
    # The first attempt's message is stale; the new one runs and completes.
    assert claim(compute, worker, job, name="other")["run"] is False
    assert claim(compute, worker, seen, name="alive")["run"] is True
    finish(compute, worker, job["id"], name="alive")
    done = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
    assert done["state"] == "completed" and done["worker"] == "alive"
    logs = compute.get(f"/api/v0/jobs/{job['id']}/logs", headers=alice).json()["lines"]
    assert any("worker dead lost" in line["message"] for line in logs)


def test_job_fails_after_the_last_attempt(compute: TestClient, alice, worker) -> None:
    job = submit(compute, alice)
    timeout = compute.app.state.settings.job_heartbeat_timeout
    for attempt in range(1, 4):
        current = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
        assert current["attempts"] == attempt
        claim(compute, worker, current, name=f"w{attempt}")
        run_sweep(compute, later=timeout + 1)
    seen = compute.get(f"/api/v0/jobs/{job['id']}", headers=alice).json()
    assert seen["state"] == "failed"
    assert "lost" in seen["error"] and "3 attempts" in seen["error"]


def test_unclaimed_queued_job_is_resent(compute: TestClient, alice, queued_messages) -> None:
    job = submit(compute, alice)
    resend = compute.app.state.settings.job_resend_after
    assert run_sweep(compute, later=resend / 2) == []
    (dispatch,) = run_sweep(compute, later=resend + 1)
    assert dispatch.job_id == job["id"] and dispatch.attempt == 1
    assert len(queued_messages()) == 2


def test_lost_message_is_resent_only_when_its_queue_is_empty(
    compute: TestClient, alice, queued_messages
) -> None:
    job = submit(compute, alice)
    resend = compute.app.state.settings.job_resend_after
    waiting = compute.app.state.dispatcher.waiting
    assert waiting("cpu") == 1
    assert run_sweep(compute, later=resend + 1, waiting=waiting) == []  # still in the queue
    for message in queued_messages():  # the broker lost it (restart without persistence)
        message.unlink()
    assert waiting("cpu") == 0
    (dispatch,) = run_sweep(compute, later=resend + 1, waiting=waiting)
    assert dispatch.job_id == job["id"]
    assert waiting("cpu") == 1
