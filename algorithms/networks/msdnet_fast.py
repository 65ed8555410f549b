"""Memory-lean MSDNet kernel: one preallocated feature buffer and a hand-written backward.

The plain MSDNet concatenates every layer's output to all earlier ones and lets autograd keep
each concatenation: O(layers^2) memory and one badly-shaped convolution per layer. Here the
features live in one buffer of shape (C_total, N, *spatial) that each layer writes into in place,
and a dilated 3x3 convolution with one output channel over ``k`` input channels is computed as

    G = W (taps*width x k) @ buffer[:k] (k x pixels)     one GEMM, taps = 3**ndim
    out = bias + sum over taps of G[tap] shifted by (tap offset * dilation)

with zero padding outside the image (as ``Conv2d(padding=dilation)``). The backward pass walks
the layers in reverse with the same two primitives: un-shift the output gradient into ``dG``,
then ``dW = dG @ buffer[:k].T`` and ``grad_buffer[:k] += W.T @ dG``. Only the buffer (the
activations themselves) is stored, so memory is O(layers) and every step is a large GEMM or a
memory-bound add. The ReLU derivative is read from the stored output (> 0).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch.autograd.function import once_differentiable

Offsets = tuple[int, ...]


def tap_offsets(ndim: int, dilation: int) -> list[Offsets]:
    """Offsets of the 3**ndim kernel taps in ``weight.reshape(..., -1)`` order."""
    return [tuple((k - 1) * dilation for k in ks) for ks in itertools.product(range(3),
                                                                                repeat=ndim)]


def _shift_slices(offset: Offsets, sizes: Sequence[int]) -> tuple[tuple[slice, ...],
                                                                   tuple[slice, ...]] | None:
    """Slices (destination, source) with ``dst[y] = src[y + offset]``; None if out of view."""
    dst: list[slice] = []
    src: list[slice] = []
    for o, size in zip(offset, sizes, strict=True):
        if abs(o) >= size:
            return None
        dst.append(slice(max(0, -o), size - max(0, o)))
        src.append(slice(max(0, o), size + min(0, o)))
    return tuple(dst), tuple(src)


def _weight_matrix(weight: torch.Tensor) -> torch.Tensor:
    """(width, k, 3, 3[, 3]) -> (taps*width, k), row = tap * width + output channel."""
    width, k = weight.shape[:2]
    return weight.reshape(width, k, -1).permute(2, 0, 1).reshape(-1, k)


def _layer_forward(buffer: torch.Tensor, start: int, width: int, weight: torch.Tensor,
                   bias: torch.Tensor, dilation: int) -> None:
    """Write layer output channels ``buffer[start:start+width]`` from ``buffer[:start]``."""
    spatial = buffer.shape[2:]
    ndim = len(spatial)
    pixels = buffer[0].numel()
    taps = tap_offsets(ndim, dilation)
    g = torch.mm(_weight_matrix(weight), buffer[:start].view(start, pixels))
    g = g.view(len(taps), width, *buffer.shape[1:])
    out = buffer[start:start + width]
    center = len(taps) // 2
    torch.add(g[center], bias.view(width, *([1] * (ndim + 1))), out=out)
    lead = (slice(None), slice(None))
    for index, offset in enumerate(taps):
        if index == center:
            continue
        slices = _shift_slices(offset, spatial)
        if slices is not None:
            dst, src = slices
            out[lead + dst] += g[index][lead + src]
    out.relu_()


def msd_forward(x: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                dilations: Sequence[int]) -> torch.Tensor:
    """All MSDNet features (input then layer outputs) as a (C_total, N, *spatial) buffer."""
    width = weights[0].shape[0]
    c_in = x.shape[1]
    total = c_in + width * len(weights)
    buffer = x.new_empty((total, x.shape[0], *x.shape[2:]))
    buffer[:c_in].copy_(x.transpose(0, 1))
    for i, (weight, bias, dilation) in enumerate(zip(weights, biases, dilations, strict=True)):
        _layer_forward(buffer, c_in + i * width, width, weight, bias, dilation)
    return buffer


class _MSDFeatures(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, dilations: tuple[int, ...], *tensors: torch.Tensor,
                ) -> torch.Tensor:
        n_layers = len(dilations)
        weights, biases = tensors[:n_layers], tensors[n_layers:]
        buffer = msd_forward(x, weights, biases, dilations)
        ctx.dilations = dilations
        ctx.c_in = x.shape[1]
        ctx.save_for_backward(buffer, *weights)
        return buffer

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_buffer: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        buffer, *weights = ctx.saved_tensors
        dilations = ctx.dilations
        c_in = ctx.c_in
        width = weights[0].shape[0]
        spatial = buffer.shape[2:]
        ndim = len(spatial)
        pixels = buffer[0].numel()
        grad = grad_buffer.contiguous().clone()
        taps_count = 3**ndim
        center = taps_count // 2
        dg = buffer.new_empty((taps_count, width, *buffer.shape[1:]))
        lead = (slice(None), slice(None))
        weight_grads: list[torch.Tensor] = [None] * len(weights)  # type: ignore[list-item]
        bias_grads: list[torch.Tensor] = [None] * len(weights)  # type: ignore[list-item]
        for i in reversed(range(len(weights))):
            start = c_in + i * width
            dz = grad[start:start + width]
            dz.mul_(buffer[start:start + width] > 0)
            bias_grads[i] = dz.sum(dim=tuple(range(1, dz.dim())))
            dg.zero_()
            for index, offset in enumerate(tap_offsets(ndim, dilations[i])):
                if index == center:
                    dg[index].copy_(dz)
                    continue
                slices = _shift_slices(offset, spatial)
                if slices is not None:
                    dst, src = slices
                    dg[index][lead + src] = dz[lead + dst]
            dg_matrix = dg.view(taps_count * width, pixels)
            features = buffer[:start].view(start, pixels)
            grad_matrix = torch.mm(dg_matrix, features.t())
            weight = weights[i]
            weight_grads[i] = (grad_matrix.view(taps_count, width, start).permute(1, 2, 0)
                               .reshape(weight.shape))
            grad[:start].view(start, pixels).addmm_(_weight_matrix(weight).t(), dg_matrix)
        grad_x = grad[:c_in].transpose(0, 1).contiguous() if ctx.needs_input_grad[0] else None
        return (grad_x, None, *weight_grads, *bias_grads)


def msd_features(x: torch.Tensor, weights: Sequence[torch.Tensor],
                 biases: Sequence[torch.Tensor], dilations: Sequence[int]) -> torch.Tensor:
    """Differentiable MSDNet features, (C_total, N, *spatial), ReLU activations."""
    if not torch.is_grad_enabled() or not (
        x.requires_grad or any(w.requires_grad for w in weights)
    ):
        with torch.no_grad():
            return msd_forward(x, weights, biases, dilations)
    return _MSDFeatures.apply(x, tuple(dilations), *weights, *biases)
