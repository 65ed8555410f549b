"""Tunable U-Net (TUNet), DLSIA section 2.1, after Ronneberger et al. (2015).

Input (N, C_in, *spatial), 2 or 3 spatial dimensions; output (N, C_out, *spatial) logits. Any
input size works: the input is zero-padded to a multiple of 2**(depth-1) and the output cropped.

Level l (0-based) has ``c_l = round(cb * r**l)`` channels; its block is ``convs_per_level``
3x3 convolutions ``in -> h_l -> ... -> h_l -> c_l`` with ``h_l = round(c_l * rh)``, each
followed by normalization and the activation (convolutions carry a bias only without
normalization). The encoder max-pools by 2 between levels; the decoder up-samples level l+1
with a 2x2 transposed convolution ``c_{l+1} -> c_l``, concatenates the skip (2 c_l channels) and
applies a block back to c_l. A final 1x1 convolution maps c_0 to C_out. Dropout (channel-wise)
follows every block when ``dropout > 0``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from algorithms.errors import ParameterError
from algorithms.networks.layers import (
    check_ndim,
    conv,
    conv_block,
    dropout,
    hidden_channels,
    level_channels,
    max_pool,
    transposed_conv,
)
from algorithms.networks.params import TUNetParams
from algorithms.networks.zoo import register_model


def block_channels(c_in: int, c_out: int, hidden_rate: float, convs: int) -> list[int]:
    """Channel sequence of one level's convolution block."""
    hidden = hidden_channels(c_out, hidden_rate)
    return [c_in] + [hidden] * (convs - 1) + [c_out]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Zero-pad the spatial dims (at the end) to a multiple of ``multiple``; return the sizes."""
    sizes = tuple(x.shape[2:])
    pads: list[int] = []
    for size in reversed(sizes):
        pads += [0, (-size) % multiple]
    if any(pads):
        x = F.pad(x, pads)
    return x, sizes


def crop_to(x: torch.Tensor, sizes: tuple[int, ...]) -> torch.Tensor:
    """Crop the spatial dims of ``x`` to ``sizes``."""
    return x[(slice(None), slice(None), *(slice(0, s) for s in sizes))]


class TUNetEncoder(nn.Module):
    """Contracting half shared by TUNet and U-Net 3+: returns the features of every level."""

    def __init__(self, in_channels: int, params: TUNetParams, ndim: int) -> None:
        super().__init__()
        if params.depth < 1:
            raise ParameterError("depth", "must be >= 1")
        if params.base_channels < 1:
            raise ParameterError("base_channels", "must be >= 1")
        self.channels = level_channels(params.base_channels, params.growth_rate, params.depth)
        self.pool = max_pool(ndim)
        blocks = []
        previous = in_channels
        for c in self.channels:
            blocks.append(nn.Sequential(
                conv_block(ndim, block_channels(previous, c, params.hidden_rate,
                                                params.convs_per_level),
                           params.activation, params.normalization),
                dropout(ndim, params.dropout)))
            previous = c
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Features of levels 0..depth-1 (full resolution first)."""
        features = []
        for level, block in enumerate(self.blocks):
            if level:
                x = self.pool(x)
            x = block(x)
            features.append(x)
        return features


class TUNet(nn.Module):
    """Tunable U-Net; see the module docstring."""

    def __init__(self, in_channels: int, out_channels: int, params: TUNetParams | None = None,
                 ndim: int = 2) -> None:
        super().__init__()
        params = params or TUNetParams()
        self.ndim = check_ndim(ndim)
        self.depth = params.depth
        self.encoder = TUNetEncoder(in_channels, params, ndim)
        channels = self.encoder.channels
        self.ups = nn.ModuleList(transposed_conv(ndim, channels[level + 1], channels[level])
                                 for level in range(self.depth - 1))
        self.decoder = nn.ModuleList(
            nn.Sequential(
                conv_block(ndim, block_channels(2 * channels[level], channels[level],
                                                params.hidden_rate, params.convs_per_level),
                           params.activation, params.normalization),
                dropout(ndim, params.dropout))
            for level in range(self.depth - 1))
        self.head = conv(ndim, channels[0], out_channels, kernel_size=1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Full-resolution decoder features (N, c_0, *spatial) before the 1x1 head."""
        x, sizes = pad_to_multiple(x, 2 ** (self.depth - 1))
        skips = self.encoder(x)
        y = skips[-1]
        for level in reversed(range(self.depth - 1)):
            y = self.ups[level](y)
            y = self.decoder[level](torch.cat([skips[level], y], dim=1))
        return crop_to(y, sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, out_channels, *spatial)."""
        return self.head(self.forward_features(x))


@register_model("tunet")
def build(params: TUNetParams, in_channels: int, out_channels: int, ndim: int = 2,
          architecture: dict[str, Any] | None = None) -> TUNet:
    """Build a tunable U-Net from its parameter model."""
    return TUNet(in_channels, out_channels, params, ndim)
