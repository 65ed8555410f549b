"""Turn data-set images into network inputs: RGB, 0..255, square, network-preprocessed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from algorithms.errors import InputDataError


def to_rgb255(image: np.ndarray) -> np.ndarray:
    """One image (Y,X), (Y,X,1), (Y,X,3) or (Y,X,4) as float32 (Y,X,3) RGB in 0..255.

    uint8 images keep their values; other types are stretched per image from their minimum to
    their maximum (a constant image becomes black). An alpha channel is dropped.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    elif array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3]
    else:
        raise InputDataError(
            f"cannot classify an image of shape {array.shape}: expected (Y,X) or (Y,X,C) with "
            "C in 1, 3, 4",
            field="data_uri",
        )
    if array.dtype == np.uint8:
        return array.astype(np.float32)
    values = array.astype(np.float32)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, np.float32)
    values = np.where(finite, values, np.nan)
    low, high = np.nanmin(values), np.nanmax(values)
    scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return np.nan_to_num(scaled, nan=0.0).astype(np.float32)


def resize_square(images: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Resize RGB images (each (Y,X,3)) to one (N, size, size, 3) float32 batch (antialiased)."""
    import tensorflow as tf

    if not images:
        return np.zeros((0, size, size, 3), np.float32)
    resized = [
        tf.image.resize(image, (size, size), method="bilinear", antialias=True).numpy()
        for image in images
    ]
    return np.stack(resized).astype(np.float32)


def prepare_batch(
    images: Sequence[np.ndarray], size: int, preprocess: Callable[[np.ndarray], Any]
) -> np.ndarray:
    """Raw images to a preprocessed (N, size, size, 3) float32 batch for the network."""
    batch = resize_square([to_rgb255(image) for image in images], size)
    return np.asarray(preprocess(batch), dtype=np.float32)
