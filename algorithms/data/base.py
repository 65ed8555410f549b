"""The lazy image data set every reader returns: items are 2D images (Y,X) or (Y,X,C)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from algorithms.data.errors import ItemIndexError

# A 3D array whose last axis has this many entries (and whose other axes are larger) is one
# colour image (Y,X,C), not a stack of N images.
COLOUR_CHANNELS = (3, 4)


def items_layout(shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """How an array of ``shape`` splits into images: (number of items, item shape)."""
    if len(shape) == 2:
        return 1, tuple(shape)
    if len(shape) == 3:
        if shape[-1] in COLOUR_CHANNELS and shape[0] > 4 and shape[1] > 4:
            return 1, tuple(shape)
        return shape[0], tuple(shape[1:])
    if len(shape) == 4:
        return shape[0], tuple(shape[1:])
    raise ValueError(f"cannot read images from an array of shape {shape}")


def thumbnail_step(item_shape: tuple[int, ...], max_size: int) -> int:
    """The stride that brings the longest side of an image to at most ``max_size`` pixels."""
    if max_size < 1:
        from algorithms.errors import ParameterError

        raise ParameterError("max_size", "must be >= 1")
    return max(1, math.ceil(max(item_shape[0], item_shape[1]) / max_size))


class ImageDataset(ABC):
    """A lazy, indexable sequence of 2D images; nothing is read until asked for.

    ``ds[i]`` is one image, ``ds[a:b]`` a stack, ``ds.read()`` all of them as (N,Y,X[,C]).
    """

    def __init__(self, uri: str, length: int, item_shape: tuple[int, ...], dtype: Any) -> None:
        self.uri = uri
        self._length = int(length)
        self.item_shape = tuple(int(n) for n in item_shape)
        self.dtype = np.dtype(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        """(N, Y, X) or (N, Y, X, C)."""
        return (self._length, *self.item_shape)

    @property
    def is_colour(self) -> bool:
        """True when items are (Y, X, C) colour images."""
        return len(self.item_shape) == 3

    def __len__(self) -> int:
        return self._length

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r}, shape={self.shape}, dtype={self.dtype})"

    def __iter__(self):
        for index in range(self._length):
            yield self[index]

    def __getitem__(self, key: int | slice) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(self._length)
            if step == 1:
                return self.read_slices(start, stop)
            return self._stack([self._read_item(i) for i in range(start, stop, step)])
        index = self._check_index(key)
        return self._read_item(index)

    def read(self) -> np.ndarray:
        """Every item as one (N, Y, X[, C]) array."""
        return self.read_slices(0, self._length)

    def read_slices(self, start: int, stop: int) -> np.ndarray:
        """Items ``start`` to ``stop - 1`` as one array."""
        start, stop, _ = slice(start, stop).indices(self._length)
        return self._read_range(start, stop)

    def thumbnail(self, index: int, max_size: int = 128) -> np.ndarray:
        """Item ``index`` subsampled by a stride so its longest side is at most ``max_size``.

        Only the strided pixels are read where the format allows it (Tiled, npy, HDF5, zarr).
        """
        index = self._check_index(index)
        step = thumbnail_step(self.item_shape, max_size)
        return self._read_item_strided(index, step)

    def _check_index(self, index: int) -> int:
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise ItemIndexError(index, self._length, self.uri) from None  # type: ignore[arg-type]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise ItemIndexError(index, self._length, self.uri)
        return index

    def _stack(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.empty((0, *self.item_shape), dtype=self.dtype)
        return np.stack(images)

    @abstractmethod
    def _read_item(self, index: int) -> np.ndarray:
        """One item, index already checked."""

    def _read_range(self, start: int, stop: int) -> np.ndarray:
        return self._stack([self._read_item(i) for i in range(start, stop)])

    def _read_item_strided(self, index: int, step: int) -> np.ndarray:
        return np.ascontiguousarray(self._read_item(index)[::step, ::step])


class ArrayDataset(ImageDataset):
    """Images held by an in-memory or memory-mapped array (also h5py/zarr arrays)."""

    def __init__(self, uri: str, array: Any) -> None:
        length, item_shape = items_layout(tuple(array.shape))
        super().__init__(uri, length, item_shape, array.dtype)
        self._array = array
        self._single = len(array.shape) == len(item_shape)

    def _read_item(self, index: int) -> np.ndarray:
        if self._single:
            return np.asarray(self._array[...])
        return np.asarray(self._array[index])

    def _read_range(self, start: int, stop: int) -> np.ndarray:
        if self._single:
            return np.asarray(self._array[...])[np.newaxis][start:stop]
        return np.asarray(self._array[start:stop])

    def _read_item_strided(self, index: int, step: int) -> np.ndarray:
        if self._single:
            return np.ascontiguousarray(np.asarray(self._array[::step, ::step]))
        return np.ascontiguousarray(np.asarray(self._array[index, ::step, ::step]))
