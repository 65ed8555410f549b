"""Streaming tiled inference: windows go through a model in batches and finished regions are
handed to a callback as soon as no later window can touch them.

Only the windows of one batch and the accumulators of the regions still open are in memory, so
a volume of any size can be segmented and written progressively (slice by slice for a stack of
2D images, slab by slab along Z for a 3D volume).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from algorithms.errors import ParameterError
from algorithms.tiling.accumulate import add_weighted
from algorithms.tiling.grid import WindowGrid

Predict = Callable[[np.ndarray], np.ndarray]


def _predict_checked(predict: Predict, batch: np.ndarray, grid: WindowGrid) -> np.ndarray:
    out = np.asarray(predict(batch), dtype=np.float32)
    if out.ndim != grid.ndim + 2 or out.shape[0] != batch.shape[0]:
        raise ParameterError("model", f"expected (B, K, *{grid.window}) output, got {out.shape}")
    if tuple(out.shape[2:]) != grid.window:
        raise ParameterError("model", f"model changed the window size to {out.shape[2:]}")
    return out


def predict_slices(
    read_slice: Callable[[int], np.ndarray],
    n_slices: int,
    predict: Predict,
    grid: WindowGrid,
    on_slice: Callable[[int, np.ndarray], None],
    batch_size: int = 8,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Run a 2D model over a stack of images window by window, emitting each stitched slice.

    Args:
        read_slice: returns slice ``i`` as (C, Y, X).
        predict: maps a (B, C, *window) float32 batch to (B, K, *window).
        on_slice: receives ``(i, (K, Y, X) float32)`` once slice ``i`` is complete, in order.
    """
    if grid.ndim != 2:
        raise ParameterError("window", "predict_slices needs a 2D grid")
    if batch_size < 1:
        raise ParameterError("batch_size", f"must be >= 1, got {batch_size}")
    per_slice = len(grid)
    total = n_slices * per_slice
    weight = None if grid.has_uniform_weight else grid.weight.astype(np.float32)
    norm = grid.normalization(np.float32)
    sums: dict[int, np.ndarray] = {}
    cached: dict[int, np.ndarray] = {}
    done = 0
    for start in range(0, total, batch_size):
        indices = range(start, min(start + batch_size, total))
        inputs = []
        for index in indices:
            item, window = divmod(index, per_slice)
            if item not in cached:
                cached.clear()
                cached[item] = np.asarray(read_slice(item), dtype=np.float32)
            inputs.append(cached[item][(slice(None), *grid.slices(window))])
        outputs = _predict_checked(predict, np.stack(inputs), grid)
        for row, index in enumerate(indices):
            item, window = divmod(index, per_slice)
            if item not in sums:
                sums[item] = np.zeros((outputs.shape[1], *grid.shape), dtype=np.float32)
            add_weighted(sums[item][(slice(None), *grid.slices(window))], outputs[row], weight)
            done += 1
            if window == per_slice - 1:
                on_slice(item, sums.pop(item) / norm)
        if progress is not None:
            progress(done / total)


def predict_volume(
    read_slab: Callable[[int, int], np.ndarray],
    predict: Predict,
    grid: WindowGrid,
    on_slab: Callable[[int, np.ndarray], None],
    batch_size: int = 2,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Run a 3D model over a (C, Z, Y, X) volume, emitting finished Z slabs in order.

    Args:
        read_slab: returns planes ``z0:z1`` of the volume as (C, z1 - z0, Y, X).
        predict: maps a (B, C, *window) float32 batch to (B, K, *window).
        on_slab: receives ``(z0, (K, dz, Y, X) float32)``; slabs cover Z once, in order.
    """
    if grid.ndim != 3:
        raise ParameterError("window", "predict_volume needs a 3D grid")
    if batch_size < 1:
        raise ParameterError("batch_size", f"must be >= 1, got {batch_size}")
    depth, height, width = grid.shape
    window_z = grid.window[0]
    z_starts = grid.starts[0]
    plane_origins = [(y, x) for y in grid.starts[1] for x in grid.starts[2]]
    weight = None if grid.has_uniform_weight else grid.weight.astype(np.float32)
    total = len(grid)
    done = 0
    # Accumulator for planes [low, low + window_z); windows of group g start at plane low.
    low = 0
    buffer: np.ndarray | None = None
    for group, z0 in enumerate(z_starts):
        slab = np.asarray(read_slab(z0, z0 + window_z), dtype=np.float32)
        for start in range(0, len(plane_origins), batch_size):
            origins = plane_origins[start : start + batch_size]
            batch = np.stack(
                [slab[:, :, y : y + grid.window[1], x : x + grid.window[2]] for y, x in origins]
            )
            outputs = _predict_checked(predict, batch, grid)
            if buffer is None:
                buffer = np.zeros((outputs.shape[1], window_z, height, width), dtype=np.float32)
            for row, (y, x) in enumerate(origins):
                target = buffer[:, :, y : y + grid.window[1], x : x + grid.window[2]]
                add_weighted(target, outputs[row], weight)
            done += len(origins)
            if progress is not None:
                progress(done / total)
        # Planes before the next window's start will receive nothing more.
        finished = z_starts[group + 1] if group + 1 < len(z_starts) else depth
        if buffer is not None:
            count = finished - low
            norm = grid.normalization(np.float32, slice(low, finished))
            on_slab(low, np.divide(buffer[:, :count], norm))
            kept = window_z - count
            if kept > 0:
                buffer[:, :kept] = buffer[:, count:]
            buffer[:, max(kept, 0) :] = 0.0
            low = finished
