"""Pure transforms: log, percentile normalisation fitted on a data set, resize, detector masks."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.data.transforms import (
    Percentiles,
    apply_detector_mask,
    detector_gap_mask,
    fit_percentiles,
    log_transform,
    percentile_normalize,
    resize_image,
    resize_stack,
)
from algorithms.errors import ParameterError


class _ListDataset:
    """A minimal lazy data set: length and indexing."""

    def __init__(self, images: list[np.ndarray]) -> None:
        self.images = images
        self.reads: list[int] = []

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> np.ndarray:
        self.reads.append(index)
        return self.images[index]


def test_log_transform_handles_zeros_and_negatives() -> None:
    values = np.array([-5.0, 0.0, np.e - 1.0])
    result = log_transform(values)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, [0.0, 0.0, 1.0], atol=1e-6)
    with pytest.raises(ParameterError) as error:
        log_transform(values, offset=0.0)
    assert error.value.field == "offset"


def test_percentiles_fitted_on_a_data_set_normalise_consistently() -> None:
    rng = np.random.default_rng(0)
    images = [rng.uniform(0, 10 * (i + 1), size=(16, 16)).astype(np.float32) for i in range(50)]
    dataset = _ListDataset(images)
    percentiles = fit_percentiles(dataset, low=0.0, high=100.0, max_images=10)
    assert len(set(dataset.reads)) == 10 and 0 in dataset.reads and 49 in dataset.reads
    assert percentiles.low >= 0.0 and percentiles.high > 400.0
    dim = percentile_normalize(images[0], percentiles)
    bright = percentile_normalize(images[49], percentiles)
    # A shared scale keeps the dim image dim; per-image stretching would not.
    assert dim.max() < 0.05 < bright.max()
    alone = percentile_normalize(images[0], low=0.0, high=100.0)
    np.testing.assert_allclose([alone.min(), alone.max()], [0.0, 1.0], atol=1e-6)


def test_percentile_normalize_clips_and_handles_flat_images() -> None:
    values = np.array([0.0, 5.0, 10.0, 20.0])
    result = percentile_normalize(values, Percentiles(0.0, 10.0))
    np.testing.assert_allclose(result, [0.0, 0.5, 1.0, 1.0])
    unclipped = percentile_normalize(values, Percentiles(0.0, 10.0), clip=False)
    assert unclipped[-1] == pytest.approx(2.0)
    np.testing.assert_array_equal(percentile_normalize(np.ones((3, 3))), np.zeros((3, 3)))
    with pytest.raises(ParameterError) as error:
        fit_percentiles(values, low=50.0, high=10.0)
    assert error.value.field == "low"


def test_fit_percentiles_subsamples_large_arrays() -> None:
    values = np.arange(1_000_000, dtype=np.float32)
    percentiles = fit_percentiles(values, low=1.0, high=99.0, max_pixels=10_000)
    assert percentiles.low == pytest.approx(10_000, rel=0.02)
    assert percentiles.high == pytest.approx(990_000, rel=0.02)


def test_resize_image_orders_and_channels() -> None:
    labels = np.zeros((8, 8), dtype=np.uint8)
    labels[:4] = 3
    nearest = resize_image(labels, (16, 16), order=0)
    assert nearest.shape == (16, 16) and nearest.dtype == np.uint8
    assert set(np.unique(nearest)) == {0, 3}
    color = np.random.default_rng(1).uniform(size=(20, 30, 3))
    smaller = resize_image(color, (10, 15))
    assert smaller.shape == (10, 15, 3) and smaller.dtype == np.float32
    assert resize_stack(np.zeros((4, 8, 8)), (5, 6)).shape == (4, 5, 6)
    with pytest.raises(ParameterError) as error:
        resize_image(labels, (4, 4), order=7)
    assert error.value.field == "order"


def test_detector_masks_fill_gaps() -> None:
    mask = detector_gap_mask((6, 8), rows=[(2, 3)], columns=[(5, 7)])
    assert mask.sum() == 8 + 2 * 6 - 2
    stack = np.ones((2, 6, 8), dtype=np.float32)
    filled = apply_detector_mask(stack, mask, fill_value=-1.0)
    assert (filled[:, mask] == -1).all() and (filled[:, ~mask] == 1).all()
    assert (stack == 1).all()  # the input is left alone
    rgb = np.ones((6, 8, 3), dtype=np.uint8)
    assert np.isnan(apply_detector_mask(rgb, mask, fill_value=np.nan)[2, 0]).all()
    with pytest.raises(ParameterError) as error:
        apply_detector_mask(np.ones((5, 5)), mask)
    assert error.value.field == "mask"
