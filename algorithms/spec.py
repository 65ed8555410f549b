"""The job spec: the one file an algorithm run receives (``--spec spec.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from algorithms.registry import Step

# Label masks hold class k as k (0..K-1). Unlabeled pixels are UNLABELED in memory and
# UNLABELED_STORED in uint8 files and Tiled arrays.
UNLABELED = -1
UNLABELED_STORED = 255


class JobInputs(BaseModel):
    """What a run reads. URIs are Tiled node URIs (http[s]://...) or folder/file paths."""

    model_config = ConfigDict(extra="forbid")

    data_uri: str | None = Field(None, description="Images or volume to read")
    labels_uri: str | None = Field(
        None, description="Segmentation label masks, same shape as the data, 255/-1 unlabeled"
    )
    labels: dict[str, Any] | None = Field(
        None,
        description='Item labels for classification: {"classes": [names], "items": {index: name}}',
    )
    model_uri: str | None = Field(None, description="Trained model (weights directory or file)")
    model_parameters: dict[str, Any] | None = Field(
        None, description="Parameters the model was trained with (checked against ours)"
    )
    extra: dict[str, Any] = Field(default_factory=dict, description="Algorithm-specific inputs")
    tiled_api_key: str | None = None


class JobOutputs(BaseModel):
    """Where a run writes: results under ``results_uri``/<job id>/, a model under ``model_dir``."""

    model_config = ConfigDict(extra="forbid")

    results_uri: str = Field(..., description="Tiled container URI or a folder path")
    model_dir: str | None = Field(None, description="Folder for trained weights (train step)")
    tiled_api_key: str | None = None


class JobSpec(BaseModel):
    """Everything one algorithm run needs."""

    model_config = ConfigDict(extra="forbid")

    job_id: str = "local"
    algorithm: str
    version: str | None = None
    step: Step
    parameters: dict[str, Any] = Field(default_factory=dict)
    inputs: JobInputs = Field(default_factory=JobInputs)
    outputs: JobOutputs
    work_dir: str | None = Field(None, description="Scratch folder (checkpoints, caches)")
    seed: int | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> JobSpec:
        """Read and validate a spec file."""
        return cls.model_validate(json.loads(Path(path).read_text()))
