"""Layer factories shared by the architectures, so 2D and 3D share one implementation."""

from __future__ import annotations

import math

from torch import nn

from algorithms.errors import ParameterError

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


def check_ndim(ndim: int) -> int:
    """Return ``ndim`` if it is 2 or 3, else raise ParameterError."""
    if ndim not in (2, 3):
        raise ParameterError("ndim", f"must be 2 or 3, not {ndim}")
    return ndim


def conv(ndim: int, in_channels: int, out_channels: int, kernel_size: int = 3,
         dilation: int = 1, stride: int = 1, bias: bool = True) -> nn.Module:
    """A 'same'-padded (for stride 1) convolution in ``ndim`` spatial dimensions."""
    cls = nn.Conv2d if check_ndim(ndim) == 2 else nn.Conv3d
    padding = dilation * (kernel_size - 1) // 2
    return cls(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
               dilation=dilation, bias=bias)


def transposed_conv(ndim: int, in_channels: int, out_channels: int) -> nn.Module:
    """A 2x up-sampling transposed convolution (kernel 2, stride 2)."""
    cls = nn.ConvTranspose2d if check_ndim(ndim) == 2 else nn.ConvTranspose3d
    return cls(in_channels, out_channels, kernel_size=2, stride=2)


def max_pool(ndim: int, factor: int = 2) -> nn.Module:
    """Max pooling by ``factor`` in every spatial dimension."""
    cls = nn.MaxPool2d if check_ndim(ndim) == 2 else nn.MaxPool3d
    return cls(kernel_size=factor, stride=factor)


def group_count(channels: int, max_groups: int = 8) -> int:
    """Largest number of groups <= ``max_groups`` that divides ``channels``."""
    return max(g for g in range(1, max_groups + 1) if channels % g == 0)


def norm(ndim: int, kind: str, channels: int) -> nn.Module:
    """Normalization layer: ``batch``, ``instance``, ``group`` or ``none`` (identity)."""
    check_ndim(ndim)
    if kind == "batch":
        return nn.BatchNorm2d(channels) if ndim == 2 else nn.BatchNorm3d(channels)
    if kind == "instance":
        cls = nn.InstanceNorm2d if ndim == 2 else nn.InstanceNorm3d
        return cls(channels, affine=True)
    if kind == "group":
        return nn.GroupNorm(group_count(channels), channels)
    if kind == "none":
        return nn.Identity()
    raise ParameterError("normalization", f"unknown normalization {kind!r}")


def activation(name: str) -> nn.Module:
    """The activation module called ``name``."""
    if name not in _ACTIVATIONS:
        raise ParameterError("activation", f"unknown activation {name!r}")
    return _ACTIVATIONS[name]()


def dropout(ndim: int, p: float) -> nn.Module:
    """Channel dropout with probability ``p`` (identity when 0)."""
    if p <= 0:
        return nn.Identity()
    return nn.Dropout2d(p) if ndim == 2 else nn.Dropout3d(p)


def conv_block(ndim: int, channels: list[int], activation_name: str, normalization: str,
               ) -> nn.Sequential:
    """Chain of 3x3 conv -> norm -> activation through ``channels`` (first = input)."""
    modules: list[nn.Module] = []
    for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
        modules += [conv(ndim, c_in, c_out, bias=normalization == "none"),
                    norm(ndim, normalization, c_out), activation(activation_name)]
    return nn.Sequential(*modules)


def level_channels(base_channels: int, growth_rate: float, depth: int) -> list[int]:
    """Channels of each level: ``round(cb * r**level)``, at least 1."""
    return [max(1, int(round(base_channels * growth_rate**level))) for level in range(depth)]


def hidden_channels(channels: int, hidden_rate: float) -> int:
    """Channels between the convolutions of a level: ``round(c * rh)``, at least 1."""
    return max(1, int(math.floor(channels * hidden_rate + 0.5)))
