"""Write a job's results (arrays, tables) to a folder or a Tiled container."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from algorithms.data.uris import is_remote, local_path
from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED, UNLABELED_STORED


def stored_mask(mask: np.ndarray) -> np.ndarray:
    """A label mask as stored: uint8 with UNLABELED (-1) written as 255."""
    mask = np.asarray(mask)
    if mask.dtype == np.uint8:
        return mask
    stored = np.where(mask == UNLABELED, UNLABELED_STORED, mask)
    if stored.size and (stored.min() < 0 or stored.max() > UNLABELED_STORED):
        raise ParameterError("mask", "label values must lie in -1..254")
    return stored.astype(np.uint8)


def check_name(name: str) -> str:
    """A result name is one path segment of letters, digits, '-', '_' and '.'."""
    if not name or name.startswith(".") or not all(c.isalnum() or c in "-_." for c in name):
        raise ParameterError("name", f"invalid result name {name!r}: use letters, digits, - _ .")
    return name


class ResultsWriter:
    """Writes results under ``<results_uri>/<job_id>/<name>``.

    Args:
        results_uri: a folder (``/path`` or ``file:///path``) or a Tiled container URI.
        job_id: the job whose results these are.
        api_key: Tiled API key (remote targets only).
        metadata: stored with every result (algorithm, model id, source URI, ...).
    """

    def __init__(
        self,
        results_uri: str,
        job_id: str,
        api_key: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        check_name(job_id)
        self.results_uri = results_uri
        self.job_id = job_id
        self.metadata = {"job_id": job_id, **(metadata or {})}
        if is_remote(results_uri):
            from algorithms.data.tiled_results import TiledResultsBackend

            self._backend: Any = TiledResultsBackend(results_uri, job_id, api_key, self.metadata)
        else:
            self._backend = FolderResultsBackend(
                Path(local_path(results_uri)), job_id, self.metadata
            )

    @property
    def uri(self) -> str:
        """Where this job's results live (folder or Tiled container URI)."""
        return self._backend.uri

    def write_array(
        self, name: str, array: np.ndarray, metadata: dict[str, Any] | None = None
    ) -> str:
        """Store a whole array; returns its URI."""
        return self._backend.write_array(check_name(name), np.asarray(array), metadata or {})

    def create_array(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: Any,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        """Create an array to fill slice by slice with ``.write_slices(start, block)``."""
        shape = tuple(int(n) for n in shape)
        if not shape or min(shape) < 1:
            raise ParameterError("shape", f"every dimension must be >= 1, got {shape}")
        return self._backend.create_array(check_name(name), shape, np.dtype(dtype), metadata or {})

    def write_table(self, name: str, table: Any, metadata: dict[str, Any] | None = None) -> str:
        """Store a pandas DataFrame; returns its URI."""
        return self._backend.write_table(check_name(name), table, metadata or {})

    def write_mask(
        self, name: str, mask: np.ndarray, metadata: dict[str, Any] | None = None
    ) -> str:
        """Store a label mask as uint8 (unlabeled = 255)."""
        return self.write_array(name, stored_mask(mask), {"kind": "mask", **(metadata or {})})

    def write_probabilities(
        self, name: str, probabilities: np.ndarray, metadata: dict[str, Any] | None = None
    ) -> str:
        """Store class probabilities as float16."""
        array = np.asarray(probabilities, dtype=np.float16)
        return self.write_array(name, array, {"kind": "probabilities", **(metadata or {})})


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(temp_path)`` then rename the temp file onto ``path``."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temp))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as handle:  # a handle, so numpy does not append ".npy" to the name
        np.save(handle, array, allow_pickle=False)


def _write_json(path: Path, content: dict[str, Any]) -> None:
    _atomic_write(path, lambda temp: temp.write_text(json.dumps(content, indent=2, default=str)))


class FolderResultsBackend:
    """``<folder>/<job_id>/<name>.npy|.parquet`` plus ``<name>.json`` metadata."""

    def __init__(self, folder: Path, job_id: str, metadata: dict[str, Any]) -> None:
        self.folder = folder.expanduser().resolve() / job_id
        self.folder.mkdir(parents=True, exist_ok=True)
        self.metadata = metadata
        self.uri = str(self.folder)

    def _metadata(self, extra: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {**self.metadata, **extra, **fields}

    def write_array(self, name: str, array: np.ndarray, metadata: dict[str, Any]) -> str:
        path = self.folder / f"{name}.npy"
        _atomic_write(path, lambda temp: _save_npy(temp, array))
        info = self._metadata(metadata, shape=list(array.shape), dtype=str(array.dtype))
        _write_json(self.folder / f"{name}.json", {**info, "complete": True})
        return str(path)

    def create_array(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype, metadata: dict[str, Any]
    ) -> FolderArrayHandle:
        return FolderArrayHandle(self.folder, name, shape, dtype, self._metadata(metadata))

    def write_table(self, name: str, table: Any, metadata: dict[str, Any]) -> str:
        path = self.folder / f"{name}.parquet"
        _atomic_write(path, lambda temp: table.to_parquet(temp))
        info = self._metadata(metadata, columns=[str(c) for c in table.columns], rows=len(table))
        _write_json(self.folder / f"{name}.json", info)
        return str(path)


class FolderArrayHandle:
    """A memory-mapped .npy filled slice by slice; its JSON says how many slices are done."""

    def __init__(
        self, folder: Path, name: str, shape: tuple[int, ...], dtype: np.dtype, metadata: dict
    ) -> None:
        self.path = folder / f"{name}.npy"
        self._json = folder / f"{name}.json"
        self.shape = shape
        self.dtype = dtype
        self._metadata = {**metadata, "shape": list(shape), "dtype": str(dtype)}
        self._written: set[int] = set()
        self._lock = threading.Lock()
        # Create the file under a temporary name, then rename it: readers never see it half-made.
        handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        os.close(handle)
        self._memmap = np.lib.format.open_memmap(temp, mode="w+", dtype=dtype, shape=shape)
        self._memmap.flush()
        os.replace(temp, self.path)
        self._save_progress()
        self.uri = str(self.path)

    def _save_progress(self) -> None:
        done = len(self._written)
        _write_json(
            self._json,
            {
                **self._metadata,
                "slices_written": sorted(self._written),
                "complete": done == self.shape[0],
            },
        )

    def write_slices(self, start_index: int, block: np.ndarray) -> None:
        """Write ``block`` (k, ...) into slices ``start_index`` .. ``start_index + k - 1``."""
        block = np.asarray(block, dtype=self.dtype)
        if block.ndim == len(self.shape) - 1:
            block = block[np.newaxis]
        stop = start_index + block.shape[0]
        if start_index < 0 or stop > self.shape[0] or block.shape[1:] != self.shape[1:]:
            raise ParameterError(
                "block",
                f"block of shape {block.shape} at {start_index} does not fit array {self.shape}",
            )
        with self._lock:
            self._memmap[start_index:stop] = block
            self._memmap.flush()
            self._written.update(range(start_index, stop))
            self._save_progress()
