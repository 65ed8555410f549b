"""``GET /thumbnails?uri=&index=&size=&transform=&format=``: a PNG/WebP of any data set item.

Thumbnails are strided reads (only the needed pixels travel), scaled with one display range
per data set and transform (so neighbouring thumbnails compare), cached in memory (LRU) and on
disk, and served from a threaded server so a page's 100 thumbnails load in parallel.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from algorithms.data import open_dataset
from algorithms.data.base import ImageDataset
from algorithms.data.errors import (
    DatasetNotFoundError,
    ItemIndexError,
    NotAnImageError,
    PathOutsideRootsError,
    RemoteDataError,
)
from algorithms.data.transforms import Percentiles, fit_percentiles, log_transform
from algorithms.data.uris import configured_roots, default_api_key
from algorithms.errors import ParameterError

TRANSFORMS = ("none", "percentile", "log")
FORMATS = {"png": "image/png", "webp": "image/webp"}
DEFAULT_SIZE = 128
MAX_SIZE = 1024
# Open data sets are reopened after this long, so new files and finished results show up.
DATASET_TTL_S = 60.0
# Display ranges are fitted on thumbnails of this size: fast, and close to the full-size range.
FIT_SIZE = 256


class LruCache:
    """A thread-safe least-recently-used mapping of at most ``capacity`` entries."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class _Thumbnails:
    """A sequence of a data set's thumbnails, so transforms can fit on small reads."""

    def __init__(self, dataset: ImageDataset, size: int, transform: Callable[[Any], Any]) -> None:
        self.dataset, self.size, self.transform = dataset, size, transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.transform(self.dataset.thumbnail(index, self.size))


def _identity(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=np.float32)


def display_range(dataset: ImageDataset, transform: str) -> Percentiles | None:
    """One display range for the whole data set (None: 8-bit data shown as is)."""
    if transform == "none" and dataset.dtype == np.uint8:
        return None
    prepare = log_transform if transform == "log" else _identity
    low, high = (0.0, 100.0) if transform == "none" else (1.0, 99.0)
    return fit_percentiles(_Thumbnails(dataset, FIT_SIZE, prepare), low=low, high=high)


def to_uint8(image: np.ndarray, transform: str, percentiles: Percentiles | None) -> np.ndarray:
    """Scale an image to 0..255 with the data set's display range."""
    if percentiles is None:
        return np.asarray(image, dtype=np.uint8)
    values = log_transform(image) if transform == "log" else np.asarray(image, dtype=np.float32)
    span = percentiles.high - percentiles.low
    if span <= 0:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (values - np.float32(percentiles.low)) / np.float32(span)
    return (np.clip(np.nan_to_num(scaled), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def encode_image(image: np.ndarray, size: int, image_format: str) -> bytes:
    """Encode an 8-bit image as PNG or WebP, its longest side brought to ``size``."""
    from PIL import Image

    if image.ndim == 3 and image.shape[-1] not in (3, 4):
        image = image[..., 0]
    picture = Image.fromarray(np.ascontiguousarray(image))
    width, height = picture.size
    scale = size / max(width, height)
    if scale != 1:
        new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        picture = picture.resize(new_size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    if image_format == "webp":
        picture.save(buffer, format="WEBP", quality=85, method=0)
    else:
        picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def in_progress(dataset: ImageDataset) -> bool:
    """True for a result still being written (its metadata says ``complete: false``)."""
    metadata = getattr(dataset, "metadata", None)
    if metadata is None and dataset.uri.endswith(".npy") and not dataset.uri.startswith("http"):
        sidecar = Path(dataset.uri[: -len(".npy")] + ".json")
        try:
            metadata = json.loads(sidecar.read_text()) if sidecar.exists() else None
        except (OSError, ValueError):
            metadata = None
    return isinstance(metadata, dict) and metadata.get("complete") is False


class ThumbnailService:
    """Opens data sets, fits display ranges and renders cached thumbnails.

    Args:
        cache_dir: disk cache folder (None: memory only).
        roots: folders local paths must lie in (default: MLEX_DATA_ROOTS plus MLEX_HOME).
        api_key: Tiled API key (default: MLEx's configured key).
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        roots: list[Path] | None = None,
        api_key: str | None = None,
        memory_items: int = 4096,
    ) -> None:
        if roots is None:
            home = Path(os.environ.get("MLEX_HOME", "~/.local/share/mlex")).expanduser()
            roots = [*configured_roots(), home]
        self.roots = roots
        self.api_key = api_key
        self.cache_dir = cache_dir
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
        self.images = LruCache(memory_items)
        self._datasets = LruCache(64)
        self._ranges = LruCache(256)
        self._locks: dict[Any, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _lock_for(self, key: Any) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def dataset(self, uri: str) -> ImageDataset:
        """The open data set, shared by threads; results still being written are not kept."""
        entry = self._datasets.get(uri)
        if entry is not None and time.monotonic() - entry[1] < DATASET_TTL_S:
            return entry[0]
        with self._lock_for(("dataset", uri)):
            entry = self._datasets.get(uri)
            if entry is not None and time.monotonic() - entry[1] < DATASET_TTL_S:
                return entry[0]
            api_key = self.api_key or default_api_key()
            dataset = open_dataset(uri, api_key=api_key, roots=self.roots)
            if not in_progress(dataset):
                self._datasets.put(uri, (dataset, time.monotonic()))
            return dataset

    def percentiles(self, uri: str, transform: str) -> Percentiles | None:
        """The data set's display range for ``transform`` (fitted once)."""
        key = (uri, transform)
        cached = self._ranges.get(key)
        if cached is None:
            with self._lock_for(("range", uri, transform)):
                cached = self._ranges.get(key)
                if cached is None:
                    cached = (display_range(self.dataset(uri), transform),)
                    self._ranges.put(key, cached)
        return cached[0]

    def default_transform(self, uri: str) -> str:
        """The transform a data set asks for in its metadata, else ``percentile``."""
        metadata = getattr(self.dataset(uri), "metadata", None) or {}
        transform = metadata.get("transform")
        return transform if transform in TRANSFORMS else "percentile"

    def thumbnail(
        self,
        uri: str,
        index: int,
        size: int = DEFAULT_SIZE,
        transform: str | None = None,
        image_format: str = "png",
    ) -> bytes:
        """Encoded thumbnail bytes of item ``index``.

        Args:
            transform: ``none``, ``percentile`` or ``log``; None takes the data set's own
                (``transform`` in its metadata, e.g. ``log`` for scattering data) or percentile.
        """
        if not 1 <= size <= MAX_SIZE:
            raise ParameterError("size", f"must be between 1 and {MAX_SIZE}")
        if transform is not None and transform not in TRANSFORMS:
            raise ParameterError("transform", f"must be one of {', '.join(TRANSFORMS)}")
        if image_format not in FORMATS:
            raise ParameterError("format", f"must be one of {', '.join(FORMATS)}")
        key = (uri, int(index), size, transform or "auto", image_format)
        cached = self.images.get(key)
        if cached is not None:
            return cached
        disk_path = self._disk_path(key)
        if disk_path is not None and disk_path.exists():
            data = disk_path.read_bytes()
            self.images.put(key, data)
            return data
        dataset = self.dataset(uri)
        if transform is None:
            transform = self.default_transform(uri)
        image = dataset.thumbnail(index, size)
        if in_progress(dataset):
            # Unfinished slices change: scale this image on its own and keep nothing.
            if dataset.is_colour and dataset.dtype == np.uint8:
                return encode_image(image, size, image_format)
            prepared = log_transform(image) if transform == "log" else image
            low, high = (0.0, 100.0) if transform == "none" else (1.0, 99.0)
            percentiles = fit_percentiles(np.asarray(prepared), low=low, high=high)
            return encode_image(to_uint8(image, transform, percentiles), size, image_format)
        if dataset.is_colour and dataset.dtype == np.uint8:
            pixels = image
        else:
            pixels = to_uint8(image, transform, self.percentiles(uri, transform))
        data = encode_image(pixels, size, image_format)
        self.images.put(key, data)
        if disk_path is not None:
            temp = disk_path.with_suffix(f".{threading.get_ident()}.tmp")
            temp.write_bytes(data)
            os.replace(temp, disk_path)
        return data

    def _disk_path(self, key: tuple[Any, ...]) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        return self.cache_dir / f"{digest}.{key[-1]}"


ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (PathOutsideRootsError, 403),
    (ItemIndexError, 404),
    (DatasetNotFoundError, 404),
    (NotAnImageError, 415),
    (RemoteDataError, 502),
    (ParameterError, 400),
)


def thumbnails_blueprint(service: ThumbnailService | None = None) -> Any:
    """The Flask blueprint serving ``GET /thumbnails``."""
    import flask

    service = service or ThumbnailService(cache_dir=_default_cache_dir())
    blueprint = flask.Blueprint("thumbnails", __name__)

    @blueprint.get("/thumbnails")
    def get_thumbnail() -> Any:
        args = flask.request.args
        try:
            uri = args.get("uri", "")
            if not uri:
                raise ParameterError("uri", "is required")
            index = _int_arg(args, "index", 0)
            size = _int_arg(args, "size", DEFAULT_SIZE)
            image_format = args.get("format") or _preferred_format(flask.request)
            transform = args.get("transform") or None
            data = service.thumbnail(uri, index, size, transform, image_format)
        except Exception as error:
            for error_type, status in ERROR_STATUS:
                if isinstance(error, error_type):
                    return flask.jsonify({"detail": str(error)}), status
            raise
        response = flask.Response(data, mimetype=FORMATS[image_format])
        response.headers["Cache-Control"] = "private, max-age=3600"
        return response

    blueprint.service = service  # type: ignore[attr-defined]
    return blueprint


def _int_arg(args: Any, name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ParameterError(name, f"must be an integer, got {value!r}") from None


def _preferred_format(request: Any) -> str:
    return "webp" if "image/webp" in request.headers.get("Accept", "") else "png"


def _default_cache_dir() -> Path:
    home = Path(os.environ.get("MLEX_HOME", "~/.local/share/mlex")).expanduser()
    return home / "cache" / "thumbnails"
