"""The keras_classifier card: schema, defaults, bounds, and no TensorFlow at import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from algorithms.classification.cards import (
    KERAS_CLASSIFIER,
    NETWORKS,
    KerasClassifierParameters,
)


def test_card_is_registered_with_train_and_infer() -> None:
    info = KERAS_CLASSIFIER
    assert (info.name, info.version) == ("keras_classifier", "1.0.0")
    assert info.runner == "algorithms.classification.runner:run"
    assert info.application == "classification"
    assert info.steps == ("train", "infer")
    assert info.gpu == "optional"
    assert info.framework == "tensorflow"
    assert info.parameters is KerasClassifierParameters


def test_defaults_are_valid_and_every_field_has_a_ui_hint() -> None:
    params = KerasClassifierParameters()
    assert params.network == "ResNet50"
    assert params.resolved_input_size() == 224
    schema = KerasClassifierParameters.model_json_schema()
    for name, field in schema["properties"].items():
        assert "ui" in field, name
    assert set(schema["properties"]["network"]["enum"]) == set(NETWORKS)
    assert {"ResNet50", "VGG16", "DenseNet121", "Xception", "InceptionV3", "MobileNetV2",
            "EfficientNetB0"} <= set(NETWORKS)


def test_input_size_below_the_network_minimum_names_input_size() -> None:
    with pytest.raises(ValidationError) as error:
        KerasClassifierParameters(network="Xception", input_size=64)
    assert error.value.errors()[0]["loc"] == ("input_size",)
    assert KerasClassifierParameters(network="Xception", input_size=71).resolved_input_size() == 71
    assert KerasClassifierParameters(network="InceptionV3").resolved_input_size() == 299


def test_unknown_fields_and_networks_are_rejected() -> None:
    with pytest.raises(ValidationError):
        KerasClassifierParameters(network="AlexNet")
    with pytest.raises(ValidationError):
        KerasClassifierParameters(epoch=3)


def test_card_module_imports_without_tensorflow() -> None:
    code = (
        "import sys, algorithms.classification.cards; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
