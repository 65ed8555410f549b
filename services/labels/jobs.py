"""Checking, through MLExCompute's HTTP API, that a worker writes labels only for its own jobs."""

from __future__ import annotations

import logging
from typing import Literal

import httpx

from services.common.auth.store import Principal
from services.common.errors import Forbidden, Invalid, Unavailable

logger = logging.getLogger("mlex.labels.jobs")

JobCheckMode = Literal["auto", "required", "off"]


def job_worker(
    compute_url: str,
    job_id: str,
    api_key: str | None,
    timeout: float = 3.0,
    http: httpx.Client | None = None,
) -> tuple[str | None, str]:
    """(worker, state) of ``job_id`` as MLExCompute reports it (worker None when unassigned).

    Raises ``LookupError`` when the job is unknown and ``ConnectionError`` when MLExCompute does
    not answer. ``http`` lets a test pass a TestClient of a real compute app.
    """
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    path = f"/api/v0/jobs/{job_id}"
    try:
        if http is not None:
            response = http.get(path, headers=headers)
        else:
            with httpx.Client(base_url=compute_url.rstrip("/"), timeout=timeout) as client:
                response = client.get(path, headers=headers)
    except httpx.TransportError as error:
        raise ConnectionError(f"MLExCompute at {compute_url} does not answer: {error}") from error
    if response.status_code == 404:
        raise LookupError(f"MLExCompute has no job {job_id!r}")
    if response.status_code >= 400:
        raise ConnectionError(f"MLExCompute answered {response.status_code} for job {job_id!r}")
    job = response.json()
    worker = job.get("worker")
    return (str(worker) if worker else None), str(job.get("state", ""))


def check_worker_job(
    principal: Principal,
    job_id: str | None,
    mode: JobCheckMode,
    compute_url: str,
    api_key: str | None,
    timeout: float = 3.0,
    http: httpx.Client | None = None,
    worker_name: str | None = None,
) -> None:
    """Refuse an event a worker key opens for a job it does not run.

    A worker must name its job, and MLExCompute must report that job ``running`` on this
    worker: the key's user name, or ``worker_name`` (the name the worker process claimed the
    job with, sent as the ``X-MLEx-Worker`` header). With mode ``off`` nothing more is
    checked; ``auto`` asks MLExCompute and lets the event through (logging a warning) when it
    does not answer; ``required`` refuses with 503 then.
    """
    if principal.role != "worker":
        return
    if not job_id:
        raise Invalid("a worker key must give the job_id of the job it runs", field="job_id")
    if mode == "off":
        return
    try:
        worker, state = job_worker(compute_url, job_id, api_key, timeout=timeout, http=http)
    except LookupError as error:
        raise Forbidden(str(error), field="job_id") from None
    except ConnectionError as error:
        if mode == "required":
            raise Unavailable(f"cannot verify job {job_id!r}: {error}", field="job_id") from None
        logger.warning("job not verified", extra={"job_id": job_id, "reason": str(error)})
        return
    names = {principal.name} | ({worker_name} if worker_name else set())
    if worker not in names:
        raise Forbidden(
            f"job {job_id!r} is run by {worker or 'no worker'!r}, not by {principal.name!r}",
            field="job_id",
        )
    if state != "running":
        raise Forbidden(f"job {job_id!r} is {state}, not running", field="job_id")
