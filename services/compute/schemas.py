"""MLExCompute request and response models (no SQLAlchemy here: other packages import this)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobState = Literal["queued", "running", "completed", "failed", "canceled"]
JobStep = Literal["train", "infer", "run"]
EventType = Literal["progress", "metric", "log", "artifact", "result", "error"]


class JobInputs(BaseModel):
    """What a job reads: data, labels (from a folder/Tiled or Splash ML) and a trained model."""

    model_config = ConfigDict(extra="forbid")

    data_uri: str | None = Field(None, description="Images or volume: Tiled URI or folder path")
    labels_uri: str | None = Field(None, description="Segmentation label masks (Tiled or folder)")
    tagging_event_id: str | None = Field(
        None, description="A Splash ML tagging event whose tags are the classification labels"
    )
    dataset_id: str | None = Field(None, description="The Splash ML data set of those tags")
    model_id: str | None = Field(None, description="A trained model registered in MLExContent")
    model_uri: str | None = Field(None, description="Trained weights (folder or file)")
    extra: dict[str, Any] = Field(default_factory=dict, description="Algorithm-specific inputs")


class JobBase(BaseModel):
    algorithm: str = Field(..., min_length=1, max_length=128, description="Algorithm name")
    version: str = Field(
        "latest", min_length=1, max_length=64, description="Algorithm version (or `latest`)"
    )
    step: JobStep = Field("run", description="train, infer or run")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Algorithm parameters")
    inputs: JobInputs = Field(default_factory=JobInputs)
    priority: int = Field(5, ge=0, le=9, description="0 lowest .. 9 highest")
    time_limit: float | None = Field(
        None, gt=0, description="Wall-clock limit in seconds (default: the service's)"
    )


class JobCreate(JobBase):
    """A job to run: validated by MLExContent before anything is queued."""

    model_config = ConfigDict(extra="forbid")


class JobPublic(JobBase):
    """A job as users see it."""

    id: str
    owner: str
    queue: str
    state: JobState
    progress: float
    message: str | None = None
    error: str | None = None
    results: dict[str, Any] = Field(default_factory=dict)
    model_id: str | None = None
    worker: str | None = None
    worker_host: str | None = None
    attempts: int
    max_attempts: int
    workflow_id: str | None = None
    step_name: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    image: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime


class MetricPublic(BaseModel):
    """One metrics record (usually one epoch)."""

    seq: int
    epoch: int
    step: str | None = None
    values: dict[str, float | None]
    time: float


class LogLine(BaseModel):
    seq: int
    time: float
    level: str
    message: str


class JobLogs(BaseModel):
    """The kept tail of a job's log (oldest lines are dropped past the service's limit)."""

    job_id: str
    lines: list[LogLine]
    dropped: int = Field(0, description="Lines written before the first one kept")


class JobMetrics(BaseModel):
    job_id: str
    items: list[MetricPublic]


# --- workflows ---------------------------------------------------------------


class WorkflowStep(JobBase):
    """One job of a workflow; parameters and inputs may hold ``${step.path}`` references."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$", max_length=100)
    depends_on: list[str] = Field(
        default_factory=list, description="Steps to wait for besides those referenced"
    )


class WorkflowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=200)
    steps: list[WorkflowStep] = Field(..., min_length=1, max_length=50)


class WorkflowPublic(BaseModel):
    id: str
    name: str
    owner: str
    state: JobState = Field(..., description="failed/canceled if any step is, else the least done")
    created_at: datetime
    jobs: list[JobPublic]


# --- workers -----------------------------------------------------------------


class WorkerHeartbeat(BaseModel):
    """What a worker process reports about itself every few seconds."""

    name: str = Field(..., min_length=1, max_length=200)
    host: str = ""
    queues: list[str] = Field(default_factory=list)
    gpus: list[str] = Field(default_factory=list)
    concurrency: int = 1
    pid: int | None = None


class WorkerPublic(WorkerHeartbeat):
    started_at: float
    last_seen: float
    jobs: list[str] = Field(default_factory=list, description="Jobs it runs now")


class ClaimRequest(BaseModel):
    worker: str = Field(..., min_length=1, max_length=200)
    host: str = ""
    attempt: int = Field(..., ge=1)


class ClaimResponse(BaseModel):
    """``run`` false: skip the message (job canceled, finished, or claimed by another)."""

    run: bool
    reason: str | None = None
    job: JobPublic | None = None
    time_limit: float | None = None
    gpu: str = Field("none", description="The card's GPU need (container runner flags)")
    command: list[str] | None = Field(None, description="Command inside the card's image")
    entry_point: str | None = Field(None, description="The card's subprocess entry point")


class WorkerEvent(BaseModel):
    """One JSON-lines event of a run (see ``algorithms.events``)."""

    model_config = ConfigDict(extra="allow")

    type: EventType
    time: float | None = None


class EventBatch(BaseModel):
    worker: str
    events: list[WorkerEvent] = Field(default_factory=list, max_length=5000)


class JobControl(BaseModel):
    """The answer to a worker's report: keep going, or stop because the job was canceled."""

    state: JobState
    cancel: bool


class JobFinish(BaseModel):
    worker: str
    state: Literal["completed", "failed", "canceled"]
    error: str | None = None
    results: dict[str, Any] = Field(default_factory=dict)
    model_id: str | None = None
