"""Errors raised while reading or writing data, each with a message a user can act on."""

from __future__ import annotations

from algorithms.errors import InputDataError


class DataError(InputDataError):
    """Base class of data-layer errors."""


class DatasetNotFoundError(DataError):
    """The URI names no data set (no such folder, file or Tiled node)."""

    def __init__(self, uri: str, detail: str = "") -> None:
        self.uri = uri
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"data set not found: {uri}{suffix}", field="uri")


class ItemIndexError(DataError, IndexError):
    """An item index is outside ``0 <= index < len(dataset)``."""

    def __init__(self, index: int, length: int, uri: str = "") -> None:
        self.index = index
        self.length = length
        where = f" of {uri}" if uri else ""
        super().__init__(
            f"item index {index} out of range: data set{where} has {length} items "
            f"(valid: 0..{length - 1})",
            field="index",
        )


class NotAnImageError(DataError):
    """A file is not an image, array or volume MLEx can read."""

    def __init__(self, path: str, detail: str = "") -> None:
        self.path = path
        suffix = f": {detail}" if detail else ""
        super().__init__(f"not an image or array file: {path}{suffix}", field="uri")


class PathOutsideRootsError(DataError, PermissionError):
    """A path (or the target of a symlink) lies outside the configured data roots."""

    def __init__(self, path: str, roots: list[str]) -> None:
        self.path = path
        self.roots = roots
        super().__init__(
            f"path {path} is outside the configured data roots "
            f"({', '.join(roots) or 'none configured'}); it is never served",
            field="uri",
        )


class RemoteDataError(DataError):
    """A Tiled server refused a request or could not be reached."""

    def __init__(self, uri: str, detail: str) -> None:
        self.uri = uri
        super().__init__(f"cannot read {uri}: {detail}", field="uri")
