"""Jobs: submit, list, read, logs, metrics, live events, cancel, retry."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from services.common.db import read_only
from services.common.deps import CurrentUser, SessionDep
from services.common.errors import Conflict
from services.common.pagination import Page, PageDep, paginate
from services.compute.deps import (
    CardsDep,
    DispatcherDep,
    SettingsDep,
    Submitter,
)
from services.compute.lifecycle import cancel_job, dispatch_of, is_terminal, new_job
from services.compute.models import Job
from services.compute.schemas import JobCreate, JobLogs, JobMetrics, JobPublic, JobState
from services.compute.store import (
    get_job,
    job_logs,
    job_metrics,
    job_public,
    list_jobs,
    new_id,
)

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=201,
    response_model=JobPublic,
    summary="Submit a job",
    description="Validates the parameters with MLExContent (422 naming the bad fields, nothing "
    "queued), stores the job `queued` and sends it to its algorithm's queue (`cpu` or `gpu`).",
)
def submit_job(
    data: JobCreate,
    session: SessionDep,
    principal: Submitter,
    cards: CardsDep,
    dispatcher: DispatcherDep,
    settings: SettingsDep,
) -> JobPublic:
    checked = cards.check(
        data.algorithm, data.version, data.step, data.parameters, data.inputs.model_id
    )
    job = new_job(principal.name, data, checked, settings, dispatched_at=time.time())
    session.add(job)
    session.commit()
    dispatcher.send([dispatch_of(job)])
    return job_public(job)


@router.get(
    "",
    response_model=Page[JobPublic],
    summary="List jobs",
    description="Newest first. Users see their own jobs; admins see all and may filter by owner.",
)
def get_jobs(
    session: SessionDep,
    principal: CurrentUser,
    page: PageDep,
    state: Annotated[JobState | None, Query(description="Only jobs in this state")] = None,
    owner: Annotated[str | None, Query(description="Only this user's jobs")] = None,
    algorithm: Annotated[str | None, Query(description="Only jobs of this algorithm")] = None,
    workflow: Annotated[str | None, Query(description="Only the steps of this workflow")] = None,
) -> dict[str, Any]:
    statement = list_jobs(principal, state, owner, algorithm, workflow)
    return paginate(read_only(session), statement, page, job_public)


@router.get("/{job_id}", response_model=JobPublic, summary="Read one job")
def read_job(job_id: str, session: SessionDep, principal: CurrentUser) -> JobPublic:
    return job_public(get_job(read_only(session), job_id, principal))


@router.get(
    "/{job_id}/logs",
    response_model=JobLogs,
    summary="A job's log",
    description="The kept log lines (the service keeps the last MLEX_JOB_LOG_LINES per job); "
    "`tail=N` returns the last N.",
)
def read_logs(
    job_id: str,
    session: SessionDep,
    principal: CurrentUser,
    tail: Annotated[int | None, Query(ge=1, le=100000, description="Last N lines")] = None,
) -> JobLogs:
    job = get_job(read_only(session), job_id, principal)
    lines, dropped = job_logs(session, job, tail)
    return JobLogs(job_id=job.id, lines=lines, dropped=dropped)


@router.get(
    "/{job_id}/metrics",
    response_model=JobMetrics,
    summary="A job's metrics history",
    description="One record per reported epoch/step, in the order the run reported them.",
)
def read_metrics(job_id: str, session: SessionDep, principal: CurrentUser) -> JobMetrics:
    job = get_job(read_only(session), job_id, principal)
    return JobMetrics(job_id=job.id, items=job_metrics(session, job))


@router.get(
    "/{job_id}/events",
    summary="Stream a job's changes (server-sent events)",
    description="`event: state`, `event: progress` and `event: metric` messages with JSON data, "
    "until the job ends. The first messages give the current state and all metrics so far.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def stream_events(
    job_id: str, request: Request, session: SessionDep, principal: CurrentUser
) -> StreamingResponse:
    get_job(read_only(session), job_id, principal)
    session.close()
    sessions = request.app.state.sessions

    def snapshot(after: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with sessions() as own:
            job = get_job(read_only(own), job_id)
            metrics = [m.model_dump() for m in job_metrics(own, job, after)]
            state = {
                "state": job.state,
                "progress": job.progress,
                "message": job.message,
                "error": job.error,
                "attempts": job.attempts,
                "worker": job.worker,
            }
            return state, metrics

    async def events() -> AsyncIterator[str]:
        last_state: tuple[Any, ...] | None = None
        last_progress: float | None = None
        after = 0
        idle = 0.0
        while True:
            state, metrics = await run_in_threadpool(snapshot, after)
            for metric in metrics:
                after = metric["seq"]
                yield _sse("metric", metric)
            key = (state["state"], state["attempts"], state["worker"])
            if key != last_state:
                last_state = key
                yield _sse("state", state)
            if state["progress"] != last_progress:
                last_progress = state["progress"]
                yield _sse("progress", {"progress": state["progress"], "message": state["message"]})
            if is_terminal(state["state"]) or await request.is_disconnected():
                return
            await asyncio.sleep(0.5)
            idle += 0.5
            if idle >= 15:
                idle = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


def _sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


@router.post(
    "/{job_id}/cancel",
    response_model=JobPublic,
    summary="Cancel a job",
    description="A queued job is canceled at once; a running one is canceled and its worker "
    "kills the run within seconds. Steps that depend on it are canceled too. 409 if it ended.",
)
def cancel(job_id: str, session: SessionDep, principal: Submitter) -> JobPublic:
    job = get_job(session, job_id, principal)
    if is_terminal(job.state):
        raise Conflict(f"job {job.id} already ended {job.state}", field="state")
    cancel_job(session, job, principal.name)
    return job_public(job)


@router.post(
    "/{job_id}/retry",
    status_code=201,
    response_model=JobPublic,
    summary="Run an ended job again",
    description="Creates a new job with the same algorithm, parameters and inputs "
    "(the ended job stays as it was). 409 while the job is still queued or running.",
)
def retry(
    job_id: str,
    session: SessionDep,
    principal: Submitter,
    dispatcher: DispatcherDep,
    settings: SettingsDep,
) -> JobPublic:
    old = get_job(session, job_id, principal)
    if not is_terminal(old.state):
        raise Conflict(f"job {old.id} is {old.state}; only an ended job can be retried")
    job = Job(
        id=new_id(),
        owner=principal.name if principal.role != "admin" else old.owner,
        algorithm=old.algorithm,
        version=old.version,
        step=old.step,
        parameters=old.parameters,
        inputs=old.inputs,
        priority=old.priority,
        time_limit=old.time_limit,
        queue=old.queue,
        gpu=old.gpu,
        image=old.image,
        command=old.command,
        entry_point=old.entry_point,
        state="queued",
        progress=0.0,
        results={},
        attempts=1,
        max_attempts=settings.job_max_attempts,
        depends_on=[],
        dispatched_at=time.time(),
    )
    session.add(job)
    session.commit()
    dispatcher.send([dispatch_of(job)])
    return job_public(job)
