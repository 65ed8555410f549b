"""Registry cards of the classical segmentation algorithms: random forest, k-means, threshold.

Imports neither scikit-learn nor scikit-image: the runners are named by dotted paths. Defaults
follow the MLExchange segmentation study (random forest of 30 trees of depth 8; k-means with 2
clusters and 300 iterations; a global threshold as the baseline).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from algorithms.registry import AlgorithmInfo, register
from algorithms.ui import ui

MLEXCHANGE_SEGMENTATION = (
    "Chavez et al., MLExchange segmentation application (2023): random forest, k-means and "
    "thresholding on the TomoBank foam phantom"
)
FeatureName = Literal[
    "intensity",
    "gaussian",
    "gradient_magnitude",
    "laplacian_of_gaussian",
    "difference_of_gaussians",
    "hessian_eigenvalues",
    "structure_tensor_eigenvalues",
]
ALL_FEATURES: list[FeatureName] = [
    "intensity",
    "gaussian",
    "gradient_magnitude",
    "laplacian_of_gaussian",
    "difference_of_gaussians",
    "hessian_eigenvalues",
    "structure_tensor_eigenvalues",
]
Dimensions = Literal["2d", "3d"]

_DIMENSIONS_HELP = (
    "2d: filter each image on its own; 3d: treat the stack as a volume and use 3D filters"
)


class _FilterFeatureParameters(BaseModel):
    """Checks shared by the models that compute multi-scale filter features."""

    @field_validator("sigmas", check_fields=False)
    @classmethod
    def _sigmas_valid(cls, sigmas: list[float]) -> list[float]:
        if any(not 0.1 <= sigma <= 64 for sigma in sigmas):
            raise ValueError("every sigma must be between 0.1 and 64")
        if len(set(sigmas)) != len(sigmas):
            raise ValueError("sigmas must be distinct")
        return sorted(sigmas)

    @field_validator("features", check_fields=False)
    @classmethod
    def _features_distinct(cls, features: list[str]) -> list[str]:
        if len(set(features)) != len(features):
            raise ValueError("features must be distinct")
        return features


class RandomForestParameters(_FilterFeatureParameters):
    """Random forest pixel classifier on multi-scale filter features."""

    model_config = ConfigDict(extra="forbid")

    n_trees: int = Field(
        30,
        ge=1,
        le=500,
        description="Number of decision trees",
        json_schema_extra=ui("slider", group="architecture", help="More trees: smoother, slower"),
    )
    max_depth: int = Field(
        8,
        ge=1,
        le=64,
        description="Maximum depth of each tree",
        json_schema_extra=ui("slider", group="architecture", help="Deeper trees fit finer detail"),
    )
    sigmas: list[float] = Field(
        default_factory=lambda: [0.7, 1.0, 1.6, 3.5],
        min_length=1,
        max_length=8,
        description="Gaussian scales (pixels) of the filter features",
        json_schema_extra=ui(
            "list",
            group="data",
            help="One feature set per scale; large scales overfit sparse scribbles",
        ),
    )
    features: list[FeatureName] = Field(
        default_factory=lambda: list(ALL_FEATURES),
        min_length=1,
        description="Filter features computed at every scale",
        json_schema_extra=ui("list", group="data", help="Intensity is taken once, unfiltered"),
    )
    dimensions: Dimensions = Field(
        "2d",
        description="2D features per image or 3D features over the volume",
        json_schema_extra=ui("radio", group="data", help=_DIMENSIONS_HELP),
    )
    class_weight: Literal["balanced", "none"] = Field(
        "balanced",
        description="Weigh classes inversely to their labeled pixel counts",
        json_schema_extra=ui(
            "radio", group="training", help="Balanced keeps a sparsely labeled class from vanishing"
        ),
    )
    max_training_pixels: int = Field(
        500_000,
        ge=100,
        le=20_000_000,
        description="Labeled pixels beyond this number are subsampled at random",
        json_schema_extra=ui("number", group="training", advanced=True),
    )
    output_probabilities: bool = Field(
        True,
        description="Also write per-class probabilities (float16)",
        json_schema_extra=ui("checkbox", group="output"),
    )


class KMeansParameters(_FilterFeatureParameters):
    """Unsupervised k-means clustering of pixels."""

    model_config = ConfigDict(extra="forbid")

    n_clusters: int = Field(
        2,
        ge=2,
        le=32,
        description="Number of clusters (phases)",
        json_schema_extra=ui("slider", group="architecture", help="Label 0 is the darkest phase"),
    )
    max_iter: int = Field(
        300,
        ge=1,
        le=10_000,
        description="Maximum number of k-means iterations",
        json_schema_extra=ui("number", group="training"),
    )
    features: list[FeatureName] = Field(
        default_factory=lambda: ["intensity"],
        min_length=1,
        description="Pixel features to cluster on (intensity alone by default)",
        json_schema_extra=ui("list", group="data", help="Add filters to cluster on texture"),
    )
    sigmas: list[float] = Field(
        default_factory=lambda: [1.0, 2.0, 4.0],
        min_length=1,
        max_length=8,
        description="Gaussian scales (pixels) of filter features other than intensity",
        json_schema_extra=ui("list", group="data", advanced=True),
    )
    dimensions: Dimensions = Field(
        "2d",
        description="2D features per image or 3D features over the volume",
        json_schema_extra=ui("radio", group="data", help=_DIMENSIONS_HELP, advanced=True),
    )
    max_fit_pixels: int = Field(
        200_000,
        ge=100,
        le=20_000_000,
        description="Pixels sampled at random to fit the cluster centres",
        json_schema_extra=ui("number", group="training", advanced=True),
    )


class ThresholdParameters(BaseModel):
    """Global threshold: automatic (Otsu, Li, Yen) or a given value."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["otsu", "li", "yen", "value"] = Field(
        "otsu",
        description="How the threshold is chosen",
        json_schema_extra=ui("dropdown", group="general", help="'value' uses the value below"),
    )
    value: float | None = Field(
        None,
        description="Threshold when method is 'value'",
        json_schema_extra=ui("number", group="general", visible_if={"method": "value"}),
    )
    invert: bool = Field(
        False,
        description="Class 1 below the threshold instead of above it",
        json_schema_extra=ui("checkbox", group="general", help="For dark features"),
    )
    per_image: bool = Field(
        False,
        description="One automatic threshold per image instead of one for the data set",
        json_schema_extra=ui("checkbox", group="general", advanced=True),
    )

    @model_validator(mode="after")
    def _value_given(self) -> ThresholdParameters:
        if self.method == "value" and self.value is None:
            raise ValueError("value is required when method is 'value'")
        return self


RANDOM_FOREST = register(
    AlgorithmInfo(
        name="random_forest",
        version="1.0.0",
        application="segmentation",
        description="Random forest pixel classifier on multi-scale filter features (Gaussian, "
        "gradient, LoG, DoG, Hessian and structure-tensor eigenvalues); trains on sparse "
        "scribbles in seconds on a CPU.",
        parameters=RandomForestParameters,
        runner="algorithms.classical.runners:run_random_forest",
        steps=("train", "infer"),
        reference=MLEXCHANGE_SEGMENTATION,
        memory_gb=4.0,
        cpus=2,
        inputs=("data_uri", "labels_uri", "model_uri"),
        outputs=("model", "mask", "probabilities"),
        framework="scikit-learn",
        tags=("classical", "sparse-labels"),
    )
)
KMEANS = register(
    AlgorithmInfo(
        name="kmeans",
        version="1.0.0",
        application="segmentation",
        description="Unsupervised k-means clustering of pixels; clusters numbered by increasing "
        "mean intensity.",
        parameters=KMeansParameters,
        runner="algorithms.classical.runners:run_kmeans",
        steps=("run",),
        reference=MLEXCHANGE_SEGMENTATION,
        memory_gb=2.0,
        inputs=("data_uri",),
        outputs=("mask",),
        framework="scikit-learn",
        tags=("classical", "unsupervised"),
    )
)
THRESHOLD = register(
    AlgorithmInfo(
        name="threshold",
        version="1.0.0",
        application="segmentation",
        description="Global threshold (Otsu, Li, Yen or a value) over the whole data set.",
        parameters=ThresholdParameters,
        runner="algorithms.classical.runners:run_threshold",
        steps=("run",),
        reference=MLEXCHANGE_SEGMENTATION,
        memory_gb=1.0,
        inputs=("data_uri",),
        outputs=("mask",),
        framework="scikit-image",
        tags=("classical", "baseline"),
    )
)
