"""The one Celery task: claim a job from MLExCompute, run it, report how it ended."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import httpx
from celery import Celery, Task

from services.common.client import ApiClientError, BaseClient
from services.compute.client import ComputeClient
from services.compute.schemas import JobFinish
from workers.broker import TASK_NAME, RunJobMessage
from workers.runner import JobRun
from workers.settings import WorkerSettings

logger = logging.getLogger("mlex.worker")


def execute(message: RunJobMessage, worker: str, settings: WorkerSettings) -> str:
    """Run one message's job; return what happened (for the worker's log)."""
    key = settings.api_key()
    with ComputeClient(settings.compute_url, key) as api:
        claim = api.claim(message.job_id, worker, socket.gethostname(), message.attempt)
        if not claim.run or claim.job is None:
            return f"skipped job {message.job_id}: {claim.reason}"
        content = BaseClient(settings.content_url, key)
        labels = BaseClient(settings.labels_url, key)
        try:
            run = JobRun(
                api,
                claim.job,
                worker,
                settings,
                time_limit=claim.time_limit,
                content=content,
                labels=labels,
                card={
                    "gpu": claim.gpu,
                    "command": claim.command,
                    "entry_point": claim.entry_point,
                },
            )
            try:
                finish = run.execute()
            except Exception as error:  # report it rather than leave the job running
                logger.exception("job %s crashed the runner", message.job_id)
                finish = JobFinish(worker=worker, state="failed", error=f"worker error: {error}")
            if finish is None:
                return f"job {message.job_id} canceled"
            _report_finish(api, message.job_id, finish)
            return f"job {message.job_id} {finish.state}"
        finally:
            content.close()
            labels.close()


def _report_finish(
    api: ComputeClient, job_id: str, finish: JobFinish, patience: float = 120.0
) -> None:
    """Report how a run ended, retrying while MLExCompute restarts (the run is not redone)."""
    deadline = time.monotonic() + patience
    delay = 0.5
    while True:
        try:
            api.finish(job_id, finish)
            return
        except (httpx.HTTPError, ApiClientError) as error:
            transient = not isinstance(error, ApiClientError) or error.status_code >= 500
            if not transient or time.monotonic() + delay > deadline:
                raise
            logger.warning("could not report job %s yet: %s", job_id, error)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def register_tasks(app: Celery, settings: WorkerSettings, worker: str | None = None) -> None:
    """Add ``mlex.run_job`` to a Celery app; ``worker`` names this worker to MLExCompute."""

    @app.task(name=TASK_NAME, bind=True, acks_late=True, max_retries=30, ignore_result=True)
    def run_job(self: Task, message: dict[str, Any]) -> str:
        parsed = RunJobMessage.model_validate(message)
        name = worker or str(self.request.hostname or socket.gethostname())
        try:
            outcome = execute(parsed, name, settings)
        except (httpx.HTTPError, ApiClientError) as error:
            if isinstance(error, ApiClientError) and error.status_code < 500:
                logger.error("job %s refused: %s", parsed.job_id, error)
                return f"refused: {error}"
            # MLExCompute is restarting or unreachable: try the message again shortly.
            raise self.retry(exc=error, countdown=2) from error
        logger.info(outcome)
        return outcome
