"""MSDNet: Pelt & Sethian parameter count, dilation schedule, fast kernel equal to plain."""

from __future__ import annotations

import pytest
import torch

from algorithms.errors import ParameterError
from algorithms.networks import count_parameters, create_model
from algorithms.networks.msdnet import MSDNet, layer_dilations
from algorithms.networks.msdnet_fast import MAX_BLOCK, layer_blocks


def pelt_sethian_count(layers: int, width: int, c_in: int, c_out: int, ndim: int = 2) -> int:
    """Layer i: 3**ndim (c_in + i w) w weights + w biases; final 1x1: (c_in + d w) c_out + c_out."""
    taps = 3**ndim
    hidden = sum(taps * (c_in + i * width) * width + width for i in range(layers))
    return hidden + (c_in + layers * width) * c_out + c_out


def test_200_layer_msdnet_has_about_0_18_million_parameters() -> None:
    model = create_model("msdnet", {"layers": 200}, in_channels=1, out_channels=1)
    assert count_parameters(model) == pelt_sethian_count(200, 1, 1, 1) == 181_302


@pytest.mark.parametrize(
    ("layers", "width", "c_in", "c_out", "ndim"),
    [(100, 1, 1, 2, 2), (50, 1, 3, 4, 2), (10, 3, 2, 5, 2), (12, 1, 1, 2, 3), (5, 2, 2, 3, 3)],
)
def test_parameter_count_formula(layers: int, width: int, c_in: int, c_out: int,
                                 ndim: int) -> None:
    model = create_model("msdnet", {"layers": layers, "width": width}, c_in, c_out, ndim)
    assert count_parameters(model) == pelt_sethian_count(layers, width, c_in, c_out, ndim)


def test_dilation_schedules() -> None:
    assert layer_dilations(12, 5) == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]
    assert layer_dilations(7, 10, [1, 2, 4]) == [1, 2, 4, 1, 2, 4, 1]
    model = create_model("msdnet", {"layers": 4, "dilations": [3, 8]})
    assert [m.dilation for m in model.layers] == [(3, 3), (8, 8), (3, 3), (8, 8)]
    with pytest.raises(ParameterError) as error:
        MSDNet(1, 2, layers=0)
    assert error.value.field == "layers"
    with pytest.raises(ParameterError) as error:
        MSDNet(1, 2, layers=3, dilations=[2, 0])
    assert error.value.field == "dilations"


@pytest.mark.parametrize(
    ("ndim", "layers", "width", "c_in", "dilations", "shape"),
    [
        (2, 9, 1, 1, None, (3, 13, 17)),
        (2, 6, 2, 3, [1, 4, 20], (2, 9, 12)),  # dilation 20 reaches past the 9 x 12 image
        (3, 5, 1, 2, [1, 2, 3], (2, 6, 7, 5)),
    ],
)
def test_fast_kernel_matches_plain_formulation(ndim: int, layers: int, width: int, c_in: int,
                                               dilations: list[int] | None,
                                               shape: tuple[int, ...]) -> None:
    model = MSDNet(c_in, 3, layers=layers, width=width, max_dilation=4, dilations=dilations,
                   ndim=ndim).double()
    x = torch.randn(shape[0], c_in, *shape[1:], dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(shape[0], 3, *shape[1:], dtype=torch.float64)

    def run(implementation: str) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        model.implementation = implementation
        model.zero_grad()
        x.grad = None
        out = model(x)
        (out * upstream).sum().backward()
        return out.detach(), x.grad.clone(), [p.grad.clone() for p in model.parameters()]

    fast_out, fast_dx, fast_grads = run("fast")
    plain_out, plain_dx, plain_grads = run("plain")
    torch.testing.assert_close(fast_out, plain_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast_dx, plain_dx, rtol=1e-10, atol=1e-10)
    for fast, plain in zip(fast_grads, plain_grads, strict=True):
        torch.testing.assert_close(fast, plain, rtol=1e-10, atol=1e-10)


def test_fast_kernel_matches_plain_in_float32_without_input_grad() -> None:
    model = MSDNet(1, 2, layers=12, max_dilation=10)
    x = torch.randn(2, 1, 24, 24)
    outputs = {}
    grads = {}
    for implementation in ("fast", "plain"):
        model.implementation = implementation
        model.zero_grad()
        out = model(x)
        out.square().mean().backward()
        outputs[implementation] = out.detach()
        grads[implementation] = [p.grad.clone() for p in model.parameters()]
        with torch.no_grad():
            torch.testing.assert_close(model(x), out.detach())
    torch.testing.assert_close(outputs["fast"], outputs["plain"], rtol=1e-5, atol=1e-5)
    for fast, plain in zip(grads["fast"], grads["plain"], strict=True):
        torch.testing.assert_close(fast, plain, rtol=1e-4, atol=1e-5)


def test_non_relu_activation_uses_the_plain_path() -> None:
    model = create_model("msdnet", {"layers": 3, "activation": "tanh"})
    x = torch.randn(1, 1, 8, 8)
    features = model.forward_features(x)
    assert features.shape == (1, 4, 8, 8)
    assert features[:, 1:].abs().max() <= 1.0


def test_wrong_input_shape_is_reported() -> None:
    model = create_model("msdnet", {"layers": 3}, in_channels=2)
    with pytest.raises(ParameterError) as error:
        model(torch.zeros(1, 1, 8, 8))
    assert error.value.field == "input"


def test_layer_blocks_cover_every_layer_once() -> None:
    blocks = layer_blocks(50, taps=9, width=1, pixels=65536, itemsize=4)
    assert [i for block in blocks for i in block] == list(range(50))
    assert max(len(block) for block in blocks) <= MAX_BLOCK
    huge = layer_blocks(5, taps=27, width=1, pixels=2**24, itemsize=4)
    assert [len(block) for block in huge] == [1] * 5


def test_fast_kernel_with_small_blocks_matches_plain() -> None:
    # 3D float64 on 32^3: a layer's partial G is 27 * 32^3 * 8 bytes = 7 MB, so blocks of 3
    model = MSDNet(1, 2, layers=8, max_dilation=5, ndim=3).double()
    x = torch.randn(1, 1, 32, 32, 32, dtype=torch.float64)
    assert [len(b) for b in layer_blocks(8, 27, 1, 32**3, 8)] == [3, 3, 2]
    results = []
    for implementation in ("fast", "plain"):
        model.implementation = implementation
        model.zero_grad()
        out = model(x)
        out.square().sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    for fast, plain in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(fast, plain, rtol=1e-10, atol=1e-10)


def test_fast_kernel_under_cpu_autocast_matches_float32() -> None:
    model = MSDNet(1, 2, layers=6)
    x = torch.randn(1, 1, 16, 16)
    with torch.no_grad():
        reference = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = model(x)
    torch.testing.assert_close(mixed.float(), reference, rtol=5e-2, atol=5e-2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        model(x).float().sum().backward()
    assert all(p.grad is not None for p in model.parameters())
