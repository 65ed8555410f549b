"""Sparse labels: split the labeled pixels of the same images into training and validation."""

from __future__ import annotations

import numpy as np

from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED


def split_labeled_pixels(
    labels: np.ndarray,
    val_fraction: float,
    seed: int = 0,
    unlabeled: int = UNLABELED,
) -> tuple[np.ndarray, np.ndarray]:
    """Randomly assign each labeled pixel to training or validation, class by class.

    Returns two label arrays of the input's shape: the validation pixels are unlabeled in the
    first and the training pixels unlabeled in the second. Each class keeps at least one training
    pixel, and gets at least one validation pixel when it has two or more.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ParameterError("val_fraction", f"must be in [0, 1), got {val_fraction}")
    labels = np.asarray(labels)
    train = labels.copy()
    validation = np.full_like(labels, unlabeled)
    if val_fraction == 0.0:
        return train, validation
    rng = np.random.default_rng(seed)
    flat = labels.reshape(-1)
    train_flat = train.reshape(-1)
    validation_flat = validation.reshape(-1)
    for value in np.unique(flat[flat != unlabeled]):
        positions = np.flatnonzero(flat == value)
        count = int(round(val_fraction * positions.size))
        if positions.size >= 2:
            count = min(max(count, 1), positions.size - 1)
        else:
            count = 0
        chosen = rng.choice(positions, size=count, replace=False)
        validation_flat[chosen] = value
        train_flat[chosen] = unlabeled
    return train, validation
