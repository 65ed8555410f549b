"""Memory-lean MSDNet kernel: one preallocated feature buffer and a hand-written backward.

The plain MSDNet concatenates every layer's output to all earlier ones and lets autograd keep
each concatenation: O(layers^2) memory and one badly-shaped convolution per layer. Here the
features live in one buffer of shape (N, C_total, *spatial) that each layer writes into in place,
and a dilated 3x3 convolution with ``width`` output channels over ``k`` input channels is

    G = W (taps*width x k) @ features[:k] (k x pixels)     a GEMM, taps = 3**ndim
    out = bias + sum over taps of G[tap] shifted by (tap offset * dilation)

with zero padding outside the image (as ``Conv2d(padding=dilation)``). The backward pass walks
the layers in reverse with the same primitives: un-shift the output gradient into ``dG``, then
``dW = dG @ features[:k].T`` and ``grad[:k] += W.T @ dG``. Only the buffer (the activations
themselves) is stored, so memory is O(layers); the ReLU derivative is read from it (> 0).

Two things keep it fast on a CPU. Samples are processed one at a time, so one sample's features
stay in cache. Layers are processed in blocks of a few: the part of every layer of a block that
reads the channels computed *before* the block is one GEMM for the whole block (forward: the
stacked W of the block times the features; backward: ``grad[:k0] += W_block.T @ dG_block`` and
``dW_block = dG_block @ features[:k0].T``), so the O(layers^2) traffic over earlier channels
is done once per block instead of once per layer, with GEMM shapes that run near peak. Only the
few channels produced inside a block are handled layer by layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch.autograd.function import once_differentiable

Offsets = tuple[int, ...]
BLOCK_BYTES = 24 * 2**20  # partial G of one block of layers for one sample (~L3-sized)
MAX_BLOCK = 8


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


def layer_blocks(layers: int, taps: int, width: int, pixels: int, itemsize: int,
                 ) -> list[range]:
    """Consecutive blocks of layers whose partial G (taps*width*pixels each) fits the budget."""
    per_layer = taps * width * pixels * itemsize
    size = max(1, min(MAX_BLOCK, BLOCK_BYTES // max(per_layer, 1)))
    return [range(start, min(start + size, layers)) for start in range(0, layers, size)]


def _combine_taps(g: torch.Tensor, out: torch.Tensor, bias: torch.Tensor,
                  dilation: int) -> None:
    """``out = relu(bias + sum_taps shift(g[tap]))``; g is (taps, width, *spatial)."""
    spatial = out.shape[1:]
    taps = tap_offsets(len(spatial), dilation)
    center = len(taps) // 2
    torch.add(g[center], bias.view(-1, *([1] * len(spatial))), out=out)
    for index, offset in enumerate(taps):
        slices = _shift_slices(offset, spatial) if index != center else None
        if slices is not None:
            dst, src = slices
            out[(slice(None), *dst)] += g[index][(slice(None), *src)]
    out.relu_()


def _uncombine_taps(dz: torch.Tensor, dg: torch.Tensor, dilation: int) -> None:
    """Adjoint of the tap shifts: ``dg[tap]`` = ``dz`` moved back by the tap's offset."""
    spatial = dz.shape[1:]
    taps = tap_offsets(len(spatial), dilation)
    center = len(taps) // 2
    dg[center].copy_(dz)
    for index, offset in enumerate(taps):
        if index == center:
            continue
        slices = _shift_slices(offset, spatial)
        if slices is None:
            dg[index].zero_()
            continue
        dst, src = slices
        dg[index][(slice(None), *src)] = dz[(slice(None), *dst)]
        for axis, (kept, size) in enumerate(zip(src, spatial, strict=True)):
            # zero only the border the shift leaves uncovered (the workspace is reused)
            lead = (slice(None),) * (axis + 1)
            if kept.start > 0:
                dg[index][(*lead, slice(0, kept.start))] = 0
            if kept.stop < size:
                dg[index][(*lead, slice(kept.stop, size))] = 0


def _workspace(like: torch.Tensor, blocks: Sequence[range], rows: int) -> torch.Tensor:
    """One (largest block, rows, pixels) scratch tensor, allocated once per call."""
    return like.new_empty((max(len(b) for b in blocks), rows, like[0, 0].numel()))


def _sample_forward(sample: torch.Tensor, c_in: int, width: int,
                    matrices: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                    dilations: Sequence[int], blocks: Sequence[range],
                    workspace: torch.Tensor) -> None:
    """Fill one sample's feature channels ``sample[c_in:]`` layer by layer.

    ``workspace`` (max block, taps*width, pixels) is reused for every block and sample.
    """
    spatial = sample.shape[1:]
    flat = sample.view(sample.shape[0], -1)
    rows = matrices[0].shape[0]
    taps = rows // width
    for block in blocks:
        k0 = c_in + block.start * width
        stacked = torch.cat([matrices[i][:, :k0] for i in block])
        partial = workspace[: len(block)]
        torch.mm(stacked, flat[:k0], out=partial.view(len(block) * rows, -1))
        for j, i in enumerate(block):
            k = c_in + i * width
            g = partial[j]
            if k > k0:
                g.addmm_(matrices[i][:, k0:k], flat[k0:k])
            _combine_taps(g.view(taps, width, *spatial), sample[k:k + width], biases[i],
                          dilations[i])


def msd_forward(x: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                dilations: Sequence[int]) -> torch.Tensor:
    """All MSDNet features (input then layer outputs), (N, C_total, *spatial)."""
    width = weights[0].shape[0]
    c_in = x.shape[1]
    total = c_in + width * len(weights)
    buffer = x.new_empty((x.shape[0], total, *x.shape[2:]))
    buffer[:, :c_in].copy_(x)
    matrices = [_weight_matrix(w) for w in weights]
    blocks = layer_blocks(len(weights), 3 ** (x.dim() - 2), width, x[0, 0].numel(),
                          x.element_size())
    workspace = _workspace(x, blocks, matrices[0].shape[0])
    for sample in buffer:
        _sample_forward(sample, c_in, width, matrices, biases, dilations, blocks, workspace)
    return buffer


def _sample_backward(sample: torch.Tensor, grad: torch.Tensor, c_in: int, width: int,
                     matrices: Sequence[torch.Tensor], dilations: Sequence[int],
                     blocks: Sequence[range], matrix_grads: Sequence[torch.Tensor],
                     bias_grads: Sequence[torch.Tensor], workspace: torch.Tensor) -> None:
    """Accumulate one sample's weight/bias gradients; ``grad`` becomes d loss / d features."""
    spatial = sample.shape[1:]
    flat = sample.view(sample.shape[0], -1)
    grad_flat = grad.view(grad.shape[0], -1)
    rows = matrices[0].shape[0]
    taps = rows // width
    for block in reversed(blocks):
        k0 = c_in + block.start * width
        dg_block = workspace[: len(block)]
        for j in reversed(range(len(block))):
            i = block[j]
            k = c_in + i * width
            dz = grad[k:k + width]
            dz.mul_(sample[k:k + width] > 0)
            bias_grads[i].add_(dz.sum(dim=tuple(range(1, dz.dim()))))
            dg = dg_block[j]
            _uncombine_taps(dz, dg.view(taps, width, *spatial), dilations[i])
            if k > k0:  # channels produced earlier in this block
                grad_flat[k0:k].addmm_(matrices[i][:, k0:k].t(), dg)
                matrix_grads[i][:, k0:k].addmm_(dg, flat[k0:k].t())
        dg_all = dg_block.view(len(block) * rows, -1)
        stacked = torch.cat([matrices[i][:, :k0] for i in block])
        grad_flat[:k0].addmm_(stacked.t(), dg_all)
        block_grad = torch.mm(dg_all, flat[:k0].t()).view(len(block), rows, k0)
        for j, i in enumerate(block):
            matrix_grads[i][:, :k0].add_(block_grad[j])


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
        taps = 3 ** (buffer.dim() - 2)
        grad = grad_buffer.contiguous().clone()
        matrices = [_weight_matrix(w) for w in weights]
        matrix_grads = [torch.zeros_like(m) for m in matrices]
        bias_grads = [buffer.new_zeros(width) for _ in weights]
        blocks = layer_blocks(len(weights), taps, width, buffer[0, 0].numel(),
                              buffer.element_size())
        workspace = _workspace(buffer, blocks, matrices[0].shape[0])
        for sample, sample_grad in zip(buffer, grad, strict=True):
            _sample_backward(sample, sample_grad, c_in, width, matrices, ctx.dilations, blocks,
                             matrix_grads, bias_grads, workspace)
        weight_grads = [
            g.view(taps, width, -1).permute(1, 2, 0).reshape(w.shape)
            for g, w in zip(matrix_grads, weights, strict=True)
        ]
        grad_x = grad[:, :c_in] if ctx.needs_input_grad[0] else None
        return (grad_x, None, *weight_grads, *bias_grads)


def msd_features(x: torch.Tensor, weights: Sequence[torch.Tensor],
                 biases: Sequence[torch.Tensor], dilations: Sequence[int]) -> torch.Tensor:
    """Differentiable MSDNet features, (N, C_total, *spatial), ReLU activations.

    Under autocast the kernel runs in the weights' dtype (its GEMMs write into preallocated
    buffers, which autocast does not cover); the 1x1 head after it is autocast as usual.
    """
    device_type = x.device.type
    if torch.is_autocast_enabled(device_type):
        with torch.autocast(device_type, enabled=False):
            return msd_features(x.to(weights[0].dtype), weights, biases, dilations)
    if not torch.is_grad_enabled() or not (
        x.requires_grad or any(w.requires_grad for w in weights)
    ):
        with torch.no_grad():
            return msd_forward(x, weights, biases, dilations)
    return _MSDFeatures.apply(x, tuple(dilations), *weights, *biases)
