"""Pure image transforms: log transform, percentile normalisation, resize and detector masks.

Normalisation is meant to be consistent across a data set: fit the percentiles once on a sample
of the data set with :func:`fit_percentiles` and pass them to :func:`percentile_normalize` for
every image, rather than stretching each image on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from algorithms.errors import ParameterError


class ImageSequence(Protocol):
    """Anything with a length and integer indexing that returns arrays (a lazy data set)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


@dataclass(frozen=True)
class Percentiles:
    """The intensity values at the low and high percentiles of a data set."""

    low: float
    high: float
    low_percentile: float = 1.0
    high_percentile: float = 99.0


def log_transform(array: np.ndarray, offset: float = 1.0) -> np.ndarray:
    """``log(max(x, 0) + offset)`` as float32: the usual view of scattering images.

    Args:
        offset: added before the logarithm so zeros stay finite; must be > 0.
    """
    if offset <= 0:
        raise ParameterError("offset", "must be > 0")
    values = np.asarray(array, dtype=np.float32)
    return np.log(np.maximum(values, 0.0) + np.float32(offset)).astype(np.float32)


def _check_percentiles(low: float, high: float) -> None:
    if not 0.0 <= low < high <= 100.0:
        raise ParameterError("low", "percentiles must satisfy 0 <= low < high <= 100")


def fit_percentiles(
    data: np.ndarray | ImageSequence,
    low: float = 1.0,
    high: float = 99.0,
    max_images: int = 32,
    max_pixels: int = 1_000_000,
) -> Percentiles:
    """The ``low``/``high`` percentile values over a sample of a data set.

    Args:
        data: an array (one image or a stack) or a lazy data set (``len`` and ``ds[i]``).
        max_images: at most this many images, evenly spaced, are read from a data set.
        max_pixels: the pooled pixels are subsampled (evenly, deterministically) to this many.
    """
    _check_percentiles(low, high)
    if max_images < 1:
        raise ParameterError("max_images", "must be >= 1")
    if max_pixels < 1:
        raise ParameterError("max_pixels", "must be >= 1")
    if isinstance(data, np.ndarray):
        sample = data.reshape(-1)
    else:
        count = len(data)
        if count == 0:
            raise ParameterError("data", "is empty")
        indices = np.unique(np.linspace(0, count - 1, min(count, max_images)).round().astype(int))
        sample = np.concatenate([np.asarray(data[int(i)]).reshape(-1) for i in indices])
    if sample.size == 0:
        raise ParameterError("data", "is empty")
    if sample.size > max_pixels:
        sample = sample[:: int(np.ceil(sample.size / max_pixels))]
    sample = sample.astype(np.float64)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        raise ParameterError("data", "has no finite values")
    low_value, high_value = np.percentile(sample, [low, high])
    return Percentiles(float(low_value), float(high_value), low, high)


def percentile_normalize(
    array: np.ndarray,
    percentiles: Percentiles | None = None,
    low: float = 1.0,
    high: float = 99.0,
    clip: bool = True,
) -> np.ndarray:
    """Map the low percentile value to 0 and the high one to 1 (float32).

    Args:
        percentiles: fitted on the data set (see :func:`fit_percentiles`); when None they are
            computed from ``array`` itself with ``low`` and ``high``.
        clip: clip the result to [0, 1].
    """
    values = np.asarray(array, dtype=np.float32)
    if percentiles is None:
        percentiles = fit_percentiles(values, low=low, high=high)
    span = percentiles.high - percentiles.low
    if span <= 0:
        result = np.zeros_like(values)
    else:
        result = (values - np.float32(percentiles.low)) / np.float32(span)
    if clip:
        result = np.clip(result, 0.0, 1.0)
    return result.astype(np.float32)


def resize_image(
    image: np.ndarray,
    output_shape: Sequence[int],
    order: int = 1,
    anti_aliasing: bool | None = None,
) -> np.ndarray:
    """Resize a 2D image (Y, X) or (Y, X, C) to ``output_shape`` (Y, X), keeping its values.

    Args:
        order: spline order, 0 (nearest: use it for label masks) to 5.
        anti_aliasing: smooth before down-sampling; default: on unless ``order`` is 0.
    """
    from skimage.transform import resize

    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ParameterError("image", "must be (Y, X) or (Y, X, C)")
    if len(output_shape) != 2 or min(output_shape) < 1:
        raise ParameterError("output_shape", "must be (Y, X) with sides >= 1")
    if not 0 <= order <= 5:
        raise ParameterError("order", "must be between 0 and 5")
    if anti_aliasing is None:
        anti_aliasing = order > 0
    target = tuple(int(s) for s in output_shape) + image.shape[2:]
    resized = resize(
        image, target, order=order, preserve_range=True, anti_aliasing=anti_aliasing, mode="edge"
    )
    if order == 0:
        return resized.astype(image.dtype)
    return resized.astype(np.float32)


def resize_stack(images: np.ndarray, output_shape: Sequence[int], order: int = 1) -> np.ndarray:
    """Resize every image of a stack (N, Y, X[, C]) with :func:`resize_image`."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ParameterError("images", "must be (N, Y, X) or (N, Y, X, C)")
    return np.stack([resize_image(image, output_shape, order=order) for image in images])


def detector_gap_mask(
    shape: Sequence[int],
    rows: Sequence[tuple[int, int]] = (),
    columns: Sequence[tuple[int, int]] = (),
) -> np.ndarray:
    """A boolean (Y, X) mask, True in the given row and column bands ``(start, stop)``."""
    if len(shape) != 2:
        raise ParameterError("shape", "must be (Y, X)")
    mask = np.zeros(tuple(int(s) for s in shape), dtype=bool)
    for name, bands in (("rows", rows), ("columns", columns)):
        for start, stop in bands:
            if not 0 <= start < stop:
                raise ParameterError(name, f"band ({start}, {stop}) must have 0 <= start < stop")
            if name == "rows":
                mask[start:stop, :] = True
            else:
                mask[:, start:stop] = True
    return mask


def apply_detector_mask(image: np.ndarray, mask: np.ndarray, fill_value: float = 0.0) -> np.ndarray:
    """A copy of ``image`` with ``fill_value`` where ``mask`` is True (gaps, beam stop).

    Works on one image (Y, X), a stack (N, Y, X) or channels-last images; ``mask`` is (Y, X).
    A NaN ``fill_value`` turns the result into float32.
    """
    image = np.asarray(image)
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ParameterError("mask", "must be a (Y, X) boolean array")
    result = image.astype(np.float32) if np.isnan(fill_value) else image.copy()
    if tuple(image.shape[-2:]) == mask.shape:
        result[..., mask] = fill_value
    elif image.ndim >= 3 and tuple(image.shape[-3:-1]) == mask.shape:
        result[..., mask, :] = fill_value
    else:
        raise ParameterError("mask", f"shape {mask.shape} does not match images {image.shape}")
    return result
