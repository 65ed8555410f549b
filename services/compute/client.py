"""Typed client of MLExCompute (front-ends, scripts and the workers use it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.common.client import BaseClient
from services.common.page import Page
from services.compute.schemas import (
    ClaimRequest,
    ClaimResponse,
    EventBatch,
    JobControl,
    JobCreate,
    JobFinish,
    JobLogs,
    JobMetrics,
    JobPublic,
    WorkerHeartbeat,
    WorkerPublic,
    WorkflowCreate,
    WorkflowPublic,
)


class ComputeClient(BaseClient):
    """Talks to MLExCompute under ``/api/v0``."""

    # --- jobs ---------------------------------------------------------------
    def submit(self, job: JobCreate | dict[str, Any]) -> JobPublic:
        """Submit a job; raises ApiClientError 422 naming bad parameters."""
        body = job.model_dump(mode="json") if isinstance(job, JobCreate) else job
        return JobPublic.model_validate(self.post_json("/jobs", body))

    def job(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self.get_json(f"/jobs/{job_id}"))

    def jobs(self, offset: int = 0, limit: int = 100, **filters: Any) -> Page[JobPublic]:
        """One page of jobs; filters: state, owner, algorithm, workflow."""
        params = {k: v for k, v in filters.items() if v is not None}
        data = self.get_json("/jobs", params={**params, "offset": offset, "limit": limit})
        return Page[JobPublic].model_validate(data)

    def iter_jobs(self, **filters: Any) -> Iterator[JobPublic]:
        params = {k: v for k, v in filters.items() if v is not None}
        return self.iterate("/jobs", JobPublic, **params)

    def logs(self, job_id: str, tail: int | None = None) -> JobLogs:
        params = {"tail": tail} if tail else {}
        return JobLogs.model_validate(self.get_json(f"/jobs/{job_id}/logs", params=params))

    def metrics(self, job_id: str) -> JobMetrics:
        return JobMetrics.model_validate(self.get_json(f"/jobs/{job_id}/metrics"))

    def cancel(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self.post_json(f"/jobs/{job_id}/cancel"))

    def retry(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self.post_json(f"/jobs/{job_id}/retry"))

    def events(self, job_id: str) -> Iterator[tuple[str, str]]:
        """Follow a job's server-sent events as (event, JSON data) pairs until it ends."""
        headers = self._headers()
        url = f"{self.prefix}/jobs/{job_id}/events"
        with self.http.stream("GET", url, headers=headers, timeout=None) as response:
            if response.status_code >= 400:
                response.read()
                raise self._error(response)
            kind = "message"
            for line in response.iter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    yield kind, line[5:].strip()

    # --- workflows ----------------------------------------------------------
    def submit_workflow(self, workflow: WorkflowCreate | dict[str, Any]) -> WorkflowPublic:
        body = (
            workflow.model_dump(mode="json") if isinstance(workflow, WorkflowCreate) else workflow
        )
        return WorkflowPublic.model_validate(self.post_json("/workflows", body))

    def workflow(self, workflow_id: str) -> WorkflowPublic:
        return WorkflowPublic.model_validate(self.get_json(f"/workflows/{workflow_id}"))

    # --- workers ------------------------------------------------------------
    def workers(self) -> list[WorkerPublic]:
        return list(self.iterate("/workers", WorkerPublic))

    def worker_heartbeat(self, beat: WorkerHeartbeat) -> None:
        self.request("POST", "/worker/heartbeat", json=beat.model_dump(mode="json"))

    def claim(self, job_id: str, worker: str, host: str, attempt: int) -> ClaimResponse:
        body = ClaimRequest(worker=worker, host=host, attempt=attempt).model_dump()
        return ClaimResponse.model_validate(self.post_json(f"/worker/jobs/{job_id}/claim", body))

    def report(self, job_id: str, worker: str, events: list[dict[str, Any]]) -> JobControl:
        body = EventBatch.model_validate({"worker": worker, "events": events})
        data = self.post_json(f"/worker/jobs/{job_id}/events", body.model_dump(mode="json"))
        return JobControl.model_validate(data)

    def finish(self, job_id: str, finish: JobFinish) -> JobControl:
        data = self.post_json(f"/worker/jobs/{job_id}/finish", finish.model_dump(mode="json"))
        return JobControl.model_validate(data)
