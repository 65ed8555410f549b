"""Readers for local files and folders: PNG/JPEG/TIFF (incl. multi-page), HDF5, .npy, zarr."""

from __future__ import annotations

import abc
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from algorithms.data.base import ArrayDataset, ImageDataset, items_layout
from algorithms.data.errors import DatasetNotFoundError, NotAnImageError
from algorithms.data.uris import within_roots

PILLOW_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
TIFF_SUFFIXES = (".tif", ".tiff")
HDF5_SUFFIXES = (".h5", ".hdf5", ".hdf", ".nxs")
ARRAY_SUFFIXES = (".npy", ".zarr", *HDF5_SUFFIXES)
READABLE_SUFFIXES = (*PILLOW_SUFFIXES, *TIFF_SUFFIXES, *ARRAY_SUFFIXES)


def natural_key(name: str) -> list[Any]:
    """Sort key that puts ``img2`` before ``img10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def is_zarr(path: Path) -> bool:
    """True for a zarr store folder (v2 or v3)."""
    return path.is_dir() and (
        path.suffix == ".zarr"
        or any((path / name).exists() for name in (".zarray", ".zgroup", "zarr.json"))
    )


def open_local(path: Path, uri: str, roots: list[Path] | None = None) -> ImageDataset:
    """The data set at an already-checked local ``path`` (a file, a folder, a zarr store)."""
    inner = ""
    if "#" in uri:  # file.h5#/entry/data or store.zarr#group/array
        inner = uri.split("#", 1)[1]
    if is_zarr(path):
        return ArrayDataset(uri, _zarr_array(path, inner))
    if path.is_dir():
        return FolderDataset(uri, path, roots or [])
    return FileDataset(uri, [_file_source(path, inner)])


def read_local_array(path: Path, uri: str) -> np.ndarray:
    """The whole array stored at ``path``, exactly as stored (no item splitting)."""
    inner = uri.split("#", 1)[1] if "#" in uri else ""
    suffix = path.suffix.lower()
    if is_zarr(path):
        return np.asarray(_zarr_array(path, inner)[...])
    if suffix == ".npy":
        return np.load(path)
    if suffix in HDF5_SUFFIXES:
        return np.asarray(_Hdf5Source(path, inner).array[...])
    return open_local(path, uri).read()


class _Source(abc.ABC):
    """One file's worth of items."""

    length: int
    item_shape: tuple[int, ...]
    dtype: np.dtype

    @abc.abstractmethod
    def read(self, index: int) -> np.ndarray:
        """Item ``index`` of this file."""

    def read_strided(self, index: int, step: int) -> np.ndarray:
        return np.ascontiguousarray(self.read(index)[::step, ::step])


class _PillowSource(_Source):
    def __init__(self, path: Path) -> None:
        from PIL import Image, UnidentifiedImageError

        self.path = path
        try:
            with Image.open(path) as image:
                # The header alone gives size and mode; pixels are read later.
                self.item_shape, self.dtype = _pillow_layout(image)
        except (UnidentifiedImageError, OSError) as error:
            raise NotAnImageError(str(path), str(error)) from None
        self.length = 1

    def read(self, index: int) -> np.ndarray:
        from PIL import Image

        with Image.open(self.path) as image:
            if image.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                image = image.convert("RGB")
            return np.asarray(image)


def _pillow_layout(image: Any) -> tuple[tuple[int, ...], np.dtype]:
    width, height = image.size
    modes = {
        "1": ((height, width), np.bool_),
        "L": ((height, width), np.uint8),
        "P": ((height, width), np.uint8),
        "I;16": ((height, width), np.uint16),
        "I;16B": ((height, width), np.uint16),
        "I": ((height, width), np.int32),
        "F": ((height, width), np.float32),
        "LA": ((height, width, 2), np.uint8),
        "RGBA": ((height, width, 4), np.uint8),
    }
    shape, dtype = modes.get(image.mode, ((height, width, 3), np.uint8))
    return shape, np.dtype(dtype)


class _TiffSource(_Source):
    def __init__(self, path: Path) -> None:
        import tifffile

        self.path = path
        self._lock = threading.Lock()
        self._whole: np.ndarray | None = None
        try:
            self._tiff = tifffile.TiffFile(path)
            series = self._tiff.series
            pages = self._tiff.pages
            if len(series) > 1 and all(s.shape == series[0].shape for s in series):
                # Pages appended one by one: every page is an image.
                self._pages = [pages[i] for i in range(len(pages))]
                self.length, self.item_shape = len(self._pages), tuple(series[0].shape)
            else:
                first = series[0]
                self.length, self.item_shape = items_layout(tuple(first.shape))
                self._pages = [p for p in first.pages if p is not None]
                if len(self._pages) != self.length or any(
                    p.shape != self.item_shape for p in self._pages
                ):
                    self._pages = []  # samples or a hyperstack: read the series once
            self.dtype = np.dtype(series[0].dtype)
        except (tifffile.TiffFileError, IndexError, OSError, ValueError) as error:
            raise NotAnImageError(str(path), str(error)) from None

    def read(self, index: int) -> np.ndarray:
        with self._lock:
            if self._pages:
                return self._pages[index].asarray().reshape(self.item_shape)
            if self._whole is None:
                self._whole = self._tiff.series[0].asarray()
            whole = self._whole
        if self.length == 1:
            return whole.reshape(self.item_shape)
        return whole.reshape((self.length, *self.item_shape))[index]


class _Hdf5Source(_Source):
    def __init__(self, path: Path, inner: str = "") -> None:
        import h5py

        self.path = path
        try:
            self._file = h5py.File(path, "r")
        except OSError as error:
            raise NotAnImageError(str(path), str(error)) from None
        self.array = self._find(inner)
        self.length, self.item_shape = items_layout(tuple(self.array.shape))
        self.dtype = np.dtype(self.array.dtype)

    def _find(self, inner: str) -> Any:
        import h5py

        if inner:
            if inner not in self._file:
                raise DatasetNotFoundError(f"{self.path}#{inner}", "no such HDF5 dataset")
            return self._file[inner]
        found: list[Any] = []
        self._file.visititems(
            lambda name, node: (
                found.append(node) if isinstance(node, h5py.Dataset) and node.ndim >= 2 else None
            )
        )
        if not found:
            raise NotAnImageError(str(self.path), "HDF5 file holds no 2D or larger dataset")
        return max(found, key=lambda node: node.size)

    def read(self, index: int) -> np.ndarray:
        if self.length == 1 and self.array.ndim == len(self.item_shape):
            return np.asarray(self.array[...])
        return np.asarray(self.array[index])

    def read_strided(self, index: int, step: int) -> np.ndarray:
        if self.length == 1 and self.array.ndim == len(self.item_shape):
            return np.asarray(self.array[::step, ::step])
        return np.asarray(self.array[index, ::step, ::step])


class _NpySource(_Hdf5Source):
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.array = np.load(path, mmap_mode="r")
        except (ValueError, OSError) as error:
            raise NotAnImageError(str(path), str(error)) from None
        try:
            self.length, self.item_shape = items_layout(tuple(self.array.shape))
        except ValueError as error:
            raise NotAnImageError(str(path), str(error)) from None
        self.dtype = np.dtype(self.array.dtype)


def _zarr_array(path: Path, inner: str) -> Any:
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as error:  # zarr raises several unrelated types for a bad store
        raise NotAnImageError(str(path), str(error)) from None
    if inner:
        node = node[inner]
    if hasattr(node, "shape") and not hasattr(node, "arrays"):
        return node
    arrays = [array for _, array in node.arrays() if array.ndim >= 2]
    if not arrays:
        raise NotAnImageError(str(path), "zarr group holds no 2D or larger array")
    return max(arrays, key=lambda array: array.size)


def _file_source(path: Path, inner: str = "") -> _Source:
    suffix = path.suffix.lower()
    if suffix in PILLOW_SUFFIXES:
        return _PillowSource(path)
    if suffix in TIFF_SUFFIXES:
        return _TiffSource(path)
    if suffix in HDF5_SUFFIXES:
        return _Hdf5Source(path, inner)
    if suffix == ".npy":
        return _NpySource(path)
    raise NotAnImageError(str(path), f"unknown file type {suffix or '(none)'}")


class FileDataset(ImageDataset):
    """Items of one or more files, each file contributing one image or a stack of them."""

    def __init__(self, uri: str, sources: list[_Source]) -> None:
        if not sources:
            raise DatasetNotFoundError(uri, "no image files")
        first = sources[0]
        self._sources = sources
        self._starts = np.cumsum([0] + [source.length for source in sources])
        dtype = np.result_type(*[source.dtype for source in sources])
        super().__init__(uri, int(self._starts[-1]), first.item_shape, dtype)

    def _locate(self, index: int) -> tuple[_Source, int]:
        position = int(np.searchsorted(self._starts, index, side="right")) - 1
        return self._sources[position], index - int(self._starts[position])

    def _read_item(self, index: int) -> np.ndarray:
        source, local = self._locate(index)
        image = source.read(local).astype(self.dtype, copy=False)
        if image.shape != self.item_shape:
            raise NotAnImageError(
                getattr(source, "path", self.uri),
                f"image shape {image.shape} differs from the data set's {self.item_shape}",
            )
        return image

    def _read_item_strided(self, index: int, step: int) -> np.ndarray:
        source, local = self._locate(index)
        return source.read_strided(local, step).astype(self.dtype, copy=False)


class FolderDataset(FileDataset):
    """Every readable file of a folder, in natural order; symlinks out of the roots are skipped."""

    def __init__(self, uri: str, folder: Path, roots: list[Path]) -> None:
        self.folder = folder
        sources: list[_Source] = []
        for entry in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
            if entry.name.startswith(".") or not entry.name.lower().endswith(READABLE_SUFFIXES):
                continue
            if roots and not within_roots(entry.resolve(), roots):
                continue  # a symlink pointing out of the roots is never read
            if is_zarr(entry):
                array = _zarr_array(entry, "")
                sources.append(_ArraySource(array))
            elif entry.is_file():
                sources.append(_file_source(entry))
        if not sources:
            raise DatasetNotFoundError(uri, "folder holds no readable image files")
        super().__init__(uri, sources)


class _ArraySource(_Hdf5Source):
    def __init__(self, array: Any) -> None:
        self.array = array
        self.length, self.item_shape = items_layout(tuple(array.shape))
        self.dtype = np.dtype(array.dtype)
