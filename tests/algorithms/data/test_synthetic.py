"""Synthetic generators: deterministic from a seed, right shapes, dtypes and label statistics."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.data.synthetic import (
    FOAM_VARIANTS,
    SCATTERING_CLASSES,
    SCATTERING_FEATURES,
    SHAPE_NAMES,
    foam_phantom,
    foam_variants,
    random_shapes,
    scattering_patterns,
    sparse_labels,
)
from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED, UNLABELED_STORED


def test_random_shapes_shapes_and_determinism() -> None:
    first = random_shapes(40, size=32, seed=3, noise=0.05)
    again = random_shapes(40, size=32, seed=3, noise=0.05)
    other = random_shapes(40, size=32, seed=4, noise=0.05)
    images, labels, names = first
    assert images.shape == (40, 32, 32) and images.dtype == np.float32
    assert labels.shape == (40,) and names == SHAPE_NAMES
    assert first.masks.shape == (40, 32, 32) and first.masks.dtype == np.uint8
    np.testing.assert_array_equal(images, again.images)
    np.testing.assert_array_equal(labels, again.labels)
    assert not np.array_equal(images, other.images)
    # Each mask holds exactly one shape whose value is 1 + the image's class.
    for mask, label in zip(first.masks, labels, strict=True):
        assert set(np.unique(mask)) == {0, label + 1}
    assert set(labels.tolist()) == {0, 1, 2, 3}


def test_random_shapes_noise_free_images_equal_masks() -> None:
    result = random_shapes(5, size=24, seed=0, noise=0.0, shapes=("circle", "annulus"))
    np.testing.assert_array_equal(result.images, (result.masks > 0).astype(np.float32))
    assert result.class_names == ("circle", "annulus")


def test_random_shapes_annulus_has_a_hole() -> None:
    result = random_shapes(3, size=64, seed=1, noise=0.0, shapes=("annulus",))
    for mask in result.masks:
        rows, cols = np.nonzero(mask)
        center = (int(rows.mean().round()), int(cols.mean().round()))
        assert mask[center] == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"n": -1}, "n"), ({"size": 8}, "size"), ({"shapes": ("hexagon",)}, "shapes")],
)
def test_random_shapes_rejects_bad_parameters(kwargs: dict, field: str) -> None:
    arguments = {"n": 2, **kwargs}
    with pytest.raises(ParameterError) as error:
        random_shapes(**arguments)
    assert error.value.field == field


def test_foam_phantom_porosity_and_determinism() -> None:
    volume, mask = foam_phantom((8, 48, 48), seed=2, porosity=0.3)
    volume_again, mask_again = foam_phantom((8, 48, 48), seed=2, porosity=0.3)
    assert volume.shape == mask.shape == (8, 48, 48)
    assert volume.dtype == np.float32 and mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 1}
    assert 0.3 <= mask.mean() < 0.45
    np.testing.assert_array_equal(volume, volume_again)
    np.testing.assert_array_equal(mask, mask_again)
    # Pores are dark, solid is bright.
    assert volume[mask == 1].mean() < volume[mask == 0].mean() - 0.4


def test_foam_phantom_rejects_bad_porosity() -> None:
    with pytest.raises(ParameterError) as error:
        foam_phantom((4, 16, 16), porosity=0.95)
    assert error.value.field == "porosity"


def test_foam_variants_degrade_in_order() -> None:
    volume, mask = foam_phantom((3, 48, 48), seed=0)
    variants = foam_variants(volume, seed=1, n_angles=12)
    assert tuple(variants) == FOAM_VARIANTS
    for array in variants.values():
        assert array.shape == volume.shape and array.dtype == np.float32
    np.testing.assert_array_equal(variants["high_quality"], volume)
    errors = [
        float(np.abs(variants[name] - volume).mean())
        for name in ("noise_low", "noise_medium", "noise_high")
    ]
    assert errors[0] < errors[1] < errors[2]
    # Few-angle reconstruction still shows the pores, with streak errors.
    streaks = variants["streaks"]
    assert streaks[mask == 1].mean() < streaks[mask == 0].mean()
    assert np.abs(streaks - volume).mean() > 0.01
    # Ring artifacts are identical in every slice.
    ring_part = variants["rings"] - volume
    np.testing.assert_allclose(ring_part[0], ring_part[2], atol=1e-6)
    assert np.abs(ring_part).max() > 0.05
    again = foam_variants(volume, seed=1, n_angles=12)
    for name in FOAM_VARIANTS:
        np.testing.assert_array_equal(variants[name], again[name])


def test_scattering_patterns_labels_and_gaps() -> None:
    result = scattering_patterns(30, size=64, seed=5)
    again = scattering_patterns(30, size=64, seed=5)
    assert result.images.shape == (30, 64, 64) and result.images.dtype == np.float32
    assert result.flags.shape == (30, len(SCATTERING_FEATURES)) and result.flags.dtype == bool
    assert result.class_names == SCATTERING_CLASSES
    np.testing.assert_array_equal(result.images, again.images)
    np.testing.assert_array_equal(result.flags, again.flags)
    assert (result.images[:, result.gap_mask] == 0).all()
    assert result.gap_mask.any(axis=1).all() and result.gap_mask.any(axis=0).all()
    for flags, dominant in zip(result.flags, result.dominant, strict=True):
        if not flags.any():
            assert dominant == SCATTERING_CLASSES.index("empty")
        else:
            assert flags[SCATTERING_FEATURES.index(SCATTERING_CLASSES[dominant])]
    # Several kinds and at least one combination appear in 30 images.
    assert result.flags.any(axis=0).sum() >= 3
    assert (result.flags.sum(axis=1) >= 2).any()


def test_sparse_labels_fraction_and_ratio() -> None:
    _, mask = foam_phantom((2, 96, 96), seed=0)
    labels = sparse_labels(mask[0], fraction=0.16, fg_to_bg=1 / 40, seed=0)
    assert labels.shape == mask[0].shape and labels.dtype == np.int16
    labeled = labels != UNLABELED
    assert abs(labeled.mean() - 0.16) < 0.01
    ratio = (labels == 1).sum() / (labels == 0).sum()
    assert abs(ratio - 1 / 40) < 0.005
    # Every labeled pixel has its true class.
    np.testing.assert_array_equal(labels[labeled], mask[0][labeled])
    np.testing.assert_array_equal(labels, sparse_labels(mask[0], seed=0))


def test_sparse_labels_stored_form_and_volumes() -> None:
    _, mask = foam_phantom((4, 32, 32), seed=1)
    stored = sparse_labels(mask, seed=2, stored=True)
    assert stored.dtype == np.uint8 and stored.shape == mask.shape
    assert set(np.unique(stored)) == {0, 1, UNLABELED_STORED}
    with pytest.raises(ParameterError) as error:
        sparse_labels(mask, fraction=0.0)
    assert error.value.field == "fraction"
