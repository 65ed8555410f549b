"""Card and parameters of ``keras_classifier``; imports without TensorFlow.

The parameter model is the single source of the JSON Schema MLExContent serves and the form
MLCoach renders. The network table below is plain data so that the schema and the bounds check
of ``input_size`` need no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from algorithms.registry import AlgorithmInfo, register
from algorithms.ui import ui


@dataclass(frozen=True)
class NetworkInfo:
    """One Keras application network: its native input size, the smallest it accepts, and the
    ``keras.applications`` submodule holding its ``preprocess_input``."""

    native_size: int
    min_size: int
    module: str


NETWORKS: dict[str, NetworkInfo] = {
    "ResNet50": NetworkInfo(224, 32, "resnet50"),
    "ResNet101": NetworkInfo(224, 32, "resnet"),
    "ResNet152": NetworkInfo(224, 32, "resnet"),
    "ResNet50V2": NetworkInfo(224, 32, "resnet_v2"),
    "VGG16": NetworkInfo(224, 32, "vgg16"),
    "VGG19": NetworkInfo(224, 32, "vgg19"),
    "DenseNet121": NetworkInfo(224, 32, "densenet"),
    "DenseNet169": NetworkInfo(224, 32, "densenet"),
    "DenseNet201": NetworkInfo(224, 32, "densenet"),
    "Xception": NetworkInfo(299, 71, "xception"),
    "InceptionV3": NetworkInfo(299, 75, "inception_v3"),
    "InceptionResNetV2": NetworkInfo(299, 75, "inception_resnet_v2"),
    "MobileNetV2": NetworkInfo(224, 32, "mobilenet_v2"),
    "EfficientNetB0": NetworkInfo(224, 32, "efficientnet"),
}

NetworkName = Literal[
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "ResNet50V2",
    "VGG16",
    "VGG19",
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "Xception",
    "InceptionV3",
    "InceptionResNetV2",
    "MobileNetV2",
    "EfficientNetB0",
]

# Parameters that fix the saved network's shape: inference must use the same values.
ARCHITECTURE_FIELDS: tuple[str, ...] = ("network", "input_size")


class KerasClassifierParameters(BaseModel):
    """Parameters of a Keras application classifier (MLCoach defaults)."""

    model_config = ConfigDict(extra="forbid")

    network: NetworkName = Field(
        "ResNet50",
        description="Keras application network",
        json_schema_extra=ui("dropdown", group="architecture", help="Backbone network"),
    )
    input_size: int | None = Field(
        None,
        ge=32,
        le=1024,
        description="Side of the square network input in pixels (empty: the network's own size, "
        "224, or 299 for Xception/Inception)",
        json_schema_extra=ui(
            "number",
            group="architecture",
            help="Smaller is faster; Xception needs at least 71, Inception 75",
        ),
    )
    weights_path: str | None = Field(
        None,
        description="Local file of pre-trained weights (.weights.h5, .h5 or .keras); empty: "
        "train from scratch. Nothing is downloaded.",
        json_schema_extra=ui("text", group="architecture", help="e.g. ImageNet weights file"),
    )
    epochs: int = Field(
        10,
        ge=1,
        le=1000,
        description="Training epochs",
        json_schema_extra=ui("number", group="training"),
    )
    batch_size: int = Field(
        32,
        ge=1,
        le=1024,
        description="Images per batch",
        json_schema_extra=ui("number", group="training"),
    )
    learning_rate: float = Field(
        0.001,
        gt=0.0,
        le=1.0,
        description="Optimizer learning rate",
        json_schema_extra=ui("number", group="training", step=0.0001),
    )
    optimizer: Literal["Adam", "AdamW", "SGD", "RMSprop"] = Field(
        "Adam",
        description="Optimizer",
        json_schema_extra=ui("dropdown", group="training"),
    )
    validation_fraction: float = Field(
        0.2,
        ge=0.0,
        le=0.9,
        description="Fraction of labeled images held out for validation",
        json_schema_extra=ui("slider", group="training", step=0.05),
    )
    rotation_angle: float = Field(
        0.0,
        ge=0.0,
        le=180.0,
        description="Random rotation up to this many degrees either way (augmentation)",
        json_schema_extra=ui("slider", group="data", step=5.0, help="0 disables rotation"),
    )
    horizontal_flip: bool = Field(
        False,
        description="Random left-right flips (augmentation)",
        json_schema_extra=ui("checkbox", group="data"),
    )
    vertical_flip: bool = Field(
        False,
        description="Random up-down flips (augmentation)",
        json_schema_extra=ui("checkbox", group="data"),
    )
    seed: int = Field(
        0,
        ge=0,
        le=2**31 - 1,
        description="Random seed (initial weights, split, augmentation)",
        json_schema_extra=ui("number", group="training", advanced=True),
    )

    @field_validator("input_size")
    @classmethod
    def _input_size_fits_network(cls, value: int | None, info: ValidationInfo) -> int | None:
        network = info.data.get("network")
        if value is not None and network in NETWORKS and value < NETWORKS[network].min_size:
            raise ValueError(f"{network} needs an input of at least {NETWORKS[network].min_size}")
        return value

    def resolved_input_size(self) -> int:
        """The input side actually used: ``input_size`` or the network's native size."""
        return self.input_size or NETWORKS[self.network].native_size


KERAS_CLASSIFIER = register(
    AlgorithmInfo(
        name="keras_classifier",
        version="1.0.0",
        application="classification",
        description="Probabilistic image classifier on a Keras application network (ResNet, VGG, "
        "DenseNet, Xception, Inception, MobileNet, EfficientNet), trained from scratch or from "
        "local pre-trained weights. Outputs per-image class probabilities and feature vectors.",
        parameters=KerasClassifierParameters,
        runner="algorithms.classification.runner:run",
        steps=("train", "infer"),
        reference="Chavez et al. (2025), J. Synchrotron Rad., MLExchange labeling pipeline",
        gpu="optional",
        memory_gb=8.0,
        cpus=2,
        inputs=("data_uri", "labels", "model_uri"),
        outputs=("probabilities", "features", "model"),
        framework="tensorflow",
        tags=("mlcoach", "keras"),
    )
)
