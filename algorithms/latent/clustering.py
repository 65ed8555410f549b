"""Clustering of feature vectors: k-means, DBSCAN and HDBSCAN (scikit-learn).

Cluster numbers are made stable: clusters are renumbered by decreasing size (ties by first
appearance), and noise stays -1, so the same data gives the same labels whatever the
algorithm's internal order.
"""

from __future__ import annotations

import numpy as np

from algorithms.errors import ParameterError
from algorithms.latent.reduction import check_vectors

NOISE = -1


def renumber_by_size(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0, 1, ... by decreasing cluster size; ``NOISE`` (-1) is kept."""
    labels = np.asarray(labels, dtype=np.int64)
    result = np.full(labels.shape, NOISE, dtype=np.int64)
    clustered = labels != NOISE
    values, first_seen, inverse, counts = np.unique(
        labels[clustered], return_index=True, return_inverse=True, return_counts=True
    )
    ranking = np.lexsort((first_seen, -counts))  # by size, then by first appearance
    new_number = np.empty(values.size, dtype=np.int64)
    new_number[ranking] = np.arange(values.size)
    result[clustered] = new_number[inverse.reshape(-1)]
    return result


def kmeans_clusters(
    vectors: np.ndarray, n_clusters: int = 8, max_iter: int = 300, seed: int = 0
) -> np.ndarray:
    """K-means labels (n,) of vectors (n, d)."""
    from sklearn.cluster import KMeans

    vectors = check_vectors(vectors, minimum=1)
    if not 2 <= n_clusters <= vectors.shape[0]:
        raise ParameterError("n_clusters", f"must be between 2 and {vectors.shape[0]} here")
    if max_iter < 1:
        raise ParameterError("max_iter", "must be >= 1")
    model = KMeans(n_clusters=n_clusters, max_iter=max_iter, n_init=3, random_state=seed)
    return renumber_by_size(model.fit_predict(vectors))


def dbscan_clusters(vectors: np.ndarray, eps: float = 0.5, min_samples: int = 5) -> np.ndarray:
    """DBSCAN labels (n,); -1 marks noise."""
    from sklearn.cluster import DBSCAN

    vectors = check_vectors(vectors, minimum=1)
    if eps <= 0:
        raise ParameterError("eps", "must be > 0")
    if min_samples < 1:
        raise ParameterError("min_samples", "must be >= 1")
    return renumber_by_size(DBSCAN(eps=eps, min_samples=min_samples).fit_predict(vectors))


def hdbscan_clusters(
    vectors: np.ndarray, min_cluster_size: int = 5, min_samples: int | None = None
) -> np.ndarray:
    """HDBSCAN labels (n,); -1 marks noise."""
    from sklearn.cluster import HDBSCAN

    vectors = check_vectors(vectors, minimum=2)
    if min_cluster_size < 2:
        raise ParameterError("min_cluster_size", "must be >= 2")
    if min_samples is not None and min_samples < 1:
        raise ParameterError("min_samples", "must be >= 1")
    model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True)
    return renumber_by_size(model.fit_predict(vectors))
