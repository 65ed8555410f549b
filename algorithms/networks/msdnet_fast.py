"""Memory-lean MSDNet kernel: one preallocated feature buffer and a hand-written backward.

The plain MSDNet concatenates every layer's output to all earlier ones and lets autograd keep
each concatenation: O(layers^2) memory and one badly-shaped convolution per layer. Here the
features live in one buffer of shape (N, C_total, *spatial) that each layer writes into in place,
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


def _layer_forward(sample: torch.Tensor, start: int, width: int, weight_matrix: torch.Tensor,
                   bias: torch.Tensor, dilation: int) -> None:
    """Write one sample's layer output ``sample[start:start+width]`` from ``sample[:start]``."""
    spatial = sample.shape[1:]
    ndim = len(spatial)
    taps = tap_offsets(ndim, dilation)
    g = torch.mm(weight_matrix, sample[:start].view(start, -1))
    g = g.view(len(taps), width, *spatial)
    out = sample[start:start + width]
    center = len(taps) // 2
    torch.add(g[center], bias.view(width, *([1] * ndim)), out=out)
    for index, offset in enumerate(taps):
        if index == center:
            continue
        slices = _shift_slices(offset, spatial)
        if slices is not None:
            dst, src = slices
            out[(slice(None), *dst)] += g[index][(slice(None), *src)]
    out.relu_()


def msd_forward(x: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                dilations: Sequence[int]) -> torch.Tensor:
    """All MSDNet features (input then layer outputs), (N, C_total, *spatial).

    Samples are processed one at a time so that one sample's features stay in the CPU cache
    while every layer reads them.
    """
    width = weights[0].shape[0]
    c_in = x.shape[1]
    total = c_in + width * len(weights)
    buffer = x.new_empty((x.shape[0], total, *x.shape[2:]))
    buffer[:, :c_in].copy_(x)
    matrices = [_weight_matrix(w) for w in weights]
    for sample in buffer:
        for i, (matrix, bias, dilation) in enumerate(zip(matrices, biases, dilations,
                                                         strict=True)):
            _layer_forward(sample, c_in + i * width, width, matrix, bias, dilation)
    return buffer


def _sample_backward(sample: torch.Tensor, grad: torch.Tensor, c_in: int,
                     matrices: Sequence[torch.Tensor], dilations: Sequence[int],
                     weight_grads: Sequence[torch.Tensor], bias_grads: Sequence[torch.Tensor],
                     dg: torch.Tensor) -> None:
    """Accumulate one sample's weight/bias gradients; ``grad`` becomes d loss / d features."""
    spatial = sample.shape[1:]
    ndim = len(spatial)
    taps_count, width = dg.shape[:2]
    center = taps_count // 2
    lead = (slice(None),)
    dg_matrix = dg.view(taps_count * width, -1)
    for i in reversed(range(len(matrices))):
        start = c_in + i * width
        dz = grad[start:start + width]
        dz.mul_(sample[start:start + width] > 0)
        bias_grads[i].add_(dz.sum(dim=tuple(range(1, dz.dim()))))
        dg.zero_()
        for index, offset in enumerate(tap_offsets(ndim, dilations[i])):
            if index == center:
                dg[index].copy_(dz)
                continue
            slices = _shift_slices(offset, spatial)
            if slices is not None:
                dst, src = slices
                dg[index][lead + src] = dz[lead + dst]
        weight_grads[i].addmm_(dg_matrix, sample[:start].view(start, -1).t())
        grad[:start].view(start, -1).addmm_(matrices[i].t(), dg_matrix)


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
        c_in = ctx.c_in
        width = weights[0].shape[0]
        taps_count = 3 ** (buffer.dim() - 2)
        grad = grad_buffer.contiguous().clone()
        matrices = [_weight_matrix(w) for w in weights]
        matrix_grads = [torch.zeros_like(m) for m in matrices]
        bias_grads = [buffer.new_zeros(width) for _ in weights]
        dg = buffer.new_empty((taps_count, width, *buffer.shape[2:]))
        for sample, sample_grad in zip(buffer, grad, strict=True):
            _sample_backward(sample, sample_grad, c_in, matrices, ctx.dilations, matrix_grads,
                             bias_grads, dg)
        weight_grads = [
            g.view(taps_count, width, -1).permute(1, 2, 0).reshape(w.shape)
            for g, w in zip(matrix_grads, weights, strict=True)
        ]
        grad_x = grad[:, :c_in] if ctx.needs_input_grad[0] else None
        return (grad_x, None, *weight_grads, *bias_grads)


def msd_features(x: torch.Tensor, weights: Sequence[torch.Tensor],
                 biases: Sequence[torch.Tensor], dilations: Sequence[int]) -> torch.Tensor:
    """Differentiable MSDNet features, (N, C_total, *spatial), ReLU activations."""
    if not torch.is_grad_enabled() or not (
        x.requires_grad or any(w.requires_grad for w in weights)
    ):
        with torch.no_grad():
            return msd_forward(x, weights, biases, dilations)
    return _MSDFeatures.apply(x, tuple(dilations), *weights, *biases)
