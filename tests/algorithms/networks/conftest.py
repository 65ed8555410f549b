"""Tiny configurations of every zoo network, small enough for 2D and 3D CPU tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch

TINY: dict[str, dict[str, Any]] = {
    "msdnet": {"layers": 6, "max_dilation": 3},
    "tunet": {"depth": 3, "base_channels": 4},
    "tunet3plus": {"depth": 3, "base_channels": 3},
    "smsnet": {"depth": 5, "channels": 3, "seed": 7},
    "smsnet_ensemble": {"depth": 4, "channels": 2, "members": 3, "seed": 1},
    "autoencoder": {"input_size": 16, "depth": 2, "base_channels": 4, "latent_dim": 8},
}


def tiny_input(name: str, ndim: int, batch: int = 2, channels: int = 1) -> torch.Tensor:
    """A random input of the right shape: odd sizes for segmentation nets to test padding."""
    generator = torch.Generator().manual_seed(0)
    side = TINY["autoencoder"]["input_size"] if name == "autoencoder" else (11 if ndim == 2 else 7)
    return torch.randn((batch, channels) + (side,) * ndim, generator=generator)


@pytest.fixture
def tiny() -> dict[str, dict[str, Any]]:
    """Tiny parameters of every network, by zoo name."""
    return TINY


@pytest.fixture
def make_input() -> Any:
    """The :func:`tiny_input` factory."""
    return tiny_input


@pytest.fixture(autouse=True)
def _deterministic_single_thread() -> Iterator[None]:
    """Seeded, and one thread: tiny tensors gain nothing from more on a shared CPU."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
