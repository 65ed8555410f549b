"""Make UMAP's numba compilation a one-off cost per machine rather than per process.

Jobs run in fresh processes, and umap-learn compiles its numba kernels in every new process
(tens of seconds) because most of them are declared without ``cache=True``. Two steps fix it:
:func:`configure_numba_cache` points numba at a folder under ``MLEX_HOME`` (or
``~/.cache/mlex/numba``), and :func:`numba_caching` makes ``numba.njit``/``numba.jit`` default
to ``cache=True`` while umap is imported and fitted, so compiled kernels land in that folder and
the next process loads them instead of compiling.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def numba_cache_dir() -> Path:
    """Where numba caches compiled code: ``$MLEX_HOME/cache/numba`` or ~/.cache/mlex/numba."""
    home = os.environ.get("MLEX_HOME")
    base = Path(home) / "cache" if home else Path.home() / ".cache" / "mlex"
    return base / "numba"


def configure_numba_cache() -> str:
    """Set ``NUMBA_CACHE_DIR`` (unless already set) and create it; returns the folder.

    Best called before numba is imported; if it already is, numba's config is updated too.
    """
    folder = os.environ.get("NUMBA_CACHE_DIR")
    if not folder:
        folder = str(numba_cache_dir())
        os.environ["NUMBA_CACHE_DIR"] = folder
    Path(folder).mkdir(parents=True, exist_ok=True)
    numba = sys.modules.get("numba")
    if numba is not None and not getattr(numba.config, "CACHE_DIR", ""):
        numba.config.CACHE_DIR = folder
    return folder


def _caching(decorator: Callable[..., Any]) -> Callable[..., Any]:
    """``decorator`` (numba.njit or numba.jit) with ``cache=True`` unless told otherwise.

    A function numba cannot locate on disk (defined in a notebook cell or ``exec``) makes
    ``cache=True`` fail; it is then compiled uncached, as it would have been.
    """

    def with_cache(*args: Any, **kwargs: Any) -> Any:
        if "cache" in kwargs:
            return decorator(*args, **kwargs)
        if args and inspect.isfunction(args[0]):  # @numba.njit without arguments
            try:
                return decorator(*args, cache=True, **kwargs)
            except RuntimeError:
                return decorator(*args, **kwargs)
        cached, plain = decorator(*args, cache=True, **kwargs), decorator(*args, **kwargs)

        def apply(function: Any) -> Any:
            try:
                return cached(function)
            except RuntimeError:
                return plain(function)

        return apply

    with_cache.__wrapped__ = decorator  # type: ignore[attr-defined]
    return with_cache


@contextlib.contextmanager
def numba_caching() -> Iterator[None]:
    """Within the block, numba functions declared without ``cache`` are cached on disk."""
    configure_numba_cache()
    import numba

    original_njit, original_jit = numba.njit, numba.jit
    numba.njit, numba.jit = _caching(original_njit), _caching(original_jit)
    try:
        with warnings.catch_warnings():
            # Kernels that cannot be cached (closures, dynamic globals) still run, uncached.
            warnings.filterwarnings("ignore", category=numba.NumbaWarning)
            yield
    finally:
        numba.njit, numba.jit = original_njit, original_jit
