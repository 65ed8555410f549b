"""MLExCompute tables: workflows, jobs, their metrics and logs, and live workers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JOB_STATES = ("queued", "running", "completed", "failed", "canceled")
TERMINAL_STATES = ("completed", "failed", "canceled")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class ComputeBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Workflow(ComputeBase):
    __tablename__ = "compute_workflows"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    owner: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Job(ComputeBase):
    __tablename__ = "compute_jobs"
    __table_args__ = (
        Index("ix_compute_jobs_state_heartbeat", "state", "heartbeat_at"),
        Index("ix_compute_jobs_owner_created", "owner", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    algorithm: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Parameters/inputs as submitted, with ${step.path} references still unresolved.
    template: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    image: Mapped[str | None] = mapped_column(String(512), nullable=True)
    command: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    entry_point: Mapped[str | None] = mapped_column(String(512), nullable=True)
    gpu: Mapped[str] = mapped_column(String(16), default="none")
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    priority: Mapped[int] = mapped_column(Integer, default=5)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    worker_host: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    time_limit: Mapped[float | None] = mapped_column(Float, nullable=True)
    workflow_id: Mapped[str | None] = mapped_column(
        ForeignKey("compute_workflows.id", ondelete="CASCADE"), nullable=True, index=True
    )
    step_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    depends_on: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    # Epoch seconds: compared often by the reaper, so kept zone-free.
    dispatched_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    heartbeat_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    log_seq: Mapped[int] = mapped_column(Integer, default=0)
    metric_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobMetric(ComputeBase):
    __tablename__ = "compute_job_metrics"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("compute_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[int] = mapped_column(Integer)
    step: Mapped[str | None] = mapped_column(String(32), nullable=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    time: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_compute_job_metrics_job_seq", "job_id", "seq"),)


class JobLog(ComputeBase):
    __tablename__ = "compute_job_logs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("compute_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    time: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(16), default="info")
    message: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_compute_job_logs_job_seq", "job_id", "seq"),)


class WorkerRecord(ComputeBase):
    __tablename__ = "compute_workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200), default="")
    queues: Mapped[list[Any]] = mapped_column(JSON, default=list)
    gpus: Mapped[list[Any]] = mapped_column(JSON, default=list)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float, index=True)
