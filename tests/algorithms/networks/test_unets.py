"""TUNet and U-Net 3+: parameter counts from the conv layers, padding of odd sizes."""

from __future__ import annotations

import pytest
import torch

from algorithms.networks import count_parameters, create_model


def conv_count(c_in: int, c_out: int, kernel: int, ndim: int, bias: bool) -> int:
    return kernel**ndim * c_in * c_out + (c_out if bias else 0)


def unit(c_in: int, c_out: int, ndim: int, normalization: str) -> int:
    """One 3x3 conv + its normalization (batch: 2 c_out; none: conv bias instead)."""
    plain = normalization == "none"
    return conv_count(c_in, c_out, 3, ndim, plain) + (0 if plain else 2 * c_out)


def tunet_count(depth: int, base: int, growth: float, c_in: int, c_out: int, ndim: int,
                normalization: str) -> int:
    """Two 3x3 convs per level in the encoder and the decoder, 2x transposed convs, 1x1 head."""
    c = [round(base * growth**level) for level in range(depth)]
    total = 0
    previous = c_in
    for level in range(depth):
        total += unit(previous, c[level], ndim, normalization)
        total += unit(c[level], c[level], ndim, normalization)
        previous = c[level]
    for level in range(depth - 1):
        total += conv_count(c[level + 1], c[level], 2, ndim, bias=True)
        total += unit(2 * c[level], c[level], ndim, normalization)
        total += unit(c[level], c[level], ndim, normalization)
    return total + conv_count(c[0], c_out, 1, ndim, bias=True)


def test_tunet_depth2_count_by_hand() -> None:
    # encoder: (9*1*4+4) + (9*4*4+4) + (9*4*8+8) + (9*8*8+8) = 40 + 148 + 296 + 584
    # decoder: up 4*8*4+4 = 132, convs (9*8*4+4) + (9*4*4+4) = 292 + 148; head 4*2+2 = 10
    model = create_model("tunet", {"depth": 2, "base_channels": 4, "normalization": "none"})
    assert count_parameters(model) == 1650


@pytest.mark.parametrize(
    ("depth", "base", "growth", "ndim", "normalization"),
    [(4, 64, 2.0, 2, "batch"), (3, 16, 2.0, 2, "none"), (3, 8, 1.5, 3, "batch"),
     (2, 4, 2.0, 3, "none")],
)
def test_tunet_count_formula(depth: int, base: int, growth: float, ndim: int,
                             normalization: str) -> None:
    params = {"depth": depth, "base_channels": base, "growth_rate": growth,
              "normalization": normalization}
    model = create_model("tunet", params, in_channels=1, out_channels=2, ndim=ndim)
    assert count_parameters(model) == tunet_count(depth, base, growth, 1, 2, ndim,
                                                  normalization)


def test_paper_default_tunet_is_about_7_7_million() -> None:
    # d = 4, cb = 64, r = 2 (Ronneberger defaults kept by DLSIA): ~7.7 M with batch norm.
    assert tunet_count(4, 64, 2.0, 1, 2, 2, "batch") == count_parameters(create_model("tunet"))
    assert 7.5e6 < count_parameters(create_model("tunet")) < 8.0e6


def test_hidden_rate_and_conv_count_change_the_blocks() -> None:
    base = create_model("tunet", {"depth": 2, "base_channels": 4, "normalization": "none"})
    hidden = create_model("tunet", {"depth": 2, "base_channels": 4, "normalization": "none",
                                    "hidden_rate": 2.0})
    deeper = create_model("tunet", {"depth": 2, "base_channels": 4, "normalization": "none",
                                    "convs_per_level": 3})
    # rh = 2: level 0 is 1 -> 8 -> 4 (80 + 292), level 1 is 4 -> 16 -> 8 (592 + 1160),
    # decoder: up 132, 8 -> 8 -> 4 (584 + 292), head 10
    assert count_parameters(hidden) == 80 + 292 + 592 + 1160 + 132 + 584 + 292 + 10
    # a third conv per level adds c -> c at encoder levels 0, 1 and decoder level 0
    assert count_parameters(deeper) == count_parameters(base) + 2 * (9 * 4 * 4 + 4) + (
        9 * 8 * 8 + 8)


def tunet3plus_count(depth: int, base: int, c_in: int, c_out: int, ndim: int) -> int:
    """Encoder as TUNet; each decoder level: depth gather convs to cb, one fuse conv (batch)."""
    c = [base * 2**level for level in range(depth)]
    total = 0
    previous = c_in
    for level in range(depth):
        total += unit(previous, c[level], ndim, "batch") + unit(c[level], c[level], ndim, "batch")
        previous = c[level]
    fused = base * depth
    for level in range(depth - 1):
        for i in range(level + 1):
            total += unit(c[i], base, ndim, "batch")
        for j in range(level + 1, depth):
            total += unit(c[-1] if j == depth - 1 else fused, base, ndim, "batch")
        total += unit(fused, fused, ndim, "batch")
    return total + conv_count(fused, c_out, 1, ndim, bias=True)


@pytest.mark.parametrize(("depth", "base", "ndim"), [(3, 4, 2), (4, 8, 2), (2, 3, 3)])
def test_tunet3plus_count_formula(depth: int, base: int, ndim: int) -> None:
    model = create_model("tunet3plus", {"depth": depth, "base_channels": base}, 1, 2, ndim)
    assert count_parameters(model) == tunet3plus_count(depth, base, 1, 2, ndim)


@pytest.mark.parametrize("name", ["tunet", "tunet3plus"])
def test_any_input_size_keeps_its_shape(name: str) -> None:
    model = create_model(name, {"depth": 4, "base_channels": 2, "normalization": "group"}).eval()
    for shape in [(1, 1, 8, 8), (1, 1, 13, 21), (2, 1, 3, 5)]:
        with torch.no_grad():
            assert model(torch.randn(*shape)).shape == (shape[0], 2, *shape[2:])
