"""Read images from a Tiled server: an array node (one image or a stack) or a container of them."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from algorithms.data.base import ArrayDataset, ImageDataset
from algorithms.data.errors import DatasetNotFoundError, NotAnImageError, RemoteDataError
from algorithms.data.folder import FileDataset, _ArraySource, natural_key
from algorithms.data.uris import default_api_key, split_tiled_uri, tiled_node_uri

_clients: dict[tuple[str, str | None], Any] = {}
# Clients given with use_client (in-process apps): kept by forget_clients.
_pinned: dict[tuple[str, str | None], Any] = {}
_clients_lock = threading.Lock()


def tiled_client(base: str, api_key: str | None = None) -> Any:
    """A (cached) Tiled client of the server at ``base``; ``api_key`` defaults to MLEx's key."""
    from tiled.client import from_uri

    api_key = api_key or default_api_key()
    with _clients_lock:
        client = _pinned.get((base, api_key)) or _clients.get((base, api_key))
        if client is None:
            _check_reachable(base)
            try:
                client = from_uri(base, api_key=api_key, remember_me=False)
            except Exception as error:  # httpx errors, auth errors, bad URLs
                raise RemoteDataError(base, _describe(error)) from None
            _clients[(base, api_key)] = client
        return client


def use_client(base: str, client: Any, api_key: str | None = None) -> None:
    """Make URIs under ``base`` use ``client`` (e.g. an in-process ``Context.from_app`` client)."""
    with _clients_lock:
        _pinned[(base, api_key or default_api_key())] = client


def _check_reachable(base: str) -> None:
    """Fail fast (the Tiled client retries for a long time when nothing listens)."""
    import httpx

    try:
        httpx.get(f"{base}/api/v1/", timeout=5.0)
    except httpx.HTTPError as error:
        raise RemoteDataError(base, f"no Tiled server answers ({type(error).__name__})") from None


def forget_clients(pinned: bool = False) -> None:
    """Drop cached clients (after a server restart or a key change).

    Args:
        pinned: also drop the clients given with ``use_client``.
    """
    with _clients_lock:
        _clients.clear()
        if pinned:
            _pinned.clear()


def tiled_node(uri: str, api_key: str | None = None) -> Any:
    """The Tiled client node a URI names."""
    base, path = split_tiled_uri(uri)
    client = tiled_client(base, api_key)
    if not path:
        return client
    try:
        return client[path]
    except KeyError:
        raise DatasetNotFoundError(uri, "no such node on the Tiled server") from None
    except Exception as error:
        raise RemoteDataError(uri, _describe(error)) from None


def dataset_from_node(uri: str, node: Any) -> ImageDataset:
    """Wrap a Tiled node: an array is one image or a stack; a container lists its arrays."""
    family = str(getattr(node, "structure_family", ""))
    if family.endswith("array"):
        try:
            return TiledArrayDataset(uri, node)
        except ValueError as error:
            raise NotAnImageError(uri, str(error)) from None
    if family.endswith("container"):
        children = sorted(node.items(), key=lambda item: natural_key(item[0]))
        sources = [
            _ArraySource(child)
            for _, child in children
            if str(child.structure_family).endswith("array") and len(child.shape) >= 2
        ]
        if not sources:
            raise DatasetNotFoundError(uri, "the Tiled container holds no image arrays")
        return FileDataset(uri, sources)
    raise NotAnImageError(uri, f"a Tiled {family or 'node'} is not an image array")


def open_tiled_dataset(uri: str, api_key: str | None = None) -> ImageDataset:
    """The images at a Tiled URI."""
    base, path = split_tiled_uri(uri)
    return dataset_from_node(tiled_node_uri(base, path), tiled_node(uri, api_key))


def read_tiled_array(uri: str, api_key: str | None = None) -> np.ndarray:
    """The whole array at a Tiled URI (a container of arrays is stacked)."""
    node = tiled_node(uri, api_key)
    if str(getattr(node, "structure_family", "")).endswith("array"):
        try:
            return np.asarray(node.read())
        except Exception as error:
            raise RemoteDataError(uri, _describe(error)) from None
    return dataset_from_node(uri, node).read()


class TiledArrayDataset(ArrayDataset):
    """Items of one Tiled array node; only requested slices (and strides) travel."""

    def __init__(self, uri: str, node: Any) -> None:
        super().__init__(uri, node)
        self.node = node
        self.metadata = dict(node.metadata)
        chunks = node.chunks
        # One chunk per slice: the block endpoint serves a slice about twice as fast.
        self._block_per_item = (
            not self._single
            and len(chunks) >= 3
            and all(size == 1 for size in chunks[0])
            and all(len(sizes) == 1 for sizes in chunks[1:])
        )

    def _read_item(self, index: int) -> np.ndarray:
        if self._block_per_item:
            block = (index,) + (0,) * (len(self.node.chunks) - 1)
            return np.asarray(self.node.read_block(block)).reshape(self.item_shape)
        return super()._read_item(index)


def _describe(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response is not None:
        if response.status_code in (401, 403):
            return f"the server refused the API key (HTTP {response.status_code})"
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return f"{type(error).__name__}: {error}"
