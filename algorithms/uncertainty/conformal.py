"""Split-conformal prediction sets for pixel classification (Angelopoulos & Bates 2021).

Calibrate on held-out labeled pixels: the score of a pixel is 1 - p(true class); the threshold
is the ceil((n + 1) * coverage) / n empirical quantile of the n scores. A pixel's prediction set
holds every class with p >= 1 - threshold (and always the most likely class), so on data
exchangeable with the calibration pixels the set contains the true class with probability at
least ``coverage``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED


@dataclass(frozen=True)
class ConformalCalibration:
    """A calibrated threshold on 1 - p(true class) for a target coverage."""

    coverage: float
    threshold: float
    calibration_pixels: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "coverage": self.coverage,
            "threshold": self.threshold,
            "calibration_pixels": self.calibration_pixels,
        }


def conformal_scores(
    probabilities: np.ndarray, labels: np.ndarray, ignore_index: int = UNLABELED
) -> np.ndarray:
    """1 - p(true class) at every labeled pixel.

    Args:
        probabilities: (N, K, *spatial) class probabilities.
        labels: (N, *spatial) integer labels, ``ignore_index`` where unlabeled.
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if labels.shape != probabilities.shape[:1] + probabilities.shape[2:]:
        raise ParameterError("labels", f"labels {labels.shape} do not fit {probabilities.shape}")
    classes = np.moveaxis(probabilities, 1, -1).reshape(-1, probabilities.shape[1])
    flat = labels.reshape(-1)
    keep = flat != ignore_index
    true_class = flat[keep].astype(np.int64)
    if true_class.size and true_class.max() >= probabilities.shape[1]:
        raise ParameterError("labels", "a label is not one of the predicted classes")
    return 1.0 - classes[keep][np.arange(true_class.size), true_class].astype(np.float64)


def calibrate_conformal(
    probabilities: np.ndarray,
    labels: np.ndarray,
    coverage: float,
    ignore_index: int = UNLABELED,
) -> ConformalCalibration:
    """Threshold giving prediction sets of at least ``coverage`` on exchangeable pixels."""
    if not 0.0 < coverage < 1.0:
        raise ParameterError("conformal_coverage", f"must be between 0 and 1, got {coverage}")
    scores = conformal_scores(probabilities, labels, ignore_index)
    n = scores.size
    if n == 0:
        raise ParameterError("labels", "conformal calibration needs labeled pixels")
    level = math.ceil((n + 1) * coverage) / n
    threshold = 1.0 if level > 1.0 else float(np.quantile(scores, level, method="higher"))
    return ConformalCalibration(float(coverage), threshold, int(n))


def prediction_sets(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean (N, K, *spatial): class k is in a pixel's set when p_k >= 1 - threshold."""
    probabilities = np.asarray(probabilities)
    sets = probabilities >= (1.0 - threshold)
    top = np.expand_dims(probabilities.argmax(1), 1)
    np.put_along_axis(sets, top, True, axis=1)  # never an empty set
    return sets


def sets_to_bitmask(sets: np.ndarray) -> np.ndarray:
    """Encode (N, K, *spatial) sets as uint8 (N, *spatial): bit k set when class k is in."""
    if sets.shape[1] > 8:
        raise ParameterError("classes", "set bitmasks hold at most 8 classes")
    weights = (1 << np.arange(sets.shape[1], dtype=np.uint16)).reshape(
        (1, -1) + (1,) * (sets.ndim - 2)
    )
    return (sets.astype(np.uint16) * weights).sum(1).astype(np.uint8)


def empirical_coverage(
    sets: np.ndarray, labels: np.ndarray, ignore_index: int = UNLABELED
) -> float:
    """Fraction of labeled pixels whose prediction set contains the true class."""
    flat_sets = np.moveaxis(sets, 1, -1).reshape(-1, sets.shape[1])
    flat = np.asarray(labels).reshape(-1)
    keep = flat != ignore_index
    if not keep.any():
        return float("nan")
    return float(flat_sets[keep][np.arange(keep.sum()), flat[keep].astype(np.int64)].mean())
