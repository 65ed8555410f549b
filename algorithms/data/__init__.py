"""Data access for MLEx: read images from folders or Tiled, write results back.

``open_dataset(uri)`` gives a lazy data set of 2D images, ``read_array(uri)`` a whole array,
``ResultsWriter`` stores a job's arrays and tables in a folder or a Tiled container.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from algorithms.data.base import ArrayDataset, ImageDataset
from algorithms.data.errors import (
    DataError,
    DatasetNotFoundError,
    ItemIndexError,
    NotAnImageError,
    PathOutsideRootsError,
    RemoteDataError,
)
from algorithms.data.results import ResultsWriter, stored_mask
from algorithms.data.uris import is_remote, local_path, resolve_path

__all__ = [
    "ArrayDataset",
    "DataError",
    "DatasetNotFoundError",
    "ImageDataset",
    "ItemIndexError",
    "NotAnImageError",
    "PathOutsideRootsError",
    "RemoteDataError",
    "ResultsWriter",
    "open_dataset",
    "read_array",
    "stored_mask",
]


def open_dataset(
    uri: str, api_key: str | None = None, *, roots: list[Path] | None = None
) -> ImageDataset:
    """Open the images at ``uri`` lazily.

    Args:
        uri: a folder or file path (``/path``, ``file:///path``; ``file.h5#/entry/data`` picks
            an HDF5 dataset) or a Tiled node URI (``http://host:port/api/v1/metadata/a/b`` or
            ``http://host:port/a/b``).
        api_key: Tiled API key, for servers that need one.
        roots: folders local paths must lie in; default ``MLEX_DATA_ROOTS`` (unset: anywhere).
    """
    if not isinstance(uri, str) or not uri.strip():
        raise DatasetNotFoundError(str(uri), "empty URI")
    if is_remote(uri):
        from algorithms.data.tiled_source import open_tiled_dataset

        return open_tiled_dataset(uri, api_key)
    from algorithms.data.folder import open_local

    path = resolve_path(local_path(uri.split("#", 1)[0]), roots)
    return open_local(path, uri, roots if roots is not None else _env_roots())


def read_array(
    uri: str, api_key: str | None = None, *, roots: list[Path] | None = None
) -> np.ndarray:
    """The whole array at ``uri`` as stored (a volume, a mask stack; 255 stays 255)."""
    if not isinstance(uri, str) or not uri.strip():
        raise DatasetNotFoundError(str(uri), "empty URI")
    if is_remote(uri):
        from algorithms.data.tiled_source import read_tiled_array

        return read_tiled_array(uri, api_key)
    from algorithms.data.folder import read_local_array

    path = resolve_path(local_path(uri.split("#", 1)[0]), roots)
    return read_local_array(path, uri)


def _env_roots() -> list[Path]:
    from algorithms.data.uris import configured_roots

    return configured_roots()
