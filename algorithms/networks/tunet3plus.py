"""U-Net 3+ with full-scale skip connections (Huang et al., ICASSP 2020), TUNet knobs.

Input (N, C_in, *spatial), 2 or 3 spatial dimensions; output (N, C_out, *spatial) logits.
The encoder is the TUNet encoder (levels of ``round(cb * r**l)`` channels). Decoder level l
(from depth-2 down to 0) gathers every scale: encoder levels i < l max-pooled by 2**(l-i),
encoder level l itself, and the coarser decoder levels j > l (the bottom encoder level standing
for decoder depth-1) up-sampled (bi/trilinear) by 2**(j-l). Each of these ``depth`` inputs goes
through a 3x3 conv to ``cb`` channels (+ norm + activation); the concatenation
(``depth * cb`` channels) is fused by one more 3x3 conv block. A 1x1 conv maps the level-0
decoder to C_out. Inputs are padded to a multiple of 2**(depth-1) and the output cropped.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from algorithms.networks.layers import check_ndim, conv, conv_block, dropout
from algorithms.networks.params import TUNet3PlusParams
from algorithms.networks.tunet import TUNetEncoder, crop_to, pad_to_multiple
from algorithms.networks.zoo import register_model


class _Resample(nn.Module):
    """Max-pool (factor < 1) or interpolate (factor > 1) by a power of two, then a conv block."""

    def __init__(self, ndim: int, scale: int, c_in: int, c_out: int, activation_name: str,
                 normalization: str) -> None:
        super().__init__()
        self.ndim = ndim
        self.scale = scale  # > 0: up-sample by 2**scale, < 0: pool by 2**-scale, 0: same
        self.block = conv_block(ndim, [c_in, c_out], activation_name, normalization)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale < 0:
            factor = 2 ** (-self.scale)
            pool = F.max_pool2d if self.ndim == 2 else F.max_pool3d
            x = pool(x, kernel_size=factor, stride=factor)
        elif self.scale > 0:
            mode = "bilinear" if self.ndim == 2 else "trilinear"
            x = F.interpolate(x, scale_factor=2**self.scale, mode=mode, align_corners=False)
        return self.block(x)


class TUNet3Plus(nn.Module):
    """U-Net 3+; see the module docstring."""

    def __init__(self, in_channels: int, out_channels: int,
                 params: TUNet3PlusParams | None = None, ndim: int = 2) -> None:
        super().__init__()
        params = params or TUNet3PlusParams()
        self.ndim = check_ndim(ndim)
        self.depth = depth = params.depth
        self.encoder = TUNetEncoder(in_channels, params, ndim)
        channels = self.encoder.channels
        cat = params.base_channels
        fused = cat * depth
        act, norm_kind = params.activation, params.normalization
        self.gather = nn.ModuleList()
        self.fuse = nn.ModuleList()
        for level in range(depth - 1):  # decoder level `level`, built bottom-up below
            sources = nn.ModuleList()
            for i in range(level + 1):
                sources.append(_Resample(ndim, i - level, channels[i], cat, act, norm_kind))
            for j in range(level + 1, depth):
                c_j = channels[-1] if j == depth - 1 else fused
                sources.append(_Resample(ndim, j - level, c_j, cat, act, norm_kind))
            self.gather.append(sources)
            self.fuse.append(nn.Sequential(conv_block(ndim, [fused, fused], act, norm_kind),
                                           dropout(ndim, params.dropout)))
        self.head = conv(ndim, fused if depth > 1 else channels[0], out_channels, kernel_size=1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Level-0 decoder features before the 1x1 head."""
        x, sizes = pad_to_multiple(x, 2 ** (self.depth - 1))
        encoded = self.encoder(x)
        decoded: dict[int, torch.Tensor] = {self.depth - 1: encoded[-1]}
        for level in reversed(range(self.depth - 1)):
            inputs = encoded[: level + 1] + [decoded[j] for j in range(level + 1, self.depth)]
            gathered = [source(t) for source, t in zip(self.gather[level], inputs, strict=True)]
            decoded[level] = self.fuse[level](torch.cat(gathered, dim=1))
        return crop_to(decoded[0], sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, out_channels, *spatial)."""
        return self.head(self.forward_features(x))


@register_model("tunet3plus")
def build(params: TUNet3PlusParams, in_channels: int, out_channels: int, ndim: int = 2,
          architecture: dict[str, Any] | None = None) -> TUNet3Plus:
    """Build a U-Net 3+ from its parameter model."""
    return TUNet3Plus(in_channels, out_channels, params, ndim)
