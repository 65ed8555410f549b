"""How jobs move: submit, claim, report, finish, cancel, retry, and the lost-worker sweep.

Functions change rows and return the Celery messages to send (``Dispatch``); callers commit
first and send afterwards, so a message never names a job that is not stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from services.common.errors import ApiError
from services.compute.cards import CheckedJob
from services.compute.models import TERMINAL_STATES, Job, JobLog, JobMetric, utcnow
from services.compute.references import UnresolvedReference, resolve, step_outputs
from services.compute.schemas import (
    ClaimRequest,
    ClaimResponse,
    EventBatch,
    JobControl,
    JobCreate,
    JobFinish,
)
from services.compute.settings import ComputeSettings
from services.compute.store import job_public, lock_job, new_id, set_state


@dataclass(frozen=True)
class Dispatch:
    """One Celery message to send for a job attempt."""

    job_id: str
    attempt: int
    queue: str
    priority: int


def dispatch_of(job: Job) -> Dispatch:
    return Dispatch(job.id, job.attempts, job.queue, job.priority)


def new_job(
    owner: str,
    data: JobCreate,
    checked: CheckedJob,
    settings: ComputeSettings,
    **fields: Any,
) -> Job:
    """A queued job row from a request and what its card says."""
    return Job(
        id=new_id(),
        owner=owner,
        algorithm=checked.name,
        version=checked.version,
        step=data.step,
        parameters=checked.parameters,
        inputs=data.inputs.model_dump(exclude_none=True, exclude_defaults=True),
        priority=data.priority,
        time_limit=data.time_limit or settings.job_time_limit,
        queue=checked.queue,
        gpu=checked.gpu,
        image=checked.image,
        command=checked.command,
        entry_point=checked.entry_point,
        state="queued",
        progress=0.0,
        results={},
        attempts=1,
        max_attempts=settings.job_max_attempts,
        depends_on=[],
        created_at=utcnow(),
        updated_at=utcnow(),
        **fields,
    )


def append_log(session: Session, job: Job, message: str, level: str = "info") -> None:
    job.log_seq += 1
    session.add(
        JobLog(job_id=job.id, seq=job.log_seq, time=time.time(), level=level, message=message)
    )


def claim_job(session: Session, job_id: str, request: ClaimRequest) -> ClaimResponse:
    """Give a queued job to a worker; refuse stale, duplicate or canceled messages."""
    job = lock_job(session, job_id)
    if job is None:
        return ClaimResponse(run=False, reason="no such job")
    if job.state != "queued":
        return ClaimResponse(run=False, reason=f"job is {job.state}")
    if job.attempts != request.attempt:
        return ClaimResponse(run=False, reason=f"message of attempt {request.attempt} is stale")
    if job.dispatched_at is None:
        return ClaimResponse(run=False, reason="job waits for its upstream steps")
    set_state(job, "running")
    job.worker = request.worker
    job.worker_host = request.host
    job.heartbeat_at = time.time()
    job.progress = 0.0
    job.error = None
    append_log(session, job, f"attempt {job.attempts} started on {request.worker}")
    session.commit()
    return ClaimResponse(
        run=True,
        job=job_public(job),
        time_limit=job.time_limit,
        gpu=job.gpu,
        command=job.command,
        entry_point=job.entry_point,
    )


def _control(job: Job, worker: str) -> JobControl:
    stop = job.state != "running" or job.worker != worker
    return JobControl(state=job.state, cancel=stop)  # type: ignore[arg-type]


def report_events(session: Session, job_id: str, batch: EventBatch, log_limit: int) -> JobControl:
    """Apply a worker's batch of run events (it doubles as the job's heartbeat)."""
    job = lock_job(session, job_id)
    if job is None:
        return JobControl(state="canceled", cancel=True)
    control = _control(job, batch.worker)
    if control.cancel:
        session.rollback()
        return control
    job.heartbeat_at = time.time()
    results = dict(job.results or {})
    for event in batch.events:
        payload: dict[str, Any] = event.model_dump(exclude={"type", "time"})
        when = event.time or time.time()
        if event.type == "progress":
            job.progress = max(0.0, min(1.0, float(payload.get("value") or 0.0)))
            if payload.get("message"):
                job.message = str(payload["message"])[:2000]
        elif event.type == "metric":
            job.metric_seq += 1
            values = payload.get("values") or {}
            session.add(
                JobMetric(
                    job_id=job.id,
                    seq=job.metric_seq,
                    epoch=int(payload.get("epoch") or 0),
                    step=payload.get("step"),
                    values=values,
                    time=when,
                )
            )
        elif event.type == "log":
            level = str(payload.get("level") or "info")
            append_log(session, job, str(payload.get("message", "")), level)
        elif event.type == "artifact":
            artifacts = dict(results.get("artifacts") or {})
            artifacts[str(payload.get("name"))] = payload.get("uri")
            results["artifacts"] = artifacts
        elif event.type == "result":
            results["summary"] = payload
        elif event.type == "error":
            field = payload.get("field")
            message = str(payload.get("message") or "error")
            job.error = f"{message} (field {field})" if field else message
    job.results = results
    job.updated_at = utcnow()
    if job.log_seq > log_limit:
        session.execute(
            delete(JobLog).where(JobLog.job_id == job.id, JobLog.seq <= job.log_seq - log_limit)
        )
    session.commit()
    return control


def finish_job(session: Session, job_id: str, finish: JobFinish) -> tuple[JobControl, Released]:
    """End a run as the worker saw it; start or cancel the workflow steps that follow."""
    job = lock_job(session, job_id)
    if job is None:
        return JobControl(state="canceled", cancel=True), Released()
    control = _control(job, finish.worker)
    if control.cancel:
        session.rollback()
        return control, Released()
    set_state(job, finish.state)
    job.results = {**(job.results or {}), **finish.results}
    if finish.model_id:
        job.model_id = finish.model_id
    if finish.state == "completed":
        job.progress = 1.0
        job.error = None
    elif finish.error:
        job.error = finish.error[:10000]
    append_log(session, job, f"attempt {job.attempts} ended {finish.state}")
    released = after_end(session, job)
    session.commit()
    return JobControl(state=job.state, cancel=False), released  # type: ignore[arg-type]


def cancel_job(session: Session, job: Job, by: str) -> None:
    """Cancel a queued or running job (its worker stops the run) and its dependants."""
    set_state(job, "canceled")
    job.error = job.error or f"canceled by {by}"
    append_log(session, job, f"canceled by {by}")
    after_end(session, job)
    session.commit()


@dataclass
class Released:
    """Workflow steps freed by an upstream's end: to send now, or to validate first."""

    dispatches: list[Dispatch] = field(default_factory=list)
    to_validate: list[str] = field(default_factory=list)


def after_end(session: Session, job: Job) -> Released:
    """Release dependants whose upstreams all completed; cancel those of a failed step.

    References are resolved here (no I/O); steps whose parameters held references are left
    for :func:`validate_step`, which asks MLExContent outside this transaction.
    """
    released = Released()
    if job.workflow_id is None:
        return released
    steps = list(session.scalars(select(Job).where(Job.workflow_id == job.workflow_id)))
    by_id = {step.id: step for step in steps}
    if job.state != "completed":
        _cancel_dependants(session, job, steps)
        return released
    for step in steps:
        if (
            step.state != "queued"
            or step.dispatched_at is not None
            or job.id not in step.depends_on
        ):
            continue
        upstream = [by_id[i] for i in step.depends_on if i in by_id]
        if any(u.state != "completed" for u in upstream):
            continue
        namespace = {
            u.step_name or u.id: step_outputs(u.id, u.results or {}, u.model_id) for u in upstream
        }
        template = step.template or {}
        try:
            step.parameters = resolve(template.get("parameters", step.parameters), namespace)
            step.inputs = resolve(template.get("inputs", step.inputs), namespace)
        except UnresolvedReference as error:
            _cancel_step(session, step, steps, f"could not prepare step {step.step_name}: {error}")
            continue
        if template.get("validate_later"):
            released.to_validate.append(step.id)
            continue
        step.dispatched_at = time.time()
        append_log(session, step, "upstream steps completed; queued")
        released.dispatches.append(dispatch_of(step))
    return released


def _cancel_step(session: Session, step: Job, steps: list[Job], reason: str) -> None:
    set_state(step, "canceled")
    step.error = reason
    append_log(session, step, reason, "error")
    _cancel_dependants(session, step, steps)


def validate_step(
    sessions: sessionmaker[Session], step_id: str, check: Callable[..., CheckedJob]
) -> list[Dispatch]:
    """Validate a released step's resolved parameters, then queue it (or cancel it)."""
    with sessions() as session:
        step = session.get(Job, step_id)
        if step is None:
            return []
        request = (step.algorithm, step.version, step.step, step.parameters, step.inputs)
    algorithm, version, step_kind, parameters, inputs = request
    reason = None
    try:
        checked = check(algorithm, version, step_kind, parameters, inputs.get("model_id"))
    except ApiError as error:
        reason = f"invalid parameters after resolving references: {error.message}"
    with sessions() as session:
        step = lock_job(session, step_id)
        if step is None or step.state != "queued" or step.dispatched_at is not None:
            return []
        if reason is not None:
            steps = list(session.scalars(select(Job).where(Job.workflow_id == step.workflow_id)))
            _cancel_step(session, step, steps, reason)
            session.commit()
            return []
        step.parameters = checked.parameters
        step.dispatched_at = time.time()
        append_log(session, step, "upstream steps completed; parameters valid; queued")
        session.commit()
        return [dispatch_of(step)]


def _cancel_dependants(session: Session, job: Job, steps: list[Job]) -> None:
    pending = [job.id]
    while pending:
        current = pending.pop()
        for step in steps:
            if current in (step.depends_on or []) and step.state == "queued":
                set_state(step, "canceled")
                step.error = f"upstream step {job.step_name or job.id} ended {job.state}"
                append_log(session, step, step.error, "error")
                pending.append(step.id)


def sweep(
    session: Session,
    settings: ComputeSettings,
    now: float | None = None,
    waiting: Callable[[str], int | None] | None = None,
) -> list[Dispatch]:
    """Re-queue jobs whose worker went silent (or fail them), and re-send lost messages.

    A queued job nobody claimed within ``job_resend_after`` is sent again only when
    ``waiting(queue)`` says its broker queue is empty (its message is then surely lost, e.g. a
    broker restarted without persistence); a backlog is left alone. Without ``waiting`` (or
    when the broker cannot say) every such job is re-sent: duplicates are skipped at claim.
    """
    now = now or time.time()
    dispatches: list[Dispatch] = []
    lost = session.scalars(
        select(Job)
        .where(Job.state == "running", Job.heartbeat_at < now - settings.job_heartbeat_timeout)
        .with_for_update()
    ).all()
    for job in lost:
        silent = now - (job.heartbeat_at or now)
        reason = f"worker {job.worker} lost (no heartbeat for {silent:.0f} s)"
        if job.attempts < job.max_attempts:
            set_state(job, "queued")
            job.attempts += 1
            job.worker = None
            job.worker_host = None
            job.dispatched_at = now
            append_log(session, job, f"{reason}; retrying, attempt {job.attempts}", "warning")
            dispatches.append(dispatch_of(job))
        else:
            set_state(job, "failed")
            job.error = f"{reason} after {job.attempts} attempts"
            append_log(session, job, job.error, "error")
            after_end(session, job)
    unclaimed = session.scalars(
        select(Job)
        .where(
            Job.state == "queued",
            Job.dispatched_at.is_not(None),
            Job.dispatched_at < now - settings.job_resend_after,
        )
        .with_for_update()
    ).all()
    sizes: dict[str, int | None] = {}
    for job in unclaimed:
        if waiting is not None:
            if job.queue not in sizes:
                sizes[job.queue] = waiting(job.queue)
            if sizes[job.queue]:
                continue
        job.dispatched_at = now
        dispatches.append(dispatch_of(job))
    session.commit()
    return dispatches


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES
