"""Training, prediction, saving and loading of a small Keras classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from algorithms.classification.cards import KerasClassifierParameters
from algorithms.classification.classifier import (
    check_architecture,
    load_classifier,
    predict,
    save_classifier,
    split_train_validation,
    train_classifier,
)
from algorithms.classification.networks import build_classifier, load_local_weights
from algorithms.classification.runner import parse_labels
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter

SMALL = {"network": "MobileNetV2", "input_size": 32, "batch_size": 8, "seed": 3}


@pytest.fixture(scope="module")
def trained(two_class_images):
    images, targets = two_class_images
    params = KerasClassifierParameters(
        epochs=2, rotation_angle=15, horizontal_flip=True, vertical_flip=True, **SMALL
    )
    events = EventEmitter()
    model, metrics = train_classifier(images, targets, 2, params, events)
    return model, metrics, params, events


def test_two_epochs_report_metrics_and_probabilities_sum_to_one(trained, two_class_images):
    model, metrics, params, events = trained
    epochs = [event for event in events.events if event["type"] == "metric"]
    assert [event["epoch"] for event in epochs] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[-1]["values"])
    assert np.isfinite(metrics["loss"])
    probabilities, features = predict(model, two_class_images[0], params.network)
    assert probabilities.shape == (16, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert features.shape == (16, 1280)


def test_saved_model_reloads_with_the_same_predictions(trained, two_class_images, tmp_path):
    model, metrics, params, _ = trained
    folder = save_classifier(model, tmp_path / "model", ["stripes", "square"], params, metrics)
    loaded, meta = load_classifier(folder)
    assert meta["classes"] == ["stripes", "square"]
    assert meta["input_size"] == 32
    images = two_class_images[0][:4]
    before, _ = predict(model, images, params.network)
    after, _ = predict(loaded, images, params.network)
    assert np.allclose(before, after, atol=1e-6)
    check_architecture(params, meta)
    with pytest.raises(ParameterError) as error:
        check_architecture(params.model_copy(update={"input_size": 64}), meta)
    assert error.value.field == "input_size"
    with pytest.raises(ParameterError) as error:
        check_architecture(params.model_copy(update={"network": "VGG16"}), meta)
    assert error.value.field == "network"


def test_weights_from_a_local_file_load_into_another_classifier(trained, tmp_path: Path):
    model = trained[0]
    weights = tmp_path / "pretrained.weights.h5"
    model.save_weights(weights)
    # Another number of classes: the backbone loads, the mismatched head is skipped.
    other = build_classifier("MobileNetV2", 3, 32)
    changed = load_local_weights(other, str(weights))
    assert changed > 0
    source = model.get_layer("backbone").get_weights()
    target = other.get_layer("backbone").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(source, target, strict=True))


def test_missing_weights_file_names_weights_path(two_class_images, tmp_path: Path):
    params = KerasClassifierParameters(
        epochs=1, weights_path=str(tmp_path / "absent.weights.h5"), **SMALL
    )
    with pytest.raises(ParameterError) as error:
        train_classifier(*two_class_images, 2, params)
    assert error.value.field == "weights_path"


def test_split_holds_out_at_least_one_and_keeps_one_for_training() -> None:
    train, validation = split_train_validation(10, 0.2, seed=0)
    assert len(validation) == 2 and len(train) == 8
    assert sorted([*train, *validation]) == list(range(10))
    assert len(split_train_validation(2, 0.9, 0)[0]) == 1
    assert len(split_train_validation(5, 0.0, 0)[1]) == 0


def test_parse_labels_maps_items_to_class_indices() -> None:
    classes, items = parse_labels({"classes": ["a", "b"], "items": {"0": "b", "3": "a"}}, 5)
    assert classes == ["a", "b"]
    assert items == {0: 1, 3: 0}
    for bad in (
        None,
        {"classes": ["a"], "items": {"0": "a"}},
        {"classes": ["a", "b"], "items": {"9": "a"}},
        {"classes": ["a", "b"], "items": {"0": "c"}},
        {"classes": ["a", "b"], "items": {}},
    ):
        with pytest.raises(InputDataError) as error:
            parse_labels(bad, 5)
        assert error.value.field == "labels"
