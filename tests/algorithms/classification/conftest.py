"""Tiny two-class image sets and a classifier trained on them once per module."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def make_two_class_images(count: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Class 0: vertical stripes; class 1: a bright square. Float images with noise."""
    rng = np.random.default_rng(seed)
    images, targets = [], []
    for index in range(count):
        target = index % 2
        image = rng.normal(0.0, 0.1, (40, 40)).astype(np.float32)
        if target:
            image[10:30, 10:30] += 1.0
        else:
            image[:, ::4] += 1.0
        images.append(image)
        targets.append(target)
    return images, np.array(targets)


@pytest.fixture(scope="module")
def two_class_images() -> tuple[list[np.ndarray], np.ndarray]:
    return make_two_class_images(16)


@pytest.fixture(scope="module")
def two_class_file(tmp_path_factory) -> Path:
    """Fourteen two-class images stacked in one .npy file (a data set of 14 items)."""
    images, _ = make_two_class_images(14, seed=1)
    path = tmp_path_factory.mktemp("data") / "images.npy"
    np.save(path, np.stack(images))
    return path
