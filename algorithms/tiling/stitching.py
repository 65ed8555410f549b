"""Cut (N, C, *spatial) tensors into windows and stitch windows back by weighted averaging.

Works on numpy arrays and on torch tensors (which come back as torch tensors). Stitching adds
windows one after the other in window order into accumulators, so the same windows always give
bit-identical output. The accumulators live in memory or, for outputs larger than RAM, in
``np.memmap`` files under a folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED
from algorithms.tiling.accumulate import add_weighted, copy_into, divide
from algorithms.tiling.grid import WindowGrid


def _is_torch(array: Any) -> bool:
    return type(array).__module__.startswith("torch")


def _to_numpy(array: Any) -> np.ndarray:
    if _is_torch(array):
        return array.detach().cpu().numpy()
    return np.asarray(array)


def _check_item_shape(array: Any, grid: WindowGrid, name: str, channel_axis: bool) -> None:
    spatial = tuple(array.shape[2:] if channel_axis else array.shape[1:])
    if spatial != grid.shape:
        raise ParameterError(name, f"spatial shape {spatial} does not match the grid {grid.shape}")


def unstitch(
    tensor: Any, grid: WindowGrid, indices: Sequence[int] | np.ndarray | None = None
) -> Any:
    """Cut an (N, C, *spatial) tensor into windows (M, C, *window), item-major, row-major.

    ``indices`` selects windows by global index ``item * len(grid) + window``; default all.
    """
    if tensor.ndim != grid.ndim + 2:
        raise ParameterError(
            "data", f"expected {grid.ndim + 2} axes (N, C, ...), got {tensor.ndim}"
        )
    _check_item_shape(tensor, grid, "data", channel_axis=True)
    per_item = len(grid)
    if indices is None:
        indices = range(tensor.shape[0] * per_item)
    indices = [int(i) for i in indices]
    shape = (len(indices), tensor.shape[1], *grid.window)
    if _is_torch(tensor):
        import torch

        out = torch.empty(shape, dtype=tensor.dtype, device=tensor.device)
    else:
        out = np.empty(shape, dtype=tensor.dtype)
    numpy_input = isinstance(out, np.ndarray)
    for row, index in enumerate(indices):
        item, window = divmod(index, per_item)
        source = tensor[(item, slice(None), *grid.slices(window))]
        if numpy_input:
            copy_into(out[row], source)
        else:
            out[row] = source
    return out


def labeled_windows(
    labels: Any,
    grid: WindowGrid,
    unlabeled: int = UNLABELED,
    mask_border: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Label windows that hold at least one labeled pixel, and their global indices.

    Args:
        labels: (N, *spatial) integer labels with ``unlabeled`` for unlabeled pixels.
        mask_border: mark the border pixels of every window unlabeled (the network sees
            little context there), as qlty does for training.
    """
    labels = _to_numpy(labels)
    if labels.ndim != grid.ndim + 1:
        raise ParameterError("labels", f"expected {grid.ndim + 1} axes (N, ...), got {labels.ndim}")
    _check_item_shape(labels, grid, "labels", channel_axis=False)
    kept_windows: list[np.ndarray] = []
    kept_indices: list[int] = []
    per_item = len(grid)
    for item in range(labels.shape[0]):
        for window in range(per_item):
            block = labels[(item, *grid.slices(window))]
            if mask_border and any(grid.border):
                block = np.where(grid.inner_mask, block, unlabeled)
            if np.any(block != unlabeled):
                kept_windows.append(np.array(block, copy=True))
                kept_indices.append(item * per_item + window)
    if kept_windows:
        stacked = np.stack(kept_windows)
    else:
        stacked = np.empty((0, *grid.window), dtype=labels.dtype)
    return stacked, np.asarray(kept_indices, dtype=np.int64)


def unstitch_pair(
    tensor: Any,
    labels: Any,
    grid: WindowGrid,
    unlabeled: int = UNLABELED,
    drop_unlabeled: bool = True,
    mask_border: bool = False,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Windows of data and labels for training: (M, C, *w), (M, *w) and global indices.

    With ``drop_unlabeled`` only windows holding a labeled pixel are kept (and only those are
    cut from the data, so memory follows the labeled windows, not the whole data set).
    """
    if tensor.shape[0] != _to_numpy(labels).shape[0]:
        raise ParameterError("labels", "labels and data hold a different number of items")
    if drop_unlabeled:
        label_windows, indices = labeled_windows(labels, grid, unlabeled, mask_border)
    else:
        labels_np = _to_numpy(labels)
        indices = np.arange(labels_np.shape[0] * len(grid))
        label_windows = unstitch(labels_np[:, None], grid)[:, 0]
        if mask_border and any(grid.border):
            label_windows = np.where(grid.inner_mask, label_windows, unlabeled)
    return unstitch(tensor, grid, indices), label_windows, indices


class Stitcher:
    """Accumulates weighted windows into (N, C, *spatial) and normalizes them at the end.

    Args:
        storage: None keeps accumulators in memory; a folder path puts them in ``np.memmap``
            files there (out of core), so the output may be larger than RAM.
        dtype: accumulator and output dtype (float32 or float64).
    """

    def __init__(
        self,
        grid: WindowGrid,
        n_items: int,
        channels: int,
        dtype: np.dtype | type = np.float32,
        storage: str | Path | None = None,
    ) -> None:
        self.grid = grid
        self.n_items = int(n_items)
        self.channels = int(channels)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ParameterError("dtype", f"accumulators must be float32 or float64, not {dtype}")
        shape = (self.n_items, self.channels, *grid.shape)
        self.storage = Path(storage) if storage is not None else None
        if self.storage is None:
            self.sums = np.zeros(shape, dtype=self.dtype)
        else:
            self.storage.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=self.storage, suffix=".acc")
            os.close(handle)
            self._path = Path(name)
            self.sums = np.memmap(self._path, dtype=self.dtype, mode="w+", shape=shape)
        self._weight = grid.weight.astype(self.dtype)
        self._uniform = grid.has_uniform_weight
        self._added = 0

    @property
    def path(self) -> Path | None:
        """The memmap file holding the output (out-of-core mode)."""
        return self._path if self.storage is not None else None

    def add(self, indices: Sequence[int] | np.ndarray, windows: Any) -> None:
        """Add windows (B, C, *window) at global window indices (in any fixed order)."""
        windows = _to_numpy(windows).astype(self.dtype, copy=False)
        per_item = len(self.grid)
        weight = None if self._uniform else self._weight
        for row, index in enumerate(indices):
            item, window = divmod(int(index), per_item)
            if not 0 <= item < self.n_items:
                raise ParameterError("indices", f"window {index} is outside {self.n_items} items")
            target = self.sums[(item, slice(None), *self.grid.slices(window))]
            add_weighted(target, windows[row], weight)
            self._added += 1

    def result(self) -> np.ndarray:
        """Normalize in place and return the stitched (N, C, *spatial) array."""
        # Bands of the first spatial axis keep memory bounded (and out-of-core mode out of RAM).
        rows = max(1, (1 << 22) // max(1, int(np.prod(self.grid.shape[1:]))))
        rows = min(rows, self.grid.shape[0])
        buffer = np.empty((rows, *self.grid.shape[1:]), dtype=self.dtype)
        scratch = np.empty_like(buffer)
        for start in range(0, self.grid.shape[0], rows):
            band = slice(start, min(start + rows, self.grid.shape[0]))
            size = band.stop - band.start
            norm, spare = buffer[:size], scratch[:size]
            self.grid.normalization_into(norm, band, spare)
            for item in range(self.n_items):
                divide(self.sums[item, :, band], norm)
        if isinstance(self.sums, np.memmap):
            self.sums.flush()
        return self.sums


def stitch(
    windows: Any,
    grid: WindowGrid,
    n_items: int | None = None,
    dtype: np.dtype | type | None = None,
    storage: str | Path | None = None,
) -> Any:
    """Stitch all windows of ``n_items`` items (M = n_items * len(grid)) back together.

    Overlaps are averaged with the grid's border weights. ``dtype`` defaults to float64 for
    float64 input, float32 otherwise; ``storage`` (a folder) makes the output a memmap there.
    """
    torch_input = _is_torch(windows)
    array = _to_numpy(windows)
    per_item = len(grid)
    if array.ndim != grid.ndim + 2 or tuple(array.shape[2:]) != grid.window:
        raise ParameterError("windows", f"expected (M, C, *{grid.window}), got {array.shape}")
    if n_items is None:
        if array.shape[0] % per_item:
            raise ParameterError(
                "windows", f"{array.shape[0]} windows is not a multiple of {per_item}"
            )
        n_items = array.shape[0] // per_item
    if array.shape[0] != n_items * per_item:
        raise ParameterError(
            "windows", f"expected {n_items * per_item} windows, got {array.shape[0]}"
        )
    if dtype is None:
        dtype = np.float64 if array.dtype == np.float64 else np.float32
    stitcher = Stitcher(grid, n_items, array.shape[1], dtype=dtype, storage=storage)
    stitcher.add(range(array.shape[0]), array)
    result = stitcher.result()
    if torch_input:
        import torch

        return torch.from_numpy(np.asarray(result))
    return result
