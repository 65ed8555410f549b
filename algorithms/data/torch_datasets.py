"""PyTorch data sets over any MLEx URI (torch is imported only when tensors are made).

``TrainingImages`` downloads a remote training set once and keeps it on disk, keyed by URI and
version, under ``$MLEX_HOME/cache/datasets``; ``StreamingImages`` reads items one at a time
(inference over large data). Both are map-style data sets usable with ``DataLoader`` workers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from algorithms.data import open_dataset, read_array
from algorithms.data.base import ImageDataset
from algorithms.data.uris import is_remote


def dataset_cache_dir() -> Path:
    """``$MLEX_HOME/cache/datasets``."""
    home = Path(os.environ.get("MLEX_HOME", "~/.local/share/mlex")).expanduser()
    return home / "cache" / "datasets"


def cache_path(uri: str, version: str | None = None, cache_dir: Path | None = None) -> Path:
    """Where the cached copy of ``uri`` at ``version`` lives."""
    digest = hashlib.sha256(f"{uri}\n{version or ''}".encode()).hexdigest()[:32]
    return (cache_dir or dataset_cache_dir()) / f"{digest}.npy"


def cached_array(
    uri: str,
    api_key: str | None = None,
    version: str | None = None,
    cache_dir: Path | None = None,
    as_images: bool = True,
) -> np.ndarray:
    """The array at ``uri``, downloaded once and then memory-mapped from the disk cache.

    Local paths are not copied. Args:
        version: part of the cache key; change it when the data set changes.
        as_images: read as a stack of images (``open_dataset``) rather than the raw array.
    """
    if not is_remote(uri):
        return open_dataset(uri).read() if as_images else read_array(uri)
    path = cache_path(uri, version, cache_dir)
    if path.exists():
        return np.load(path, mmap_mode="r")
    path.parent.mkdir(parents=True, exist_ok=True)
    array = open_dataset(uri, api_key).read() if as_images else read_array(uri, api_key)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, np.ascontiguousarray(array), allow_pickle=False)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    info = {"uri": uri, "version": version, "shape": list(array.shape), "dtype": str(array.dtype)}
    path.with_suffix(".json").write_text(json.dumps(info))
    return np.load(path, mmap_mode="r")


def image_tensor(image: np.ndarray) -> Any:
    """(Y,X) or (Y,X,C) image as a float32 (C,Y,X) tensor."""
    import torch

    array = np.asarray(image, dtype=np.float32)
    array = array[np.newaxis] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    return torch.from_numpy(np.ascontiguousarray(array))


class TrainingImages:
    """Images (and optional per-item or per-pixel labels) held in memory or memory-mapped.

    ``ds[i]`` is ``image`` or ``(image, label)``: image a float32 (C,Y,X) tensor, label an int64
    tensor (scalar for classes, (Y,X) for masks).
    """

    def __init__(
        self,
        uri: str,
        labels: np.ndarray | None = None,
        api_key: str | None = None,
        version: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.uri = uri
        self.images = cached_array(uri, api_key, version, cache_dir)
        if labels is not None and len(labels) != len(self.images):
            from algorithms.errors import ParameterError

            raise ParameterError(
                "labels", f"has {len(labels)} entries, the data set {len(self.images)} items"
            )
        self.labels = labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> Any:
        image = image_tensor(self.images[index])
        if self.labels is None:
            return image
        import torch

        return image, torch.as_tensor(np.asarray(self.labels[index]).astype(np.int64))


class StreamingImages:
    """Items read one at a time from the source; each worker process opens its own reader.

    ``ds[i]`` is ``(index, image)`` with image a float32 (C,Y,X) tensor.
    """

    def __init__(self, uri: str, api_key: str | None = None) -> None:
        self.uri = uri
        self.api_key = api_key
        self._dataset: ImageDataset | None = open_dataset(uri, api_key)
        self._length = len(self._dataset)

    @property
    def dataset(self) -> ImageDataset:
        """The reader (reopened after the object travelled to a worker process)."""
        if self._dataset is None:
            self._dataset = open_dataset(self.uri, self.api_key)
        return self._dataset

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_dataset"] = None  # file handles and HTTP clients do not cross processes
        return state

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[int, Any]:
        return index, image_tensor(self.dataset[index])
