"""Global thresholding: Otsu's (or Li's, Yen's) automatic threshold, or a given value.

The baseline of the MLExchange segmentation study: one threshold for a whole data set (so every
slice is cut at the same value), pixels above it are class 1, or below it with ``invert``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from algorithms.classical.arrays import as_stack
from algorithms.errors import ParameterError

ThresholdMethod = Literal["otsu", "li", "yen", "value"]
# Automatic thresholds are computed on at most this many pixels (evenly subsampled).
MAX_THRESHOLD_PIXELS = 4_000_000


def threshold_value(
    images: np.ndarray, method: ThresholdMethod = "otsu", value: float | None = None
) -> float:
    """The threshold of ``images`` by ``method`` (``value`` itself for method "value")."""
    if method == "value":
        if value is None:
            raise ParameterError("value", "is required when method is 'value'")
        return float(value)
    from skimage import filters

    functions = {
        "otsu": filters.threshold_otsu,
        "li": filters.threshold_li,
        "yen": filters.threshold_yen,
    }
    if method not in functions:
        raise ParameterError("method", f"must be one of otsu, li, yen, value, not {method!r}")
    pixels = np.asarray(images, dtype=np.float32).reshape(-1)
    pixels = pixels[np.isfinite(pixels)]
    if pixels.size == 0:
        raise ParameterError("data", "has no finite pixel values")
    if pixels.size > MAX_THRESHOLD_PIXELS:
        pixels = pixels[:: int(np.ceil(pixels.size / MAX_THRESHOLD_PIXELS))]
    if pixels.min() == pixels.max():
        return float(pixels[0])
    return float(functions[method](pixels))


def threshold_segment(
    images: np.ndarray,
    method: ThresholdMethod = "otsu",
    value: float | None = None,
    invert: bool = False,
    per_image: bool = False,
) -> tuple[np.ndarray, list[float]]:
    """Binary masks (N, Y, X) uint8 and the threshold(s) used.

    Args:
        invert: class 1 is below the threshold instead of above it.
        per_image: compute one automatic threshold per image instead of one for the data set.
    """
    images = as_stack(images)
    if per_image and method != "value":
        thresholds = [threshold_value(image, method, value) for image in images]
    else:
        thresholds = [threshold_value(images, method, value)]
    cut = np.asarray(thresholds, dtype=np.float32).reshape(-1, 1, 1)
    above = images > cut
    mask = ~above if invert else above
    return mask.astype(np.uint8), thresholds
