"""Jobs end to end: real APIs, real Celery workers, real algorithm runs, on both brokers."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from services.common.client import ApiClientError
from tests.integration.conftest import Stack, processes_mentioning, wait_for

pytestmark = pytest.mark.slow

TINY_MSDNET = {
    "layers": 4,
    "max_dilation": 4,
    "batch_size": 4,
    "device": "cpu",
    "window": 48,
    "step": 24,
    "border": 4,
}


def wait_state(stack: Stack, job_id: str, states: set[str], timeout: float = 120):
    with stack.client() as client:
        return wait_for(
            lambda: (job := client.job(job_id)).state in states and job,
            timeout,
            f"job {job_id} to be {'/'.join(sorted(states))}",
            every=0.2,
        )


def test_kmeans_segmentation_completes_with_results(stack: Stack, disks) -> None:
    with stack.client() as client:
        job = client.submit(
            {
                "algorithm": "kmeans",
                "version": "latest",
                "parameters": {"n_clusters": 2},
                "inputs": {"data_uri": disks["data_uri"]},
            }
        )
    done = wait_state(stack, job.id, {"completed", "failed", "canceled"})
    assert done.state == "completed", done.error
    assert done.progress == 1.0 and done.worker == "w1" and done.attempts == 1
    mask = np.load(done.results["summary"]["outputs"]["mask"])
    assert mask.shape == (8, 96, 96) and set(np.unique(mask)) <= {0, 1}
    assert done.results["results_uri"] == str(Path(stack.env["MLEX_RESULTS_URI"]) / job.id)


def test_training_reports_epochs_in_order_and_registers_the_model(stack: Stack, disks) -> None:
    with stack.client() as client:
        job = client.submit(
            {
                "algorithm": "msdnet",
                "version": "1.0.0",
                "step": "train",
                "parameters": {**TINY_MSDNET, "epochs": 3},
                "inputs": disks,
            }
        )
        # Follow the live server-sent events while the job runs.
        streamed: list[tuple[str, dict]] = []
        follower = threading.Thread(
            target=lambda: streamed.extend(
                (kind, json.loads(data)) for kind, data in stack.client().events(job.id)
            ),
            daemon=True,
        )
        follower.start()
        done = wait_state(stack, job.id, {"completed", "failed", "canceled"}, timeout=180)
        assert done.state == "completed", done.error
        epochs = [m.epoch for m in client.metrics(job.id).items]
        assert epochs == [1, 2, 3]
        follower.join(timeout=10)
        assert [d["epoch"] for kind, d in streamed if kind == "metric"] == [1, 2, 3]
        states = [d["state"] for kind, d in streamed if kind == "state"]
        assert states[-1] == "completed" and "running" in states
        progress = [d["progress"] for kind, d in streamed if kind == "progress"]
        assert progress == sorted(progress) and progress[-1] == 1.0
        assert done.model_id is not None
        model = client.http.get(
            f"{stack.content_url}/api/v0/models/{done.model_id}",
            headers={"Authorization": f"Bearer {client.api_key}"},
        ).json()
        assert model["lineage"]["job_id"] == job.id
        assert model["weights_uri"] == done.results["summary"]["model"]["weights_uri"]


def test_cancel_kills_the_running_child(stack: Stack, disks) -> None:
    with stack.client() as client:
        job = client.submit(
            {
                "algorithm": "msdnet",
                "version": "1.0.0",
                "step": "train",
                "parameters": {**TINY_MSDNET, "epochs": 500},
                "inputs": disks,
            }
        )
        wait_state(stack, job.id, {"running"})
        wait_for(lambda: processes_mentioning(job.id), 30, "the run's child process")
        wait_for(lambda: client.job(job.id).progress > 0, 60, "the run to report progress")
        canceled_at = time.monotonic()
        assert client.cancel(job.id).state == "canceled"
        wait_for(lambda: not processes_mentioning(job.id), 5, "the child to be gone")
        assert time.monotonic() - canceled_at < 5
        assert client.job(job.id).state == "canceled"


def test_bad_parameters_are_rejected_before_queueing(stack: Stack) -> None:
    with stack.client() as client:
        with pytest.raises(ApiClientError) as error:
            client.submit(
                {"algorithm": "kmeans", "version": "1.0.0", "parameters": {"n_clusters": 99}}
            )
        assert error.value.status_code == 422
        assert error.value.field == "parameters.n_clusters"
        assert client.jobs(algorithm="kmeans", state="queued").total == 0
        assert all(j.parameters.get("n_clusters") != 99 for j in client.iter_jobs())


def test_workflow_infers_with_the_model_it_trained(stack: Stack, disks) -> None:
    with stack.client() as client:
        workflow = client.submit_workflow(
            {
                "name": "train then segment",
                "steps": [
                    {
                        "name": "train",
                        "algorithm": "msdnet",
                        "version": "1.0.0",
                        "step": "train",
                        "parameters": {**TINY_MSDNET, "epochs": 1},
                        "inputs": disks,
                    },
                    {
                        "name": "infer",
                        "algorithm": "msdnet",
                        "version": "1.0.0",
                        "step": "infer",
                        "parameters": {"device": "cpu"},
                        "inputs": {
                            "data_uri": disks["data_uri"],
                            "model_id": "${train.model_id}",
                        },
                    },
                ],
            }
        )
        wait_for(
            lambda: client.workflow(workflow.id).state in ("completed", "failed", "canceled"),
            240,
            "the workflow to end",
            every=0.3,
        )
        train, infer = client.workflow(workflow.id).jobs
        assert (train.state, infer.state) == ("completed", "completed"), infer.error or train.error
        assert infer.inputs.model_id == train.model_id is not None
        assert infer.parameters["layers"] == TINY_MSDNET["layers"]  # from the trained model
        assert infer.started_at >= train.finished_at
        mask = np.load(infer.results["summary"]["outputs"]["mask"])
        assert mask.shape == (8, 96, 96)


def test_compute_api_restart_loses_nothing(stack: Stack, disks) -> None:
    with stack.client() as client:
        job = client.submit(
            {
                "algorithm": "msdnet",
                "version": "1.0.0",
                "step": "train",
                "parameters": {**TINY_MSDNET, "epochs": 2},
                "inputs": disks,
            }
        )
        queued = client.submit(
            {
                "algorithm": "kmeans",
                "version": "1.0.0",
                "parameters": {"n_clusters": 2},
                "inputs": {"data_uri": disks["data_uri"]},
            }
        )
        wait_state(stack, job.id, {"running"})
    stack.restart_api("compute")
    done = wait_state(stack, job.id, {"completed", "failed", "canceled"}, timeout=180)
    assert done.state == "completed", done.error
    assert done.attempts == 1  # the run went on; its reports resumed after the restart
    after = wait_state(stack, queued.id, {"completed", "failed", "canceled"}, timeout=120)
    assert after.state == "completed", after.error


def test_killed_worker_job_is_retried_on_another(stack: Stack, disks) -> None:
    """Last in the module: it kills the shared worker w1."""
    victim = stack.workers[0]
    with stack.client() as client:
        job = client.submit(
            {
                "algorithm": "kmeans",
                "version": "1.0.0",
                "parameters": {"n_clusters": 2},
                "inputs": {"data_uri": disks["data_uri"]},
            }
        )
        wait_state(stack, job.id, {"running"})
        wait_for(lambda: processes_mentioning(job.id), 30, "the run's child process")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        # The pool process and the algorithm child die with the worker.
        wait_for(lambda: not processes_mentioning(job.id), 10, "the orphaned run to die")
        stack.start_worker("w2")
        done = wait_state(stack, job.id, {"completed", "failed"}, timeout=120)
        assert done.state == "completed", done.error
        assert done.attempts == 2 and done.worker == "w2"
        log = [line.message for line in client.logs(job.id).lines]
        assert any("w1 lost" in message for message in log)
