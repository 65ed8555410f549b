"""Ensemble statistics and conformal prediction sets reach their coverage."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.errors import ParameterError
from algorithms.uncertainty import (
    calibrate_conformal,
    conformal_scores,
    empirical_coverage,
    ensemble_statistics,
    prediction_sets,
    sets_to_bitmask,
)


def _synthetic(seed: int, n: int = 4, k: int = 3, size: int = 64):
    """Probabilities from a Dirichlet, labels drawn from them (a calibrated model)."""
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.full(k, 0.7), size=(n, size, size)).astype(np.float32)
    cumulative = probabilities.cumsum(-1)
    labels = (rng.random((n, size, size, 1)) > cumulative).sum(-1)
    labels = np.minimum(labels, k - 1)
    return np.moveaxis(probabilities, -1, 1), labels


def test_ensemble_mean_and_std() -> None:
    members = np.stack([np.zeros((2, 3)), np.ones((2, 3)) * 2])
    mean, std = ensemble_statistics(members)
    assert np.allclose(mean, 1.0) and np.allclose(std, 1.0)
    assert mean.dtype == np.float32
    mean_list, _ = ensemble_statistics([members[0], members[1]])
    assert np.array_equal(mean_list, mean)


@pytest.mark.parametrize("coverage", [0.8, 0.9, 0.95])
def test_conformal_sets_reach_the_target_coverage(coverage: float) -> None:
    calibration_probabilities, calibration_labels = _synthetic(seed=0)
    calibration_labels[:, ::2] = -1  # sparse labels: unlabeled pixels are ignored
    calibration = calibrate_conformal(calibration_probabilities, calibration_labels, coverage)
    assert calibration.calibration_pixels == int((calibration_labels != -1).sum())
    test_probabilities, test_labels = _synthetic(seed=1)
    sets = prediction_sets(test_probabilities, calibration.threshold)
    achieved = empirical_coverage(sets, test_labels)
    assert achieved >= coverage
    assert achieved < coverage + 0.05  # and the sets are not trivially everything
    assert sets.any(1).all()  # never empty


def test_higher_coverage_gives_larger_sets() -> None:
    probabilities, labels = _synthetic(seed=2)
    small = calibrate_conformal(probabilities, labels, 0.7)
    large = calibrate_conformal(probabilities, labels, 0.97)
    assert large.threshold >= small.threshold
    size_small = prediction_sets(probabilities, small.threshold).sum(1).mean()
    size_large = prediction_sets(probabilities, large.threshold).sum(1).mean()
    assert size_large > size_small


def test_scores_and_bitmask() -> None:
    probabilities = np.array([[[0.7, 0.2]], [[0.3, 0.8]]]).reshape(1, 2, 1, 2)
    labels = np.array([[[0, -1]]])
    assert conformal_scores(probabilities, labels) == pytest.approx([0.3])
    sets = prediction_sets(probabilities, 0.75)
    assert sets_to_bitmask(sets).tolist() == [[[3, 2]]]


def test_bad_coverage_names_the_field() -> None:
    probabilities, labels = _synthetic(seed=3, n=1, size=4)
    with pytest.raises(ParameterError) as error:
        calibrate_conformal(probabilities, labels, 1.0)
    assert error.value.field == "conformal_coverage"
