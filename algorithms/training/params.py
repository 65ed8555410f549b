"""Training parameters shared by the network cards (torch-free: the API servers import this)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from algorithms.ui import ui

Optimizer = Literal["adam", "adamw", "sgd", "rmsprop"]
Scheduler = Literal["none", "step", "cosine", "plateau"]
LossName = Literal["cross_entropy", "dice", "focal", "tversky", "cross_entropy_dice"]
Device = Literal["auto", "cpu", "cuda"]


class TrainingParameters(BaseModel):
    """How a network is trained: optimizer, schedule, loss, validation split, device."""

    model_config = ConfigDict(extra="forbid")

    optimizer: Optimizer = Field(
        "adam", json_schema_extra=ui("dropdown", group="training", help="Gradient optimizer")
    )
    learning_rate: float = Field(
        1e-2,
        gt=0,
        le=1.0,
        json_schema_extra=ui("number", group="training", step=1e-4, help="Initial learning rate"),
    )
    weight_decay: float = Field(
        0.0,
        ge=0,
        le=1.0,
        json_schema_extra=ui("number", group="training", advanced=True, help="L2 penalty"),
    )
    epochs: int = Field(
        50,
        ge=1,
        le=10000,
        json_schema_extra=ui("number", group="training", help="Passes over data"),
    )
    batch_size: int = Field(
        16,
        ge=1,
        le=1024,
        json_schema_extra=ui("number", group="training", help="Windows per training step"),
    )
    scheduler: Scheduler = Field(
        "none",
        json_schema_extra=ui(
            "dropdown",
            group="training",
            help="Learning-rate schedule: step (x0.1 every third of the epochs), cosine, "
            "or plateau (halve when the validation loss stalls)",
        ),
    )
    grad_clip: float = Field(
        0.0,
        ge=0,
        le=1000.0,
        json_schema_extra=ui(
            "number", group="training", advanced=True, help="Max gradient norm (0: no clipping)"
        ),
    )
    early_stopping_patience: int = Field(
        0,
        ge=0,
        le=1000,
        json_schema_extra=ui(
            "number",
            group="training",
            help="Stop after this many epochs without a better validation loss (0: never)",
        ),
    )
    loss: LossName = Field(
        "cross_entropy",
        json_schema_extra=ui(
            "dropdown", group="training", help="Loss on labeled pixels (unlabeled are ignored)"
        ),
    )
    class_weighting: Literal["none", "balanced"] = Field(
        "balanced",
        json_schema_extra=ui(
            "radio",
            group="training",
            help="Weigh classes by inverse labeled-pixel frequency (for imbalanced scribbles)",
        ),
    )
    val_fraction: float = Field(
        0.2,
        ge=0.0,
        lt=1.0,
        json_schema_extra=ui(
            "slider",
            group="training",
            step=0.05,
            help="Fraction of labeled pixels held out for validation",
        ),
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1, json_schema_extra=ui("number", group="training", advanced=True)
    )
    device: Device = Field(
        "auto",
        json_schema_extra=ui("radio", group="training", help="auto: GPU when there is one"),
    )
    mixed_precision: bool = Field(
        True,
        json_schema_extra=ui(
            "checkbox", group="training", advanced=True, help="float16 autocast on GPU"
        ),
    )
