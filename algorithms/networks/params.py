"""Parameter models of the network zoo; import without torch.

Each model carries the DLSIA paper defaults (Roberts et al., J. Appl. Cryst. 2024) and the bounds
a form can offer. The segmentation cards embed or extend these models; the zoo
(:func:`algorithms.networks.create_model`) validates a plain dict against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from algorithms.ui import ui

Activation = Literal["relu", "leaky_relu", "elu", "gelu", "silu", "tanh"]
Normalization = Literal["batch", "instance", "group", "none"]


# Fields several networks share, with the same bounds, hints and help everywhere.
def _base_channels(default: int) -> Any:
    return Field(
        default, ge=1, le=512,
        json_schema_extra=ui("number", group="architecture",
                             help="Channels of the first level (cb)."),
    )


def _growth_rate() -> Any:
    return Field(
        2.0, ge=1.0, le=4.0,
        json_schema_extra=ui("slider", group="architecture", step=0.1,
                             help="Channel growth between levels (r)."),
    )


def _activation() -> Any:
    return Field(
        "relu", json_schema_extra=ui("dropdown", group="architecture",
                                     help="Non-linearity after each convolution."),
    )


def _normalization() -> Any:
    return Field(
        "batch", json_schema_extra=ui("dropdown", group="architecture",
                                      help="Normalization after each convolution."),
    )



class _NetworkParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MSDNetParams(_NetworkParams):
    """Mixed-scale dense network (Pelt & Sethian 2018)."""

    layers: int = Field(
        100, ge=1, le=1000,
        json_schema_extra=ui("slider", group="architecture", step=1,
                             help="Number of densely connected dilated layers (d)."),
    )
    width: int = Field(
        1, ge=1, le=32,
        json_schema_extra=ui("number", group="architecture", advanced=True,
                             help="Channels produced by each layer (1 in Pelt & Sethian)."),
    )
    max_dilation: int = Field(
        10, ge=1, le=256,
        json_schema_extra=ui("slider", group="architecture", step=1,
                             help="Layer i uses dilation 1 + (i mod max_dilation)."),
    )
    dilations: list[int] | None = Field(
        None,
        json_schema_extra=ui("list", group="architecture", advanced=True,
                             help="Custom dilations, cycled over the layers "
                                  "(e.g. 1,2,4,8,16); overrides max_dilation."),
    )
    activation: Activation = Field(
        "relu", json_schema_extra=ui("dropdown", group="architecture",
                                     help="Non-linearity after each dilated convolution."),
    )

    @field_validator("dilations")
    @classmethod
    def _positive_dilations(cls, value: list[int] | None) -> list[int] | None:
        if value is not None:
            if not value:
                raise ValueError("must list at least one dilation")
            if any(d < 1 for d in value):
                raise ValueError("every dilation must be >= 1")
        return value


class TUNetParams(_NetworkParams):
    """Tunable U-Net (DLSIA TUNet: depth d, base channels cb, growth r, hidden rate rh)."""

    depth: int = Field(
        4, ge=1, le=8,
        json_schema_extra=ui("slider", group="architecture", step=1,
                             help="Number of resolution levels (d)."),
    )
    base_channels: int = _base_channels(64)
    growth_rate: float = _growth_rate()
    hidden_rate: float = Field(
        1.0, gt=0.0, le=4.0,
        json_schema_extra=ui("slider", group="architecture", step=0.1,
                             help="Channel growth inside a level, between its convolutions (rh)."),
    )
    convs_per_level: int = Field(
        2, ge=1, le=4,
        json_schema_extra=ui("number", group="architecture", advanced=True,
                             help="3x3 convolutions in each level."),
    )
    activation: Activation = _activation()
    normalization: Normalization = _normalization()
    dropout: float = Field(
        0.0, ge=0.0, le=0.9,
        json_schema_extra=ui("slider", group="architecture", step=0.05,
                             help="Dropout probability after each level (0 disables it)."),
    )


class TUNet3PlusParams(TUNetParams):
    """U-Net 3+ (Huang et al. 2020): full-scale skip connections, same knobs as TUNet."""


class SMSNetParams(_NetworkParams):
    """Sparse mixed-scale network: a random DAG of dilated convolutions (DLSIA section 2.4)."""

    depth: int = Field(
        20, ge=1, le=200,
        json_schema_extra=ui("slider", group="architecture", step=1,
                             help="Hidden nodes between input and output (d)."),
    )
    channels: int = Field(
        10, ge=1, le=64,
        json_schema_extra=ui("number", group="architecture",
                             help="Channels of every hidden node (10 gives the ~45k-parameter "
                                  "nets of the DLSIA concrete-fibre ensemble)."),
    )
    k_min: int = Field(
        1, ge=1, le=100,
        json_schema_extra=ui("number", group="architecture",
                             help="Minimum number of outgoing edges of a hidden node."),
    )
    k_max: int = Field(
        5, ge=1, le=100,
        json_schema_extra=ui("number", group="architecture",
                             help="Maximum number of outgoing edges of a hidden node."),
    )
    ll_gamma: tuple[float, float] = Field(
        (0.0, 0.5),
        json_schema_extra=ui("list", group="architecture", advanced=True,
                             help="Range of the degree parameter gamma, drawn uniformly; "
                                  "P(n edges) ~ exp(-gamma n)."),
    )
    ll_alpha: tuple[float, float] = Field(
        (0.75, 1.0),
        json_schema_extra=ui("list", group="architecture", advanced=True,
                             help="Range of the skip parameter alpha, drawn uniformly; "
                                  "P(edge i->j) ~ exp(-alpha |i-j|)."),
    )
    p_il: float = Field(
        1.0, ge=0.0, le=1.0,
        json_schema_extra=ui("slider", group="architecture", step=0.05,
                             help="Probability of an edge from the input to each hidden node."),
    )
    p_lo: float = Field(
        1.0, ge=0.0, le=1.0,
        json_schema_extra=ui("slider", group="architecture", step=0.05,
                             help="Probability of an edge from each hidden node to the output."),
    )
    p_io: bool = Field(
        True, json_schema_extra=ui("checkbox", group="architecture",
                                   help="Connect the input directly to the output."),
    )
    dilation_choices: list[int] = Field(
        [1, 2, 4, 8, 16],
        json_schema_extra=ui("list", group="architecture",
                             help="Dilations an edge draws from uniformly."),
    )
    activation: Activation = Field(
        "relu", json_schema_extra=ui("dropdown", group="architecture",
                                     help="Non-linearity of each hidden node."),
    )
    normalization: Normalization = Field(
        "batch", json_schema_extra=ui("dropdown", group="architecture",
                                      help="Normalization of each hidden node."),
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1,
        json_schema_extra=ui("number", group="architecture",
                             help="Seed of the random graph; the same seed gives the same net."),
    )

    @field_validator("ll_gamma", "ll_alpha")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if low < 0 or high < low:
            raise ValueError("must be (low, high) with 0 <= low <= high")
        return value

    @field_validator("dilation_choices")
    @classmethod
    def _positive_dilations(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("must list at least one dilation")
        if any(d < 1 for d in value):
            raise ValueError("every dilation must be >= 1")
        return value

    @field_validator("k_max")
    @classmethod
    def _edge_bounds(cls, value: int, info: ValidationInfo) -> int:
        if "k_min" in info.data and value < info.data["k_min"]:
            raise ValueError("must be >= k_min")
        return value


class SMSNetEnsembleParams(SMSNetParams):
    """Ensemble of SMSNets drawn from consecutive seeds (seed, seed+1, ...)."""

    members: int = Field(
        5, ge=1, le=32,
        json_schema_extra=ui("number", group="architecture",
                             help="Number of independently drawn SMSNets."),
    )


class AutoencoderParams(_NetworkParams):
    """Tunable convolutional autoencoder (DLSIA section 2.2)."""

    input_size: int = Field(
        64, ge=4, le=1024,
        json_schema_extra=ui("number", group="architecture",
                             help="Side of the square (cubic in 3D) input images."),
    )
    in_channels: int = Field(
        1, ge=1, le=16,
        json_schema_extra=ui("number", group="architecture", help="Channels of the input."),
    )
    base_channels: int = _base_channels(16)
    depth: int = Field(
        4, ge=1, le=8,
        json_schema_extra=ui("slider", group="architecture", step=1,
                             help="Levels, each halving the image side (d)."),
    )
    growth_rate: float = _growth_rate()
    latent_dim: int = Field(
        16, ge=1, le=4096,
        json_schema_extra=ui("number", group="architecture",
                             help="Length of the latent vector (c_lat)."),
    )
    activation: Activation = _activation()
    normalization: Normalization = _normalization()

    @field_validator("depth")
    @classmethod
    def _feasible_depth(cls, value: int, info: ValidationInfo) -> int:
        size = info.data.get("input_size")
        if size is not None and size % (2**value) != 0:
            raise ValueError(
                f"input_size {size} cannot be halved {value} times "
                f"(needs a multiple of {2**value})"
            )
        return value


PARAMETER_MODELS: dict[str, type[BaseModel]] = {
    "msdnet": MSDNetParams,
    "tunet": TUNetParams,
    "tunet3plus": TUNet3PlusParams,
    "smsnet": SMSNetParams,
    "smsnet_ensemble": SMSNetEnsembleParams,
    "autoencoder": AutoencoderParams,
}
