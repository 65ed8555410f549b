"""Card and parameters of ``autoencoder`` (latent space); imports without torch.

The network knobs come from the zoo's :class:`AutoencoderParams` (input size, base channels,
depth, growth rate, latent dimension); this model adds how the network is trained.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from algorithms.networks.params import AutoencoderParams
from algorithms.registry import AlgorithmInfo, register
from algorithms.ui import ui

# Fields that fix the saved network's shape: inference must use the same values.
ARCHITECTURE_FIELDS: tuple[str, ...] = tuple(AutoencoderParams.model_fields)


class AutoencoderJobParameters(AutoencoderParams):
    """Autoencoder architecture (DLSIA defaults: depth 4, 16 base channels, latent 16) plus
    training settings (MSE loss)."""

    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = Field(
        "adam", json_schema_extra=ui("dropdown", group="training", help="Gradient optimizer")
    )
    learning_rate: float = Field(
        1e-3,
        gt=0,
        le=1.0,
        json_schema_extra=ui("number", group="training", step=1e-4, help="Learning rate"),
    )
    weight_decay: float = Field(
        0.0,
        ge=0,
        le=1.0,
        json_schema_extra=ui("number", group="training", advanced=True, help="L2 penalty"),
    )
    epochs: int = Field(
        30, ge=1, le=10000, json_schema_extra=ui("number", group="training", help="Passes")
    )
    batch_size: int = Field(
        32, ge=1, le=4096, json_schema_extra=ui("number", group="training", help="Images per step")
    )
    val_fraction: float = Field(
        0.2,
        ge=0.0,
        lt=1.0,
        json_schema_extra=ui(
            "slider", group="training", step=0.05, help="Fraction of images held out for validation"
        ),
    )
    intensity_scaling: Literal["per_image", "percentile", "none"] = Field(
        "per_image",
        json_schema_extra=ui(
            "radio",
            group="data",
            help="per_image: each image's min..max to 0..1; percentile: its 1st..99th "
            "percentiles to 0..1 (clipped); none: values as stored",
        ),
    )
    horizontal_flip: bool = Field(
        False, json_schema_extra=ui("checkbox", group="data", help="Random left-right flips")
    )
    vertical_flip: bool = Field(
        False, json_schema_extra=ui("checkbox", group="data", help="Random up-down flips")
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1, json_schema_extra=ui("number", group="training", advanced=True)
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", json_schema_extra=ui("radio", group="training", help="auto: GPU when there is one")
    )

    def network_parameters(self) -> dict:
        """The architecture fields only, as the zoo's ``create_model`` takes them."""
        return {name: getattr(self, name) for name in ARCHITECTURE_FIELDS}


AUTOENCODER = register(
    AlgorithmInfo(
        name="autoencoder",
        version="1.0.0",
        application="latent_space",
        description="Tunable convolutional autoencoder trained on images with a mean-square-error "
        "loss; outputs reconstructions and one latent vector per image for the latent space "
        "explorer and similarity-based labeling.",
        parameters=AutoencoderJobParameters,
        runner="algorithms.autoencoder.runner:run",
        steps=("train", "infer"),
        reference="Roberts et al. (2024), J. Appl. Cryst. 57, 392 (DLSIA), section 2.2",
        gpu="optional",
        memory_gb=4.0,
        cpus=2,
        inputs=("data_uri", "model_uri"),
        outputs=("reconstructions", "latent_vectors", "model"),
        framework="pytorch",
        tags=("data_clinic", "dlsia"),
    )
)
