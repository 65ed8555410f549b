"""Image preparation, MSE training with Pearson metrics, save and load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algorithms.autoencoder.training import (
    check_architecture,
    load_autoencoder,
    per_image_pearson,
    prepare_images,
    reconstruct_and_encode,
    save_autoencoder,
    scale_intensity,
    train_autoencoder,
)
from algorithms.data.synthetic import random_shapes
from algorithms.errors import ParameterError
from algorithms.events import EventEmitter


def test_scale_intensity_modes() -> None:
    image = np.array([[0.0, 5.0], [10.0, 20.0]])
    assert scale_intensity(image, "per_image").max() == pytest.approx(1.0)
    assert scale_intensity(image, "per_image").min() == 0.0
    assert np.array_equal(scale_intensity(image, "none"), image.astype(np.float32))
    clipped = scale_intensity(image, "percentile")
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    assert not scale_intensity(np.ones((3, 3)), "per_image").any()


def test_prepare_images_resizes_and_converts_channels(small_params) -> None:
    images = [np.zeros((40, 50)), np.full((32, 32, 3), 7, np.uint8), np.ones((64, 64, 4))]
    prepared = prepare_images(images, small_params)
    assert prepared.shape == (3, 1, 32, 32)
    assert prepared.dtype == torch.float32
    rgb = small_params.model_copy(update={"in_channels": 3})
    assert prepare_images([np.zeros((32, 32))], rgb).shape == (1, 3, 32, 32)
    two = small_params.model_copy(update={"in_channels": 2})
    with pytest.raises(ParameterError) as error:
        prepare_images([np.zeros((32, 32, 3))], two)
    assert error.value.field == "in_channels"


def test_pearson_of_an_image_with_itself_is_one() -> None:
    images = torch.rand(3, 1, 8, 8)
    assert np.allclose(per_image_pearson(images, images), 1.0)
    assert np.allclose(per_image_pearson(-images, images), -1.0)


def test_training_reports_epochs_and_the_model_round_trips(small_params, tmp_path) -> None:
    images = prepare_images(random_shapes(24, size=32, seed=1).images, small_params)
    events = EventEmitter()
    model, history = train_autoencoder(images, small_params, events)
    metrics = [event for event in events.events if event["type"] == "metric"]
    assert [event["epoch"] for event in metrics] == [1, 2]
    assert {"train_loss", "val_loss", "val_pearson"} <= set(metrics[-1]["values"])
    assert len(history) == 2 and np.isfinite(history[-1]["val_loss"])

    reconstructions, latents = reconstruct_and_encode(model, images)
    assert reconstructions.shape == images.shape
    assert latents.shape == (24, 4)

    folder = save_autoencoder(model, tmp_path / "model", small_params, {"val_loss": 0.1})
    loaded, meta = load_autoencoder(folder, "cpu")
    assert meta["network"]["latent_dim"] == 4
    again, latents_again = reconstruct_and_encode(loaded, images)
    assert torch.allclose(latents, latents_again, atol=1e-5)
    check_architecture(small_params, meta["network"])
    with pytest.raises(ParameterError) as error:
        check_architecture(small_params.model_copy(update={"latent_dim": 8}), meta["network"])
    assert error.value.field == "latent_dim"
