"""Request and response models of MLExContent (no SQLAlchemy here: other packages import this)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, StringConstraints, model_validator

from services.common.page import Page

Application = Literal[
    "segmentation", "latent_space", "classification", "dimension_reduction", "clustering"
]
APPLICATIONS: tuple[str, ...] = Application.__args__  # type: ignore[attr-defined]
GpuNeed = Literal["required", "optional", "none"]
Step = Literal["train", "infer", "run"]

# Semantic Versioning 2.0.0 (build metadata is not allowed: it would not order versions).
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
NAME_PATTERN = r"^[a-z][a-z0-9_\-]{0,63}$"
# A container image pinned by digest, so that a published version cannot change underneath.
IMAGE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-/:]*@sha256:[0-9a-f]{64}$"
QUEUE_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"

AlgorithmName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Version = Annotated[str, StringConstraints(pattern=SEMVER_PATTERN, max_length=64)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Uri = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


def parse_version(version: str) -> tuple[int, int, int, str]:
    """Split a semantic version into (major, minor, patch, prerelease)."""
    match = re.match(SEMVER_PATTERN, version)
    if match is None:
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch, prerelease = match.groups()
    return int(major), int(minor), int(patch), prerelease or ""


class Resources(BaseModel):
    """What one run of the algorithm needs from a worker."""

    model_config = ConfigDict(extra="forbid")

    gpu: GpuNeed = Field("none", description="Whether a GPU is required, optional or unused")
    memory_gb: float = Field(2.0, gt=0, le=4096, description="Memory a run needs, in GiB")
    cpus: int = Field(1, ge=1, le=1024, description="CPU cores a run needs")


class AlgorithmBase(BaseModel):
    """The fields of an algorithm card."""

    name: AlgorithmName = Field(..., description="Lower-case identifier, e.g. `tunet`")
    version: Version = Field(..., description="Semantic version, e.g. `1.0.0`")
    application: Application
    description: str = Field("", max_length=10000)
    authors: list[ShortText] = Field(default_factory=list, max_length=100)
    reference: str = Field("", max_length=512, description="Paper or DOI")
    entry_point: str | None = Field(
        None,
        max_length=512,
        description="Command the subprocess runner calls, followed by `<step> --spec <file>`, "
        "e.g. `python -m algorithms run tunet`",
    )
    image: str | None = Field(
        None,
        pattern=IMAGE_PATTERN,
        max_length=512,
        description="Container image pinned by digest (`repo/name:tag@sha256:<64 hex>`)",
    )
    command: list[Annotated[str, StringConstraints(max_length=1024)]] | None = Field(
        None, max_length=100, description="Command run inside the image (default: its entry point)"
    )
    resources: Resources = Field(default_factory=Resources)
    steps: list[Step] = Field(["run"], min_length=1, description="Steps the algorithm supports")
    inputs: list[ShortText] = Field(default_factory=list, description="Inputs a job provides")
    outputs: list[ShortText] = Field(default_factory=list, description="Outputs a run writes")
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema of the parameters, with UI hints under `ui` per property",
    )
    framework: str = Field("none", max_length=64, description="e.g. pytorch, tensorflow, sklearn")
    tags: list[ShortText] = Field(default_factory=list, max_length=100)


class AlgorithmCreate(AlgorithmBase):
    """A new algorithm version to publish."""

    model_config = ConfigDict(extra="forbid")

    queue: str | None = Field(
        None,
        pattern=QUEUE_PATTERN,
        description="Celery queue (default: `gpu` when a GPU is required, else `cpu`)",
    )

    @model_validator(mode="after")
    def _runnable(self) -> AlgorithmCreate:
        if not self.entry_point and not self.image:
            raise ValueError("a card needs an entry_point or a container image")
        if self.command and not self.image:
            raise ValueError("command is only used with a container image")
        return self

    def resolved_queue(self) -> str:
        return self.queue or ("gpu" if self.resources.gpu == "required" else "cpu")


class AlgorithmPublic(AlgorithmBase):
    """A published algorithm card."""

    queue: str
    builtin: bool = Field(description="Registered from the `algorithms` package at start-up")
    deprecated: bool
    deprecation_message: str | None = None
    created_by: str
    created_at: datetime


class AlgorithmUpdate(BaseModel):
    """The only change a published version accepts: its deprecation."""

    model_config = ConfigDict(extra="forbid")

    deprecated: bool
    deprecation_message: str | None = Field(None, max_length=2000)


class ValidationRequest(BaseModel):
    """A parameter set to check against a card (and, optionally, a trained model)."""

    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] = Field(default_factory=dict)
    model_id: str | None = Field(
        None,
        description="A trained model the parameters will run with: its architecture "
        "parameters fill the missing ones and must not be changed",
    )


class ParameterCheck(BaseModel):
    """A parameter set to check against a trained model."""

    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] = Field(default_factory=dict)


class ValidationResult(BaseModel):
    """Parameters accepted by a card, normalised: defaults filled, types as the schema says."""

    algorithm: str
    version: str
    parameters: dict[str, Any]
    deprecated: bool
    model_id: str | None = None


class ModelMetrics(BaseModel):
    """Final metrics and the history per epoch (each entry may carry an `epoch` number)."""

    model_config = ConfigDict(extra="forbid")

    final: dict[str, FiniteFloat] = Field(default_factory=dict)
    epochs: list[dict[str, FiniteFloat]] = Field(default_factory=list, max_length=100000)


class ModelLineage(BaseModel):
    """Where a model came from. Ids may be sent as numbers (Splash ML's event ids are)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    job_id: str | None = Field(None, max_length=128, description="Training job in MLExCompute")
    dataset_uris: list[Uri] = Field(default_factory=list, max_length=1000)
    tagging_event_ids: list[ShortText] = Field(default_factory=list, max_length=1000)
    parent_model_id: str | None = Field(None, description="Model this one was fine-tuned from")


class ModelBase(BaseModel):
    name: ShortText
    description: str = Field("", max_length=10000)
    algorithm: AlgorithmName = Field(..., description="Algorithm name")
    algorithm_version: Version
    weights_uri: Uri = Field(..., description="Where the weights are in the model store")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Parameters used")
    metrics: ModelMetrics = Field(default_factory=ModelMetrics)
    lineage: ModelLineage = Field(default_factory=ModelLineage)
    tags: list[ShortText] = Field(default_factory=list, max_length=100)


class ModelCreate(ModelBase):
    """A trained model to register."""

    model_config = ConfigDict(extra="forbid")

    framework: str | None = Field(
        None, max_length=64, description="Default: the algorithm card's framework"
    )


class ModelPublic(ModelBase):
    """A registered model; `deleted_at` is set once it is deleted (its lineage stays)."""

    id: str
    framework: str
    created_by: str
    created_at: datetime
    deleted_at: datetime | None = None


AlgorithmPage = Page[AlgorithmPublic]
ModelPage = Page[ModelPublic]
