"""Tunable convolutional autoencoder, DLSIA section 2.2.

Input (N, C_in, S, S[, S]) with S = ``input_size``; ``encode`` -> (N, latent_dim);
``decode`` -> (N, C_in, S, S[, S]); ``forward`` = decode(encode(x)), the reconstruction.
Level l (0-based) has ``c_l = round(cb * r**l)`` channels: two 3x3 conv blocks (conv, norm,
activation) then a 2x max-pool, so after ``depth`` levels the image side is S / 2**depth; a
linear layer maps the flattened ``c_{d-1} (S/2**d)**ndim`` features to the latent vector. The
decoder mirrors it: linear + activation, then per level a 2x2 transposed convolution (x2
up-sampling) and two conv blocks, and a final 1x1 convolution back to C_in channels (no output
activation: reconstruct with an MSE loss). ``forward_features`` is the latent vector.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from algorithms.errors import ParameterError
from algorithms.networks.layers import (
    activation,
    check_ndim,
    conv,
    conv_block,
    level_channels,
    max_pool,
    transposed_conv,
)
from algorithms.networks.params import AutoencoderParams
from algorithms.networks.zoo import register_model


class Autoencoder(nn.Module):
    """Convolutional autoencoder; see the module docstring."""

    def __init__(self, params: AutoencoderParams | None = None, ndim: int = 2) -> None:
        super().__init__()
        params = params or AutoencoderParams()
        self.ndim = check_ndim(ndim)
        size, depth = params.input_size, params.depth
        if depth < 1:
            raise ParameterError("depth", "must be >= 1")
        if size % (2**depth) != 0:
            raise ParameterError(
                "depth", f"input_size {size} cannot be halved {depth} times "
                         f"(needs a multiple of {2**depth})")
        self.input_size = size
        self.in_channels = params.in_channels
        self.latent_dim = params.latent_dim
        channels = level_channels(params.base_channels, params.growth_rate, depth)
        act, norm_kind = params.activation, params.normalization
        self.bottom_shape = (channels[-1],) + (size // 2**depth,) * ndim
        flat = channels[-1] * (size // 2**depth) ** ndim

        encoder: list[nn.Module] = []
        previous = params.in_channels
        for c in channels:
            encoder += [conv_block(ndim, [previous, c, c], act, norm_kind), max_pool(ndim)]
            previous = c
        self.encoder = nn.Sequential(*encoder, nn.Flatten(), nn.Linear(flat, params.latent_dim))

        decoder: list[nn.Module] = [nn.Linear(params.latent_dim, flat), activation(act),
                                    nn.Unflatten(1, self.bottom_shape)]
        previous = channels[-1]
        for c in reversed(channels):
            decoder += [transposed_conv(ndim, previous, c),
                        conv_block(ndim, [c, c, c], act, norm_kind)]
            previous = c
        decoder.append(conv(ndim, channels[0], params.in_channels, kernel_size=1))
        self.decoder = nn.Sequential(*decoder)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent vectors (N, latent_dim) of images (N, C_in, S, S[, S])."""
        expected = (self.in_channels,) + (self.input_size,) * self.ndim
        if tuple(x.shape[1:]) != expected:
            raise ParameterError("input_size", f"expected (N, {expected}), got {tuple(x.shape)}")
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructions (N, C_in, S, S[, S]) of latent vectors (N, latent_dim)."""
        return self.decoder(z)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The latent vector (N, latent_dim)."""
        return self.encode(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of ``x``."""
        return self.decode(self.encode(x))


@register_model("autoencoder")
def build(params: AutoencoderParams, in_channels: int, out_channels: int, ndim: int = 2,
          architecture: dict[str, Any] | None = None) -> Autoencoder:
    """Build an autoencoder; channels come from ``params.in_channels``."""
    return Autoencoder(params, ndim)
