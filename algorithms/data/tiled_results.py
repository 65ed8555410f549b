"""Write results into a Tiled container: ``results/<job_id>/<name>``, arrays chunked by slice."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from algorithms.data.errors import RemoteDataError
from algorithms.data.tiled_source import _describe, tiled_node
from algorithms.data.uris import split_tiled_uri
from algorithms.errors import ParameterError

RESULTS_CONTAINER = "results"


# Whole arrays of small slices are grouped into chunks of about this size (one request each).
CHUNK_BYTES = 4 * 2**20


def slice_chunks(shape: tuple[int, ...], slices_per_chunk: int = 1) -> tuple[tuple[int, ...], ...]:
    """Chunks along the first axis of ``slices_per_chunk`` slices (3D+); one chunk for 2D."""
    if len(shape) < 3:
        return tuple((n,) for n in shape)
    full, rest = divmod(shape[0], slices_per_chunk)
    first = (slices_per_chunk,) * full + ((rest,) if rest else ())
    return (first, *((n,) for n in shape[1:]))


def slices_per_chunk(shape: tuple[int, ...], dtype: Any) -> int:
    """How many slices make a chunk of about CHUNK_BYTES (at least one)."""
    slice_bytes = int(np.prod(shape[1:])) * np.dtype(dtype).itemsize
    return max(1, min(shape[0], CHUNK_BYTES // max(1, slice_bytes)))


def _json_safe(metadata: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, dict):
            safe[str(key)] = _json_safe(value)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            safe[str(key)] = value
        elif isinstance(value, (list, tuple)):
            safe[str(key)] = [
                v if isinstance(v, (str, int, float, bool)) else str(v) for v in value
            ]
        elif isinstance(value, np.generic):
            safe[str(key)] = value.item()
        else:
            safe[str(key)] = str(value)
    return safe


def new_slice_chunked_array(
    container: Any,
    key: str,
    shape: tuple[int, ...],
    dtype: Any,
    metadata: dict[str, Any],
    per_chunk: int = 1,
) -> Any:
    """Create an empty array node under ``container``, ``per_chunk`` slices per chunk."""
    from tiled.structures.array import ArrayStructure, BuiltinDtype
    from tiled.structures.core import StructureFamily
    from tiled.structures.data_source import DataSource

    structure = ArrayStructure(
        shape=tuple(shape),
        chunks=slice_chunks(tuple(shape), per_chunk),
        data_type=BuiltinDtype.from_numpy_dtype(np.dtype(dtype)),
    )
    return container.new(
        StructureFamily.array,
        [DataSource(structure=structure, structure_family=StructureFamily.array)],
        key=key,
        metadata=_json_safe(metadata),
    )


def write_slice_chunked(
    container: Any, key: str, array: np.ndarray, metadata: dict[str, Any]
) -> Any:
    """Write a whole array as a new node: chunks of whole slices, about CHUNK_BYTES each."""
    per_chunk = slices_per_chunk(array.shape, array.dtype) if array.ndim >= 3 else 1
    node = new_slice_chunked_array(container, key, array.shape, array.dtype, metadata, per_chunk)
    if array.ndim < 3:
        node.write(np.ascontiguousarray(array))
    else:
        zeros = (0,) * (array.ndim - 1)
        for number, start in enumerate(range(0, array.shape[0], per_chunk)):
            block = np.ascontiguousarray(array[start : start + per_chunk])
            node.write_block(block, block=(number, *zeros))
    return node


class TiledResultsBackend:
    """Writes a job's results into its own container of a Tiled server."""

    def __init__(
        self, results_uri: str, job_id: str, api_key: str | None, metadata: dict[str, Any]
    ) -> None:
        base, path = split_tiled_uri(results_uri)
        parent = tiled_node(results_uri, api_key)
        if not path:  # the server itself: use its results/ container
            if RESULTS_CONTAINER not in parent:
                parent.create_container(RESULTS_CONTAINER)
            parent = parent[RESULTS_CONTAINER]
        self.metadata = _json_safe(metadata)
        try:
            if job_id in parent:
                self.container = parent[job_id]
            else:
                self.container = parent.create_container(job_id, metadata=self.metadata)
        except Exception as error:
            raise RemoteDataError(results_uri, _describe(error)) from None
        self.uri = self.container.uri

    def _fresh(self, name: str) -> None:
        # Rerunning a job replaces its results instead of failing on the existing name.
        if name in self.container:
            self.container.delete_contents(name, external_only=False)

    def _new_array(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype, metadata: dict[str, Any]
    ) -> Any:
        self._fresh(name)
        return new_slice_chunked_array(
            self.container, name, shape, dtype, {**self.metadata, **metadata}
        )

    def write_array(self, name: str, array: np.ndarray, metadata: dict[str, Any]) -> str:
        info = {**metadata, "shape": list(array.shape), "dtype": str(array.dtype)}
        try:
            self._fresh(name)
            node = write_slice_chunked(
                self.container, name, array, {**self.metadata, **info, "complete": True}
            )
        except Exception as error:
            raise RemoteDataError(self.uri, _describe(error)) from None
        return node.uri

    def create_array(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype, metadata: dict[str, Any]
    ) -> TiledArrayHandle:
        info = {**metadata, "shape": list(shape), "dtype": str(dtype)}
        node = self._new_array(name, shape, dtype, {**info, "complete": False})
        return TiledArrayHandle(node, shape, dtype)

    def write_table(self, name: str, table: Any, metadata: dict[str, Any]) -> str:
        self._fresh(name)
        info = {**metadata, "columns": [str(c) for c in table.columns], "rows": len(table)}
        table = table.copy()
        table.columns = [str(c) for c in table.columns]
        try:
            node = self.container.write_table(
                table, key=name, metadata=_json_safe({**self.metadata, **info})
            )
        except Exception as error:
            raise RemoteDataError(self.uri, _describe(error)) from None
        return node.uri


class TiledArrayHandle:
    """A Tiled array filled slice by slice; its metadata counts the slices written."""

    def __init__(self, node: Any, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.node = node
        self.shape = shape
        self.dtype = dtype
        self.uri = node.uri
        self._written: set[int] = set()
        self._lock = threading.Lock()

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
        zeros = (0,) * (len(self.shape) - 1)
        with self._lock:
            try:
                if len(self.shape) < 3:
                    self.node.write(np.ascontiguousarray(block.reshape(self.shape)))
                else:
                    for offset in range(block.shape[0]):
                        piece = np.ascontiguousarray(block[offset : offset + 1])
                        self.node.write_block(piece, block=(start_index + offset, *zeros))
                self._written.update(range(start_index, stop))
                done = len(self._written)
                self.node.update_metadata(
                    {"slices_written": done, "complete": done == self.shape[0]},
                    drop_revision=True,
                )
            except Exception as error:
                raise RemoteDataError(self.uri, _describe(error)) from None
