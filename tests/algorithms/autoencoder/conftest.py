"""Small shape images and autoencoder parameters that train in a second or two."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from algorithms.autoencoder.cards import AutoencoderJobParameters
from algorithms.data.synthetic import random_shapes

SMALL = {
    "input_size": 32,
    "depth": 2,
    "base_channels": 4,
    "latent_dim": 4,
    "epochs": 2,
    "batch_size": 8,
    "device": "cpu",
}


@pytest.fixture
def small_params() -> AutoencoderJobParameters:
    return AutoencoderJobParameters(**SMALL)


@pytest.fixture(scope="module")
def shapes_file(tmp_path_factory) -> Path:
    """Twenty 32x32 shape images stacked in one .npy file."""
    images = random_shapes(20, size=32, seed=0).images
    path = tmp_path_factory.mktemp("shapes") / "shapes.npy"
    np.save(path, images)
    return path
