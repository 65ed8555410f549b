"""Exports of a data set's current labels: CSV, JSON, and a ZIP of images, one folder per class."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from services.common.errors import Invalid
from services.labels.current import CurrentLabels

CSV_COLUMNS = ("item", "uri", "label", "confidence", "event_id", "tagger_id", "locator")
CHUNK_ROWS = 2000
CHUNK_BYTES = 1 << 16


def _chunks(current: CurrentLabels, names: dict[int, str]) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(current), CHUNK_ROWS):
        yield list(current.tuples(names, start, start + CHUNK_ROWS))


def csv_chunks(current: CurrentLabels, names: dict[int, str]) -> Iterator[str]:
    """One CSV line per (item, label), header first, in chunks of a few thousand lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for chunk in _chunks(current, names):
        writer.writerows(chunk)  # None is written as an empty field
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def json_chunks(
    dataset: dict[str, Any],
    classes: list[dict[str, Any]],
    current: CurrentLabels,
    names: dict[int, str],
) -> Iterator[str]:
    """``{"dataset": ..., "classes": [...], "labels": [...]}`` written piece by piece."""
    yield '{"dataset": ' + json.dumps(dataset) + ', "classes": ' + json.dumps(classes)
    yield ', "labels": ['
    separator = ""
    for chunk in _chunks(current, names):
        records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in chunk]
        yield separator + json.dumps(records)[1:-1]
        separator = ", "
    yield "]}"


def open_images(uri: str) -> Any:
    """The data layer's lazy image data set for ``uri`` (a folder or a Tiled node)."""
    try:
        from algorithms.data import open_dataset
    except ImportError as error:  # the data layer is not installed in this image
        raise Invalid(f"cannot read images here: {error}", field="uri") from None
    try:
        return open_dataset(uri)
    except Exception as error:  # data-layer errors carry a message a user can act on
        raise Invalid(f"cannot read data set {uri!r}: {error}", field="uri") from None


def count_items(uri: str) -> int:
    """Number of items of the data at ``uri``."""
    return len(open_images(uri))


def to_png_bytes(image: np.ndarray) -> bytes:
    """Encode one (Y,X) or (Y,X,C) image as PNG; values outside 0..255 are stretched to 8 bits."""
    from PIL import Image

    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind in "ui" and array.size and array.min() >= 0 and array.max() <= 255:
        # 8-bit data held in a wider type (a folder mixing bit depths) keeps its values.
        array = array.astype(np.uint8)
    elif array.dtype != np.uint8:
        array = array.astype(np.float64)
        finite = np.isfinite(array)
        low = float(array[finite].min()) if finite.any() else 0.0
        high = float(array[finite].max()) if finite.any() else 0.0
        scale = 255.0 / (high - low) if high > low else 0.0
        array = np.nan_to_num((array - low) * scale).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def write_zip(
    target: IO[bytes], images: Any, current: CurrentLabels, names: dict[int, str]
) -> None:
    """Write ``<class>/<item>.png`` for every current label (image-folder layout).

    An item with several labels appears in each of its classes' folders; each image is
    encoded once.
    """
    by_item: dict[int, list[str]] = {}
    for item, class_id in zip(current.item.tolist(), current.class_id.tolist(), strict=True):
        by_item.setdefault(item, []).append(names[class_id])
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for folder in sorted({names[class_id] for class_id in current.class_id.tolist()}):
            archive.writestr(zipfile.ZipInfo(folder + "/"), b"")
        for item in sorted(by_item):
            png = to_png_bytes(images[item])
            for folder in by_item[item]:
                archive.writestr(f"{folder}/{item:06d}.png", png)


def build_zip(images: Any, current: CurrentLabels, names: dict[int, str]) -> IO[bytes]:
    """The whole ZIP in a spooled temporary file (memory, then disk), rewound."""
    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115 - closed by the reader
    try:
        write_zip(spool, images, current, names)  # type: ignore[arg-type]
    except Exception as error:
        spool.close()
        raise Invalid(f"cannot read the data set's images: {error}", field="uri") from None
    spool.seek(0)
    return spool  # type: ignore[return-value]


def file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """Stream an open file, closing it at the end."""
    try:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()
