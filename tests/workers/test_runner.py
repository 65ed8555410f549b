"""One job run by the real runner: a real ``python -m algorithms`` child, real compute app."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi.testclient import TestClient

from services.compute.client import ComputeClient
from services.compute.schemas import JobInputs, JobPublic
from tests.fixtures.db import ADMIN_KEY
from tests.integration.conftest import processes_mentioning
from tests.services.compute.conftest import TOY_CARD, claim, submit
from workers.runner import JobRun, child_command
from workers.settings import WorkerSettings


def settings_for(tmp_path: Path, **overrides) -> WorkerSettings:
    return WorkerSettings(
        home=tmp_path / "home",
        admin_api_key=ADMIN_KEY,
        results_uri=str(tmp_path / "results"),
        worker_report_interval=0.2,
        worker_kill_grace=0.5,
        **overrides,
    )


def test_child_command_is_an_argument_list(tmp_path: Path) -> None:
    job = JobPublic.model_construct(
        id="j", algorithm="kmeans", step="run", image=None, attempts=1, inputs=JobInputs()
    )
    settings = settings_for(tmp_path)
    spec = tmp_path / "spec.json"
    assert child_command(job, spec, tmp_path, settings) == [
        sys.executable,
        "-m",
        "algorithms",
        "run",
        "kmeans",
        "run",
        "--spec",
        str(spec),
    ]
    custom = child_command(job, spec, tmp_path, settings, entry_point="python -m mine run x")
    assert custom == [sys.executable, "-m", "mine", "run", "x", "run", "--spec", str(spec)]
    image = "ghcr.io/mlex/kmeans:1@sha256:" + "b" * 64
    boxed = job.model_copy(update={"image": image})
    container = child_command(boxed, spec, tmp_path, settings, gpu="required", command=["run.sh"])
    assert container[:2] == ["docker", "run"] and "--gpus" in container
    assert container[-5:] == [image, "run.sh", "run", "--spec", str(spec)]


def run_claimed(
    compute: TestClient, alice, worker, tmp_path: Path, algorithm: str = "toy", **overrides
):
    """Submit, claim and run one job with the real runner, as the Celery task does."""
    job = submit(compute, alice, algorithm=algorithm, inputs={"data_uri": str(tmp_path / "x")})
    claimed = claim(compute, worker, job, name="w1")
    api = ComputeClient(api_key=worker["Authorization"].split()[1], http=compute)
    run = JobRun(
        api,
        JobPublic.model_validate(claimed["job"]),
        "w1",
        settings_for(tmp_path, **overrides),
        time_limit=claimed["time_limit"],
        card={key: claimed[key] for key in ("gpu", "command", "entry_point")},
    )
    return job, run.execute()


def test_a_failing_run_reports_its_error_and_stderr(
    compute: TestClient, alice, worker, tmp_path: Path
) -> None:
    # The "toy" card is not a built-in algorithm: the child reports an error event, exit 2.
    job, finish = run_claimed(compute, alice, worker, tmp_path)
    assert finish is not None and finish.state == "failed"
    assert "unknown algorithm" in finish.error
    assert finish.results["results_uri"] == str(tmp_path / "results" / job["id"])
    spec = tmp_path / "home" / "work" / job["id"] / "attempt-1" / "spec.json"
    assert spec.is_file()
    logs = compute.get(f"/api/v0/jobs/{job['id']}/logs", headers=alice).json()["lines"]
    assert any(line["message"].startswith("run: ") for line in logs)


def test_time_limit_kills_the_run(
    compute: TestClient, content_http: TestClient, alice, worker, tmp_path: Path
) -> None:
    # A published card whose entry point never ends on its own.
    sleeper = {
        **TOY_CARD,
        "name": "sleeper",
        "entry_point": "python -c 'import time; time.sleep(60)'",
    }
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert content_http.post("/api/v0/algorithms", json=sleeper, headers=admin).status_code == 201
    job, finish = run_claimed(compute, alice, worker, tmp_path, "sleeper", job_time_limit=1.0)
    assert finish is not None and finish.state == "failed"
    assert finish.error == "time limit of 1 s exceeded"
    assert processes_mentioning(job["id"]) == []  # the child is gone
    logs = compute.get(f"/api/v0/jobs/{job['id']}/logs", headers=alice).json()["lines"]
    assert any("time.sleep(60)" in line["message"] for line in logs)
