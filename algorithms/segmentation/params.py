"""Tiling, inference and uncertainty options of the network segmentation cards (torch-free)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from algorithms.ui import ui


class TilingOptions(BaseModel):
    """How images are cut into windows for training and stitched back at inference (qlty)."""

    model_config = ConfigDict(extra="forbid")

    dimensions: Literal[2, 3] = Field(
        2,
        json_schema_extra=ui(
            "radio",
            group="data",
            help="2: a 2D network segments each image (slice) on its own; "
            "3: a 3D network segments the stack as one volume",
        ),
    )
    window: int = Field(
        64,
        ge=8,
        le=1024,
        json_schema_extra=ui(
            "number", group="data", help="Side of the square (cubic) windows the network sees"
        ),
    )
    step: int = Field(
        32,
        ge=1,
        le=1024,
        json_schema_extra=ui("number", group="data", help="Distance between window origins"),
    )
    border: int = Field(
        8,
        ge=0,
        le=256,
        json_schema_extra=ui(
            "number",
            group="inference",
            help="Pixels at each window edge down-weighted when stitching (< window / 2)",
        ),
    )
    border_weight: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        json_schema_extra=ui(
            "slider", group="inference", step=0.05, help="Weight of border pixels when stitching"
        ),
    )
    inference_batch_size: int = Field(
        8,
        ge=1,
        le=1024,
        json_schema_extra=ui("number", group="inference", help="Windows per inference batch"),
    )
    output_probabilities: bool = Field(
        True,
        json_schema_extra=ui(
            "checkbox", group="output", help="Also store class probabilities (float16)"
        ),
    )
    output_uncertainty: bool = Field(
        True,
        json_schema_extra=ui(
            "checkbox",
            group="output",
            help="Ensembles: store the members' standard deviation of the class probabilities",
        ),
    )
    conformal_coverage: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        json_schema_extra=ui(
            "slider",
            group="output",
            step=0.01,
            help="Calibrate conformal prediction sets at this coverage on the validation pixels "
            "and store them at inference (0: off)",
        ),
    )
