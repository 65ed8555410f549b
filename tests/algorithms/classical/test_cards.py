"""Classical cards: registered, defaults valid, bad values rejected naming the field."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import BaseModel, ValidationError

from algorithms.classical.cards import KMeansParameters, RandomForestParameters, ThresholdParameters
from algorithms.registry import get_algorithm

CARDS = {
    "random_forest": RandomForestParameters,
    "kmeans": KMeansParameters,
    "threshold": ThresholdParameters,
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_cards_are_registered_with_defaults_and_ui_hints(name: str) -> None:
    info = get_algorithm(name, "1.0.0")
    assert info.application == "segmentation" and info.parameters is CARDS[name]
    assert info.load_runner().__name__ == f"run_{name}"
    model = info.parameters()
    assert info.parameters.model_validate(model.model_dump()) == model
    properties = info.parameters_schema()["properties"]
    assert all("ui" in field for field in properties.values())


def test_random_forest_defaults_follow_the_paper() -> None:
    params = RandomForestParameters()
    assert (params.n_trees, params.max_depth) == (30, 8)
    assert get_algorithm("random_forest").steps == ("train", "infer")
    kmeans = KMeansParameters()
    assert (kmeans.n_clusters, kmeans.max_iter) == (2, 300)


@pytest.mark.parametrize(
    ("model", "values", "field"),
    [
        (RandomForestParameters, {"n_trees": 0}, "n_trees"),
        (RandomForestParameters, {"max_depth": 100}, "max_depth"),
        (RandomForestParameters, {"sigmas": []}, "sigmas"),
        (RandomForestParameters, {"sigmas": [1.0, -2.0]}, "sigmas"),
        (RandomForestParameters, {"features": ["sobel"]}, "features"),
        (RandomForestParameters, {"dimensions": "4d"}, "dimensions"),
        (RandomForestParameters, {"unknown": 1}, "unknown"),
        (KMeansParameters, {"n_clusters": 1}, "n_clusters"),
        (KMeansParameters, {"max_iter": 0}, "max_iter"),
        (ThresholdParameters, {"method": "magic"}, "method"),
    ],
)
def test_bad_values_are_rejected_naming_the_field(
    model: type[BaseModel], values: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        model.model_validate(values)
    assert error.value.errors()[0]["loc"][0] == field


def test_threshold_value_method_needs_a_value() -> None:
    with pytest.raises(ValidationError, match="value is required"):
        ThresholdParameters(method="value")
    assert ThresholdParameters(method="value", value=0.5).value == 0.5


def test_cards_import_without_the_science_stack() -> None:
    code = (
        "import sys, algorithms.classical.cards;"
        "print(sorted(m for m in ('sklearn', 'scipy', 'skimage', 'torch') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
