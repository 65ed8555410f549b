"""Images become RGB 0..255 network inputs of the right size."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.classification.images import prepare_batch, to_rgb255
from algorithms.errors import InputDataError


def test_grayscale_float_is_stretched_to_rgb_0_255() -> None:
    image = np.linspace(-1.0, 3.0, 12, dtype=np.float64).reshape(3, 4)
    rgb = to_rgb255(image)
    assert rgb.shape == (3, 4, 3)
    assert rgb.dtype == np.float32
    assert rgb.min() == 0.0 and rgb.max() == pytest.approx(255.0)
    assert np.array_equal(rgb[..., 0], rgb[..., 2])


def test_uint8_keeps_values_and_alpha_is_dropped() -> None:
    rgba = np.full((2, 2, 4), 7, dtype=np.uint8)
    rgb = to_rgb255(rgba)
    assert rgb.shape == (2, 2, 3)
    assert np.all(rgb == 7.0)


def test_constant_and_single_channel_images() -> None:
    assert np.all(to_rgb255(np.ones((5, 5, 1), np.uint16)) == 0.0)


def test_unsupported_channel_count_is_an_input_error() -> None:
    with pytest.raises(InputDataError) as error:
        to_rgb255(np.zeros((4, 4, 2)))
    assert error.value.field == "data_uri"


def test_prepare_batch_resizes_and_preprocesses() -> None:
    images = [np.zeros((10, 20)), np.ones((50, 30, 3), np.uint8)]
    batch = prepare_batch(images, 32, lambda x: x / 255.0)
    assert batch.shape == (2, 32, 32, 3)
    assert batch.dtype == np.float32
    assert batch.max() <= 1.0
