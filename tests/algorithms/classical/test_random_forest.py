"""Random forest pixel classifier: sparse labels in, accurate masks and probabilities out."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.classical.random_forest import (
    load_classifier,
    predict_pixels,
    save_classifier,
    train_pixel_classifier,
)
from algorithms.errors import InputDataError, ParameterError
from algorithms.spec import UNLABELED, UNLABELED_STORED
from tests.algorithms.classical.conftest import TwoPhase, pore_f1

FAST = {"sigmas": (0.7, 1.6, 3.5), "n_trees": 20}


def test_segments_two_phases_from_sparse_labels(two_phase: TwoPhase) -> None:
    labeled = two_phase.labels != UNLABELED
    assert 0.1 < labeled.sum() / labeled[0].size < 0.2  # one slice of sparse scribbles
    classifier = train_pixel_classifier(two_phase.images, two_phase.labels, seed=0, **FAST)
    mask, probabilities = predict_pixels(classifier, two_phase.images)
    assert mask.shape == two_phase.images.shape and mask.dtype == np.uint8
    assert probabilities.shape == (6, 2, 64, 64)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(mask, probabilities.argmax(axis=1))
    # Slices 1-5 were never labeled: the forest generalises to them.
    assert pore_f1(mask == 1, two_phase.truth) >= 0.9
    assert classifier.info["labeled_pixels"] == int(labeled.sum())


def test_3d_features_segment_a_volume(two_phase: TwoPhase) -> None:
    classifier = train_pixel_classifier(
        two_phase.images, two_phase.labels, dimensions="3d", n_trees=20
    )
    mask, _ = predict_pixels(classifier, two_phase.images)
    assert pore_f1(mask == 1, two_phase.truth) >= 0.9


def test_stored_labels_and_save_load_round_trip(two_phase: TwoPhase, tmp_path) -> None:
    stored = np.where(two_phase.labels == UNLABELED, UNLABELED_STORED, two_phase.labels)
    classifier = train_pixel_classifier(
        two_phase.images[:2], stored[:2].astype(np.uint8), max_training_pixels=300, **FAST
    )
    assert classifier.info["training_pixels"] == 300
    assert classifier.info["classes"] == [0, 1] and classifier.n_classes == 2
    path = save_classifier(classifier, tmp_path / "model")
    loaded = load_classifier(tmp_path / "model")
    assert path.is_file()
    first, _ = predict_pixels(classifier, two_phase.images[:2])
    second, _ = predict_pixels(loaded, two_phase.images[:2])
    np.testing.assert_array_equal(first, second)
    with pytest.raises(InputDataError):
        load_classifier(tmp_path / "missing")


def test_missing_class_gets_an_empty_probability_channel() -> None:
    images = np.zeros((1, 20, 20), dtype=np.float32)
    images[0, :, 10:] = 1.0
    labels = np.full(images.shape, UNLABELED, dtype=np.int16)
    labels[0, :, :3] = 0
    labels[0, :, -3:] = 2
    classifier = train_pixel_classifier(images, labels, sigmas=(1.0,), n_trees=5)
    mask, probabilities = predict_pixels(classifier, images)
    assert probabilities.shape[1] == 3 and probabilities[:, 1].max() == 0
    assert set(np.unique(mask)) == {0, 2}


def test_bad_inputs_are_reported(two_phase: TwoPhase) -> None:
    unlabeled = np.full(two_phase.images.shape, UNLABELED, dtype=np.int16)
    with pytest.raises(InputDataError) as error:
        train_pixel_classifier(two_phase.images, unlabeled)
    assert error.value.field == "labels"
    one_class = np.where(two_phase.labels == 1, 0, two_phase.labels)
    with pytest.raises(InputDataError):
        train_pixel_classifier(two_phase.images, one_class)
    with pytest.raises(InputDataError):
        train_pixel_classifier(two_phase.images, two_phase.labels[:2])
    with pytest.raises(ParameterError) as bad:
        train_pixel_classifier(two_phase.images, two_phase.labels, n_trees=0)
    assert bad.value.field == "n_trees"
