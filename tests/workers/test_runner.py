"""One job run by the real runner: a real ``python -m algorithms`` child, real compute app."""

from __future__ import annotations

import sys
from pathlib import Path

from fastapi.testclient import TestClient

from services.compute.client import ComputeClient
from services.compute.schemas import JobInputs, JobPublic
from tests.fixtures.db import ADMIN_KEY
from tests.services.compute.conftest import claim, submit
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


def run_claimed(compute: TestClient, alice, worker, tmp_path: Path, **settings_overrides):
    job = submit(compute, alice, inputs={"data_uri": str(tmp_path / "missing.npy")})
    claimed = claim(compute, worker, job, name="w1")
    api = ComputeClient(api_key=worker["Authorization"].split()[1], http=compute)
    public = JobPublic.model_validate(claimed["job"])
    run = JobRun(
        api,
        public,
        "w1",
        settings_for(tmp_path, **settings_overrides),
        time_limit=claimed["time_limit"],
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


def test_time_limit_kills_the_run(compute: TestClient, alice, worker, tmp_path: Path) -> None:
    _, finish = run_claimed(compute, alice, worker, tmp_path, job_time_limit=0.2)
    assert finish is not None and finish.state == "failed"
    assert "time limit" in finish.error
