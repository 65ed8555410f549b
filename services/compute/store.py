"""Queries on jobs, workflows and workers (no HTTP here)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.common.auth.store import Principal
from services.common.errors import Conflict, NotFound
from services.compute.models import (
    TERMINAL_STATES,
    Job,
    JobLog,
    JobMetric,
    WorkerRecord,
    Workflow,
    as_utc,
    utcnow,
)
from services.compute.schemas import (
    JobPublic,
    LogLine,
    MetricPublic,
    WorkerHeartbeat,
    WorkerPublic,
    WorkflowPublic,
)

# Legal state changes; running -> queued only when a lost worker's job is retried.
TRANSITIONS: dict[str, set[str]] = {
    "queued": {"running", "canceled"},
    "running": {"completed", "failed", "canceled", "queued"},
}


def new_id() -> str:
    return uuid.uuid4().hex


def can_see_all(principal: Principal) -> bool:
    return principal.role in ("admin", "worker")


def set_state(job: Job, state: str) -> None:
    """Move a job to a new state, refusing transitions the state machine does not allow."""
    if state not in TRANSITIONS.get(job.state, set()):
        raise Conflict(f"job {job.id} is {job.state}; it cannot become {state}", field="state")
    job.state = state
    now = utcnow()
    job.updated_at = now
    if state == "running":
        job.started_at = now
    elif state in TERMINAL_STATES:
        job.finished_at = now
        job.cancel_requested = state == "canceled"


def job_public(job: Job) -> JobPublic:
    """The public view of a job (no internal bookkeeping)."""
    return JobPublic(
        id=job.id,
        owner=job.owner,
        algorithm=job.algorithm,
        version=job.version,
        step=job.step,  # type: ignore[arg-type]
        parameters=job.parameters or {},
        inputs=job.inputs or {},
        priority=job.priority,
        time_limit=job.time_limit,
        queue=job.queue,
        state=job.state,  # type: ignore[arg-type]
        progress=job.progress,
        message=job.message,
        error=job.error,
        results=job.results or {},
        model_id=job.model_id,
        worker=job.worker,
        worker_host=job.worker_host,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        workflow_id=job.workflow_id,
        step_name=job.step_name,
        depends_on=list(job.depends_on or []),
        image=job.image,
        created_at=as_utc(job.created_at),  # type: ignore[arg-type]
        started_at=as_utc(job.started_at),
        finished_at=as_utc(job.finished_at),
        updated_at=as_utc(job.updated_at),  # type: ignore[arg-type]
    )


def get_job(session: Session, job_id: str, principal: Principal | None = None) -> Job:
    """A job the caller may see; 404 for others' jobs as for missing ones."""
    job = session.get(Job, job_id)
    if job is None or (
        principal is not None and not can_see_all(principal) and job.owner != principal.name
    ):
        raise NotFound(f"no job {job_id}")
    return job


def lock_job(session: Session, job_id: str) -> Job | None:
    """Load a job for update (row lock on PostgreSQL; SQLite already holds the write lock)."""
    return session.scalar(select(Job).where(Job.id == job_id).with_for_update())


def list_jobs(
    principal: Principal,
    state: str | None = None,
    owner: str | None = None,
    algorithm: str | None = None,
    workflow: str | None = None,
) -> Select[Any]:
    """The jobs a caller may list, newest first, with optional filters."""
    statement = select(Job)
    if not can_see_all(principal):
        statement = statement.where(Job.owner == principal.name)
    if owner:
        statement = statement.where(Job.owner == owner)
    if state:
        statement = statement.where(Job.state == state)
    if algorithm:
        statement = statement.where(Job.algorithm == algorithm)
    if workflow:
        statement = statement.where(Job.workflow_id == workflow)
    return statement.order_by(Job.created_at.desc(), Job.id)


def job_logs(session: Session, job: Job, tail: int | None) -> tuple[list[LogLine], int]:
    """The kept log lines (the last ``tail`` of them) and how many were dropped before."""
    statement = select(JobLog).where(JobLog.job_id == job.id).order_by(JobLog.seq.desc())
    if tail:
        statement = statement.limit(tail)
    rows = list(reversed(session.scalars(statement).all()))
    first = rows[0].seq if rows else job.log_seq + 1
    lines = [LogLine(seq=r.seq, time=r.time, level=r.level, message=r.message) for r in rows]
    return lines, max(0, first - 1)


def job_metrics(session: Session, job: Job, after: int = 0) -> list[MetricPublic]:
    """The metrics history of a job in the order it was reported."""
    rows = session.scalars(
        select(JobMetric)
        .where(JobMetric.job_id == job.id, JobMetric.seq > after)
        .order_by(JobMetric.seq)
    ).all()
    return [
        MetricPublic(seq=r.seq, epoch=r.epoch, step=r.step, values=r.values, time=r.time)
        for r in rows
    ]


def workflow_state(jobs: list[Job]) -> str:
    """failed/canceled when a step is, running when one runs, completed when all are."""
    states = {job.state for job in jobs}
    for state in ("failed", "canceled", "running", "queued"):
        if state in states:
            return state
    return "completed"


def get_workflow(session: Session, workflow_id: str, principal: Principal) -> WorkflowPublic:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None or (not can_see_all(principal) and workflow.owner != principal.name):
        raise NotFound(f"no workflow {workflow_id}")
    jobs = list(
        session.scalars(
            select(Job).where(Job.workflow_id == workflow.id).order_by(Job.created_at, Job.id)
        )
    )
    return WorkflowPublic(
        id=workflow.id,
        name=workflow.name,
        owner=workflow.owner,
        state=workflow_state(jobs),  # type: ignore[arg-type]
        created_at=as_utc(workflow.created_at),  # type: ignore[arg-type]
        jobs=[job_public(job) for job in jobs],
    )


def record_worker(session: Session, beat: WorkerHeartbeat) -> None:
    """Insert or refresh a worker's record."""
    now = time.time()
    record = session.get(WorkerRecord, beat.name)
    if record is None or record.pid != beat.pid:
        if record is not None:
            session.delete(record)
            session.flush()
        record = WorkerRecord(name=beat.name, started_at=now)
        session.add(record)
    record.host = beat.host
    record.queues = beat.queues
    record.gpus = beat.gpus
    record.concurrency = beat.concurrency
    record.pid = beat.pid
    record.last_seen = now
    session.commit()


def live_workers(session: Session, stale_after: float) -> list[WorkerPublic]:
    """Workers heard from recently, each with the jobs it runs."""
    since = time.time() - stale_after
    records = session.scalars(
        select(WorkerRecord).where(WorkerRecord.last_seen >= since).order_by(WorkerRecord.name)
    ).all()
    running: dict[str, list[str]] = {}
    for job_id, worker in session.execute(select(Job.id, Job.worker).where(Job.state == "running")):
        running.setdefault(worker or "", []).append(job_id)
    return [
        WorkerPublic(
            name=r.name,
            host=r.host,
            queues=r.queues,
            gpus=r.gpus,
            concurrency=r.concurrency,
            pid=r.pid,
            started_at=r.started_at,
            last_seen=r.last_seen,
            jobs=running.get(r.name, []),
        )
        for r in records
    ]
