"""K-means pixel clusters (numbered by intensity) and global thresholds on a two-phase image."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.classical.kmeans import fit_pixel_clusters, kmeans_segment
from algorithms.classical.threshold import threshold_segment, threshold_value
from algorithms.errors import ParameterError
from tests.algorithms.classical.conftest import TwoPhase, pore_f1


def test_kmeans_finds_both_phases(two_phase: TwoPhase) -> None:
    labels = kmeans_segment(two_phase.images, n_clusters=2, seed=0)
    assert labels.shape == two_phase.images.shape and labels.dtype == np.uint8
    # Label 0 is the darkest cluster: the pores.
    assert pore_f1(labels == 0, two_phase.truth) >= 0.9
    np.testing.assert_array_equal(labels, kmeans_segment(two_phase.images, seed=0))


def test_kmeans_label_order_follows_intensity(two_phase: TwoPhase) -> None:
    labels = kmeans_segment(two_phase.images, seed=1)
    flipped = kmeans_segment(-two_phase.images, seed=1)
    assert pore_f1(flipped == 1, two_phase.truth) >= 0.9
    assert np.mean(labels != flipped) > 0.95


def test_kmeans_three_phases_and_texture_features() -> None:
    image = np.zeros((1, 30, 90), dtype=np.float32)
    image[..., 30:60] = 1.0
    image[..., 60:] = 2.0
    image += np.random.default_rng(0).normal(0, 0.1, image.shape).astype(np.float32)
    labels = kmeans_segment(image, n_clusters=3)
    assert (labels[..., 2:28] == 0).mean() > 0.97
    assert (labels[..., 32:58] == 1).mean() > 0.97
    assert (labels[..., 62:88] == 2).mean() > 0.97
    clusters = fit_pixel_clusters(image, 3, features=["intensity", "gaussian"], sigmas=[1.0])
    assert np.all(np.diff(clusters.cluster_intensity) > 0.5)
    with pytest.raises(ParameterError) as error:
        kmeans_segment(image, n_clusters=1)
    assert error.value.field == "n_clusters"


def test_otsu_threshold_separates_phases(two_phase: TwoPhase) -> None:
    masks, thresholds = threshold_segment(two_phase.images, "otsu", invert=True)
    assert masks.dtype == np.uint8 and len(thresholds) == 1
    assert 0.3 < thresholds[0] < 0.7
    assert pore_f1(masks, two_phase.truth) >= 0.9
    above, _ = threshold_segment(two_phase.images, "otsu")
    np.testing.assert_array_equal(above, 1 - masks)


def test_value_li_yen_and_per_image_thresholds(two_phase: TwoPhase) -> None:
    masks, thresholds = threshold_segment(two_phase.images, "value", value=10.0)
    assert thresholds == [10.0] and masks.sum() == 0
    for method in ("li", "yen"):
        assert 0.2 < threshold_value(two_phase.images, method) < 0.8
    _, per_image = threshold_segment(two_phase.images, per_image=True)
    assert len(per_image) == two_phase.images.shape[0]
    assert threshold_value(np.ones((4, 4))) == 1.0
    with pytest.raises(ParameterError) as error:
        threshold_value(two_phase.images, "value")
    assert error.value.field == "value"
