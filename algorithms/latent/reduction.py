"""Dimension reduction of feature vectors: PCA (scikit-learn) and UMAP (umap-learn).

UMAP's numba kernels compile on first use (tens of seconds). They are cached on disk (see
:mod:`algorithms.latent.numba_cache`), so only the first process on a machine pays; a worker
calls :func:`warm_up_umap` once at start so that even the first job does not.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from algorithms.errors import InputDataError, ParameterError
from algorithms.latent.numba_cache import configure_numba_cache, numba_caching

__all__ = [
    "Reduction",
    "check_vectors",
    "configure_numba_cache",
    "pca_reduce",
    "umap_reduce",
    "warm_up_umap",
]


@dataclass(frozen=True)
class Reduction:
    """An embedding (n, k) float32 and what the method reports about it."""

    embedding: np.ndarray
    info: dict[str, Any]


def _umap_class() -> Any:
    """umap.UMAP, imported without TensorFlow (ParametricUMAP is not used here)."""
    if "umap" not in sys.modules:
        # umap/__init__ imports parametric_umap, which imports TensorFlow (seconds, memory);
        # a None entry makes that import fail fast, and umap then leaves ParametricUMAP out.
        sys.modules.setdefault("umap.parametric_umap", None)  # type: ignore[arg-type]
    with numba_caching():
        from umap.umap_ import UMAP

    return UMAP


def check_vectors(vectors: np.ndarray, minimum: int = 2) -> np.ndarray:
    """Vectors as a finite float32 (n, d) array with at least ``minimum`` rows."""
    vectors = np.asarray(vectors)
    if vectors.ndim == 1:
        vectors = vectors[:, np.newaxis]
    if vectors.ndim != 2:
        raise InputDataError(f"expected a table of vectors (n, d), got shape {vectors.shape}")
    if vectors.shape[0] < minimum:
        raise InputDataError(f"need at least {minimum} vectors, got {vectors.shape[0]}")
    vectors = vectors.astype(np.float32, copy=False)
    if not np.isfinite(vectors).all():
        raise InputDataError("the vectors hold NaN or infinite values")
    return vectors


def pca_reduce(
    vectors: np.ndarray, n_components: int = 2, whiten: bool = False, seed: int = 0
) -> Reduction:
    """Project vectors (n, d) on their first ``n_components`` principal components."""
    from sklearn.decomposition import PCA

    vectors = check_vectors(vectors)
    limit = min(vectors.shape)
    if not 1 <= n_components <= limit:
        raise ParameterError("n_components", f"must be between 1 and {limit} for this data")
    pca = PCA(n_components=n_components, whiten=whiten, random_state=seed)
    embedding = pca.fit_transform(vectors).astype(np.float32)
    ratios = [float(v) for v in pca.explained_variance_ratio_]
    return Reduction(embedding, {"explained_variance_ratio": ratios})


def umap_reduce(
    vectors: np.ndarray,
    n_components: int = 2,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "euclidean",
    seed: int | None = 42,
) -> Reduction:
    """UMAP embedding (n, n_components) of vectors (n, d).

    ``n_neighbors`` is lowered to n - 1 for tiny data sets (UMAP needs n > n_neighbors).
    """
    vectors = check_vectors(vectors, minimum=3)
    if n_components < 1:
        raise ParameterError("n_components", "must be >= 1")
    if n_components >= vectors.shape[0] - 1:
        raise ParameterError("n_components", "must be smaller than the number of vectors - 1")
    if n_neighbors < 2:
        raise ParameterError("n_neighbors", "must be >= 2")
    if not 0.0 <= min_dist <= 1.0:
        raise ParameterError("min_dist", "must be between 0 and 1")
    neighbors = min(n_neighbors, vectors.shape[0] - 1)
    umap_class = _umap_class()
    reducer = umap_class(
        n_components=n_components,
        n_neighbors=neighbors,
        min_dist=min_dist,
        metric=metric,
        random_state=seed,
        n_jobs=1 if seed is not None else -1,
    )
    with numba_caching():  # kernels umap builds while fitting are cached too
        embedding = np.asarray(reducer.fit_transform(vectors), dtype=np.float32)
    return Reduction(embedding, {"n_neighbors": neighbors})


def warm_up_umap() -> float:
    """Fit a tiny UMAP so numba compiles (or loads from its cache) now; returns seconds taken."""
    import time

    started = time.perf_counter()
    points = np.random.default_rng(0).normal(size=(40, 4)).astype(np.float32)
    umap_reduce(points, n_components=2, n_neighbors=5, seed=0)
    return time.perf_counter() - started
