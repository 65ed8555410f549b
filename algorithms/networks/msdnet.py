"""Mixed-scale dense network (MSDNet), Pelt & Sethian, PNAS 115, 254 (2018).

Input (N, C_in, *spatial) with 2 or 3 spatial dimensions; output (N, C_out, *spatial) logits.
Layer i (0-based) applies a 3x3 (3x3x3) convolution of dilation ``d_i`` to the input and all
earlier layers' outputs (``C_in + i * width`` channels), adds a bias and a ReLU, producing
``width`` channels. The final layer is a 1x1 convolution of all ``C_in + layers * width``
channels. Hyperparameters: ``layers`` (depth d), ``width``, ``max_dilation`` (d_i = 1 +
i mod max_dilation) or a custom ``dilations`` list cycled over the layers.

Parameter count (Pelt & Sethian): sum_i [9 (C_in + i w) w + w] + (C_in + d w) C_out + C_out,
e.g. 181,302 for d = 200, w = 1, C_in = C_out = 1 (DLSIA's "~0.18 million").

Two implementations compute the same function with the same parameters: ``"plain"``
(concatenate and convolve, autograd stores every concatenation) and ``"fast"`` (default; see
:mod:`algorithms.networks.msdnet_fast`), which needs ReLU and falls back to plain otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from algorithms.errors import ParameterError
from algorithms.networks.layers import activation, check_ndim, conv
from algorithms.networks.msdnet_fast import msd_features
from algorithms.networks.params import MSDNetParams
from algorithms.networks.zoo import register_model

Implementation = Literal["fast", "plain"]


def layer_dilations(layers: int, max_dilation: int = 10,
                    dilations: Sequence[int] | None = None) -> list[int]:
    """Dilation of each layer: a custom list cycled, else ``1 + i mod max_dilation``."""
    if layers < 1:
        raise ParameterError("layers", "must be >= 1")
    if dilations:
        if any(d < 1 for d in dilations):
            raise ParameterError("dilations", "every dilation must be >= 1")
        return [int(dilations[i % len(dilations)]) for i in range(layers)]
    if max_dilation < 1:
        raise ParameterError("max_dilation", "must be >= 1")
    return [1 + i % max_dilation for i in range(layers)]


class MSDNet(nn.Module):
    """Mixed-scale dense network; see the module docstring."""

    def __init__(self, in_channels: int, out_channels: int, layers: int = 100, width: int = 1,
                 max_dilation: int = 10, dilations: Sequence[int] | None = None,
                 activation_name: str = "relu", ndim: int = 2,
                 implementation: Implementation = "fast") -> None:
        super().__init__()
        if width < 1:
            raise ParameterError("width", "must be >= 1")
        check_ndim(ndim)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.width = width
        self.ndim = ndim
        self.dilations = layer_dilations(layers, max_dilation, dilations)
        self.activation_name = activation_name
        self.activation = activation(activation_name)
        self.implementation: Implementation = implementation
        self.layers = nn.ModuleList(
            conv(ndim, in_channels + i * width, width, 3, dilation=d)
            for i, d in enumerate(self.dilations)
        )
        self.final = conv(ndim, in_channels + layers * width, out_channels, kernel_size=1)

    @property
    def feature_channels(self) -> int:
        """Channels of :meth:`forward_features`: input plus every layer's output."""
        return self.in_channels + len(self.layers) * self.width

    def _plain_features(self, x: torch.Tensor) -> torch.Tensor:
        features = x
        for layer in self.layers:
            features = torch.cat([features, self.activation(layer(features))], dim=1)
        return features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """All feature maps (N, C_in + layers*width, *spatial) that the final layer mixes."""
        if self.implementation == "fast" and self.activation_name == "relu":
            return msd_features(x, [m.weight for m in self.layers],
                                [m.bias for m in self.layers], self.dilations)
        return self._plain_features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, out_channels, *spatial)."""
        if x.dim() != self.ndim + 2 or x.shape[1] != self.in_channels:
            raise ParameterError(
                "input", f"expected (N, {self.in_channels}, {self.ndim} spatial dims), "
                         f"got {tuple(x.shape)}")
        return self.final(self.forward_features(x))


@register_model("msdnet")
def build(params: MSDNetParams, in_channels: int, out_channels: int, ndim: int = 2,
          architecture: dict[str, Any] | None = None) -> MSDNet:
    """Build an MSDNet from its parameter model."""
    return MSDNet(in_channels, out_channels, layers=params.layers, width=params.width,
                  max_dilation=params.max_dilation, dilations=params.dilations,
                  activation_name=params.activation, ndim=ndim)
