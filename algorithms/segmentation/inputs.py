"""Reading images and sparse label masks for the segmentation runner."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from algorithms.errors import InputDataError
from algorithms.spec import UNLABELED, UNLABELED_STORED, JobSpec
from algorithms.tiling import WindowGrid, make_grid


def channels_first(images: np.ndarray) -> np.ndarray:
    """(N, Y, X) or (N, Y, X, C) images as float32 (N, C, Y, X)."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images[:, None].astype(np.float32)
    if images.ndim == 4:
        return np.moveaxis(images, -1, 1).astype(np.float32)
    raise InputDataError(f"expected (N,Y,X) or (N,Y,X,C) images, got {images.shape}", "data_uri")


def normalization_of(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of (N, C, Y, X) images."""
    mean = images.mean(axis=(0, 2, 3), dtype=np.float64)
    std = images.std(axis=(0, 2, 3), dtype=np.float64)
    std = np.where(std > 0, std, 1.0)
    return [float(v) for v in mean], [float(v) for v in std]


def normalize(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Standardize channels; ``images`` has channels on axis 1 (or 0 for one item)."""
    shape = (1, -1) + (1,) * (images.ndim - 2)
    mean_array = np.asarray(mean, dtype=np.float32).reshape(shape)
    std_array = np.asarray(std, dtype=np.float32).reshape(shape)
    return ((images - mean_array) / std_array).astype(np.float32)


def read_labels(spec: JobSpec, expected: tuple[int, int, int]) -> np.ndarray:
    """The label masks as int64 (N, Y, X) with -1 unlabeled (stored 255 converted)."""
    from algorithms.data import read_array

    if not spec.inputs.labels_uri:
        raise InputDataError("training needs label masks (inputs.labels_uri)", "labels_uri")
    stored = np.asarray(read_array(spec.inputs.labels_uri, spec.inputs.tiled_api_key))
    if stored.ndim == 2:
        stored = stored[None]
    if stored.shape != expected:
        raise InputDataError(
            f"labels of shape {stored.shape} do not match the images {expected}", "labels_uri"
        )
    labels = stored.astype(np.int64)
    if stored.dtype == np.uint8 or stored.max(initial=0) == UNLABELED_STORED:
        labels[stored == UNLABELED_STORED] = UNLABELED
    labels[labels < 0] = UNLABELED
    if not np.any(labels != UNLABELED):
        raise InputDataError("the label masks hold no labeled pixel", "labels_uri")
    return labels


def grid_for(
    spatial: tuple[int, ...], window: int, step: int, border: int, border_weight: float
) -> tuple[WindowGrid, list[str]]:
    """A tiling grid for ``spatial``, shrinking the window to small data; notes what changed."""
    notes = []
    windows = tuple(min(window, n) for n in spatial)
    if windows != (window,) * len(spatial):
        notes.append(f"window reduced to {windows} to fit data of shape {spatial}")
    fitted_border = border
    if min(windows) < window:  # only a window shrunk to the data may shrink the border
        fitted_border = min(border, (min(windows) - 1) // 2)
    if fitted_border != border:
        notes.append(f"border reduced to {fitted_border} for the smaller window")
    steps = tuple(min(step, w) for w in windows)
    grid = make_grid(spatial, windows, steps, fitted_border, border_weight)
    return grid, notes
