"""URI forms MLEx accepts, and the guard that keeps file access inside the data roots."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from algorithms.data.errors import DatasetNotFoundError, PathOutsideRootsError

# Routes of the Tiled HTTP API that may appear in a URI pasted from a browser.
TILED_ROUTES = (
    "metadata",
    "array/full",
    "array/block",
    "table/full",
    "table/partition",
    "node/full",
    "container/full",
    "search",
)


def is_remote(uri: str) -> bool:
    """True for Tiled URIs (http:// or https://)."""
    return uri.startswith(("http://", "https://"))


def split_tiled_uri(uri: str) -> tuple[str, str]:
    """Split a Tiled URI into (server base URL, node path).

    Accepts ``http://host:port/api/v1/metadata/a/b``, any other ``/api/v1/<route>/a/b`` and the
    short form ``http://host:port/a/b``.
    """
    parts = urlsplit(uri)
    base = f"{parts.scheme}://{parts.netloc}"
    path = unquote(parts.path).strip("/")
    if path.startswith("api/v1"):
        path = path[len("api/v1") :].strip("/")
        for route in TILED_ROUTES:
            if path == route or path.startswith(route + "/"):
                path = path[len(route) :].strip("/")
                break
    return base, path


def tiled_node_uri(base: str, path: str) -> str:
    """The canonical metadata URI of a node."""
    path = path.strip("/")
    return f"{base.rstrip('/')}/api/v1/metadata/{path}" if path else f"{base.rstrip('/')}/api/v1/"


def local_path(uri: str) -> str:
    """The file-system path of a folder URI (``/path``, ``file:///path`` or relative)."""
    if uri.startswith("file://"):
        return unquote(urlsplit(uri).path)
    return uri


def configured_roots() -> list[Path]:
    """Folders named by ``MLEX_DATA_ROOTS`` (``os.pathsep``-separated); empty when unset."""
    value = os.environ.get("MLEX_DATA_ROOTS", "")
    return [Path(item).expanduser() for item in value.split(os.pathsep) if item.strip()]


def resolve_path(path: str | Path, roots: list[Path] | None = None) -> Path:
    """Resolve ``path`` (following symlinks) and check it lies inside one of ``roots``.

    With ``roots`` None, ``MLEX_DATA_ROOTS`` decides; with no roots at all, any path is allowed
    (a notebook or a test). A relative path is taken relative to the first root.
    """
    if roots is None:
        roots = configured_roots()
    candidate = Path(path).expanduser()
    if roots and not candidate.is_absolute():
        candidate = Path(roots[0]) / candidate
    resolved = candidate.resolve(strict=False)
    if roots and not within_roots(resolved, roots):
        raise PathOutsideRootsError(str(path), [str(root) for root in roots])
    if not resolved.exists():
        raise DatasetNotFoundError(str(path), "no such file or folder")
    return resolved


def within_roots(resolved: Path, roots: list[Path]) -> bool:
    """True when the already-resolved ``resolved`` is one of ``roots`` or lies below one."""
    for root in roots:
        root_resolved = Path(root).expanduser().resolve(strict=False)
        if resolved == root_resolved or resolved.is_relative_to(root_resolved):
            return True
    return False


def default_api_key() -> str | None:
    """``MLEX_TILED_API_KEY``, else the key the local Tiled server keeps in ``MLEX_HOME``."""
    key = os.environ.get("MLEX_TILED_API_KEY")
    if key:
        return key
    home = Path(os.environ.get("MLEX_HOME", "~/.local/share/mlex")).expanduser()
    path = home / "tiled" / "api_key"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
