"""Workers: the public list, and the endpoints only workers call (claim, report, finish)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.common.db import read_only
from services.common.deps import CurrentUser, SessionDep
from services.common.pagination import Page, PageDep
from services.compute.deps import (
    CardsDep,
    DispatcherDep,
    SessionsDep,
    SettingsDep,
    WorkerCaller,
)
from services.compute.lifecycle import claim_job, finish_job, report_events, validate_step
from services.compute.schemas import (
    ClaimRequest,
    ClaimResponse,
    EventBatch,
    JobControl,
    JobFinish,
    WorkerHeartbeat,
    WorkerPublic,
)
from services.compute.store import live_workers, record_worker

router = APIRouter(tags=["workers"])


@router.get(
    "/workers",
    response_model=Page[WorkerPublic],
    summary="Live workers",
    description="Workers heard from within MLEX_WORKER_STALE_AFTER seconds: their queues, "
    "GPUs, concurrency and the jobs they run now.",
)
def list_workers(
    session: SessionDep, _: CurrentUser, page: PageDep, settings: SettingsDep
) -> Page[WorkerPublic]:
    workers = live_workers(read_only(session), settings.worker_stale_after)
    items = workers[page.offset : page.offset + page.limit]
    return Page[WorkerPublic](items=items, total=len(workers), offset=page.offset, limit=page.limit)


@router.post(
    "/worker/heartbeat",
    status_code=204,
    summary="Worker heartbeat (workers only)",
    description="A worker process reports its name, host, queues and GPUs every few seconds.",
)
def heartbeat(beat: WorkerHeartbeat, session: SessionDep, _: WorkerCaller) -> Response:
    record_worker(session, beat)
    return Response(status_code=204)


@router.post(
    "/worker/jobs/{job_id}/claim",
    response_model=ClaimResponse,
    summary="Claim a job (workers only)",
    description="Moves a queued job to `running` for this worker. `run: false` means skip "
    "the message: the job was canceled or ended, the message is of an older attempt, or "
    "another worker has it. Safe to call again for a redelivered message.",
)
def claim(
    job_id: str, request: ClaimRequest, session: SessionDep, _: WorkerCaller
) -> ClaimResponse:
    return claim_job(session, job_id, request)


@router.post(
    "/worker/jobs/{job_id}/events",
    response_model=JobControl,
    summary="Report run events (workers only)",
    description="A batch of JSON-lines events from the run (progress, metric, log, artifact, "
    "result, error); also the job's heartbeat. `cancel: true` tells the worker to kill the run.",
)
def events(
    job_id: str,
    batch: EventBatch,
    session: SessionDep,
    _: WorkerCaller,
    settings: SettingsDep,
) -> JobControl:
    return report_events(session, job_id, batch, settings.job_log_lines)


@router.post(
    "/worker/jobs/{job_id}/finish",
    response_model=JobControl,
    summary="End a run (workers only)",
    description="Sets the final state with results, model id or error; workflow steps that "
    "waited for this job are queued (or canceled when it failed).",
)
def finish(
    job_id: str,
    body: JobFinish,
    session: SessionDep,
    _: WorkerCaller,
    dispatcher: DispatcherDep,
    cards: CardsDep,
    sessions: SessionsDep,
) -> JobControl:
    control, released = finish_job(session, job_id, body)
    session.close()
    dispatcher.send(released.dispatches)
    for step_id in released.to_validate:
        dispatcher.send(validate_step(sessions, step_id, cards.check))
    return control
