"""Array conventions shared by the classical algorithms: image stacks and label masks."""

from __future__ import annotations

import numpy as np

from algorithms.errors import InputDataError
from algorithms.spec import UNLABELED, UNLABELED_STORED


def labels_in_memory(labels: np.ndarray) -> np.ndarray:
    """Labels as int16 with unlabeled pixels as ``UNLABELED`` (stored 255 converted)."""
    labels = np.asarray(labels)
    converted = labels.astype(np.int16)
    converted[labels == UNLABELED_STORED] = UNLABELED
    return converted


def as_stack(images: np.ndarray) -> np.ndarray:
    """A 2D image, stack or volume as float32 (N, Y, X); colour channels are averaged."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    elif images.ndim == 4:
        images = images.mean(axis=-1)
    if images.ndim != 3:
        raise InputDataError(f"expected 2D images or a volume, got shape {images.shape}", "data")
    return images.astype(np.float32, copy=False)
