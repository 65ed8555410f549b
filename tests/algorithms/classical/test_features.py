"""Filter feature banks: channel counts, 2D per slice, 3D blocks equal to the whole volume."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.classical.cards import ALL_FEATURES
from algorithms.classical.features import (
    FEATURE_NAMES,
    feature_count,
    features_at,
    filter_features,
    iter_feature_blocks,
)
from algorithms.errors import ParameterError


def test_card_and_feature_names_agree() -> None:
    assert tuple(ALL_FEATURES) == FEATURE_NAMES


@pytest.mark.parametrize("ndim", [2, 3])
def test_feature_count_matches_channels(ndim: int) -> None:
    image = np.random.default_rng(0).normal(size=(12,) * ndim).astype(np.float32)
    sigmas = (1.0, 2.0)
    features = filter_features(image, sigmas, FEATURE_NAMES)
    assert features.shape == (*image.shape, feature_count(sigmas, FEATURE_NAMES, ndim))
    assert features.dtype == np.float32
    assert features.shape[-1] == 1 + 2 * (4 + 2 * ndim)
    np.testing.assert_array_equal(features[..., 0], image)


def test_features_respond_to_structure() -> None:
    image = np.zeros((32, 32), dtype=np.float32)
    image[:, 16:] = 1.0
    features = filter_features(image, (1.0,), ["gradient_magnitude", "hessian_eigenvalues"])
    gradient = features[..., 0]
    assert gradient[:, 15:17].min() > 5 * gradient[:, :8].max()
    eigenvalues = features[..., 1:]
    assert (eigenvalues[..., 0] >= eigenvalues[..., 1] - 1e-6).all()


def test_2d_blocks_filter_each_slice_alone() -> None:
    stack = np.random.default_rng(1).normal(size=(5, 16, 16)).astype(np.float32)
    blocks = list(iter_feature_blocks(stack, (1.0,), ["gaussian"], "2d", block_slices=2))
    assert [(start, stop) for start, stop, _ in blocks] == [(0, 2), (2, 4), (4, 5)]
    joined = np.concatenate([block for _, _, block in blocks])
    np.testing.assert_allclose(joined[3], filter_features(stack[3], (1.0,), ["gaussian"]))


def test_3d_blocks_equal_the_whole_volume() -> None:
    volume = np.random.default_rng(2).normal(size=(14, 12, 12)).astype(np.float32)
    sigmas = (1.0, 1.5)
    whole = filter_features(volume, sigmas, FEATURE_NAMES)
    parts = iter_feature_blocks(volume, sigmas, FEATURE_NAMES, "3d", block_slices=3)
    joined = np.concatenate([block for _, _, block in parts])
    np.testing.assert_allclose(joined, whole, atol=1e-5)
    # A 3D feature differs from the slice's own 2D feature: the neighbours count.
    assert not np.allclose(
        whole[5, ..., 1], filter_features(volume[5], (1.0,), ["gaussian"])[..., 0]
    )


def test_features_at_gathers_selected_pixels_in_order() -> None:
    stack = np.random.default_rng(3).normal(size=(4, 10, 10)).astype(np.float32)
    selected = np.zeros(stack.shape, dtype=bool)
    selected[2, 3, 4] = selected[2, 5, 1] = selected[0, 0, 0] = True
    vectors = features_at(stack, selected, (1.0,), ["intensity", "gaussian"])
    assert vectors.shape == (3, 2)
    np.testing.assert_array_equal(vectors[:, 0], stack[selected])


@pytest.mark.parametrize(
    ("sigmas", "features", "field"),
    [
        ((), ["gaussian"], "sigmas"),
        ((0.0,), ["gaussian"], "sigmas"),
        ((1.0,), ["sobel"], "features"),
    ],
)
def test_bad_feature_settings_name_the_parameter(sigmas, features, field) -> None:
    with pytest.raises(ParameterError) as error:
        filter_features(np.zeros((8, 8)), sigmas, features)
    assert error.value.field == field


def test_closed_form_3x3_eigenvalues_match_numpy() -> None:
    from algorithms.classical.features import _symmetric_3x3_eigenvalues

    rng = np.random.default_rng(4)
    a, b, c, d, e, f = (rng.normal(size=2000) for _ in range(6))
    matrices = np.stack(
        [np.stack([a, b, c], -1), np.stack([b, d, e], -1), np.stack([c, e, f], -1)], -2
    )
    expected = np.linalg.eigvalsh(matrices)[..., ::-1]
    found = np.stack(_symmetric_3x3_eigenvalues(a, b, c, d, e, f), axis=-1)
    np.testing.assert_allclose(found, expected, atol=1e-5)
    ones, zeros = np.ones(3), np.zeros(3)
    for value in _symmetric_3x3_eigenvalues(ones, zeros, zeros, ones, zeros, ones):
        np.testing.assert_allclose(value, 1.0)
