"""Unsupervised k-means pixel segmentation (MLExchange segmentation: 2 clusters, 300 iterations).

Pixels are clustered on their intensity, optionally with multi-scale filter features; the fit
uses a random sample of pixels and every pixel is then assigned to its nearest centre. Clusters
are numbered by increasing mean intensity, so label 0 is always the darkest phase and the order
does not depend on the random initialisation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from algorithms.classical.arrays import as_stack
from algorithms.classical.features import Dimensions, features_at, iter_feature_blocks
from algorithms.errors import ParameterError


@dataclass
class PixelClusters:
    """A fitted k-means model, its feature scaling, and the cluster renumbering."""

    kmeans: Any  # sklearn.cluster.KMeans
    mean: np.ndarray
    scale: np.ndarray
    order: np.ndarray  # order[fitted cluster] = label (by increasing mean intensity)
    features: tuple[str, ...]
    sigmas: tuple[float, ...]
    dimensions: Dimensions
    cluster_intensity: np.ndarray  # mean intensity of each label


def fit_pixel_clusters(
    images: np.ndarray,
    n_clusters: int = 2,
    max_iter: int = 300,
    features: Sequence[str] = ("intensity",),
    sigmas: Sequence[float] = (1.0, 2.0, 4.0),
    dimensions: Dimensions = "2d",
    max_fit_pixels: int = 200_000,
    seed: int = 0,
) -> PixelClusters:
    """Fit k-means on a random sample of at most ``max_fit_pixels`` pixels of ``images``."""
    from sklearn.cluster import KMeans

    if n_clusters < 2:
        raise ParameterError("n_clusters", "must be >= 2")
    if max_iter < 1:
        raise ParameterError("max_iter", "must be >= 1")
    if max_fit_pixels < n_clusters:
        raise ParameterError("max_fit_pixels", "must be >= n_clusters")
    images = as_stack(images)
    rng = np.random.default_rng(seed)
    size = images.size
    chosen = rng.choice(size, size=min(size, max_fit_pixels), replace=False)
    selected = np.zeros(images.shape, dtype=bool)
    selected.flat[chosen] = True
    vectors = _vectors_at(images, selected, features, sigmas, dimensions)
    if vectors.shape[0] < n_clusters:
        raise ParameterError("n_clusters", f"must be <= the number of pixels ({vectors.shape[0]})")
    mean = vectors.mean(axis=0)
    scale = vectors.std(axis=0)
    scale[scale == 0] = 1.0
    kmeans = KMeans(n_clusters=n_clusters, max_iter=max_iter, n_init=3, random_state=seed)
    assignment = kmeans.fit_predict((vectors - mean) / scale)
    intensity = images[selected]
    cluster_means = np.array(
        [
            intensity[assignment == k].mean() if (assignment == k).any() else np.inf
            for k in range(n_clusters)
        ]
    )
    ranking = np.argsort(cluster_means, kind="stable")
    order = np.empty(n_clusters, dtype=np.int64)
    order[ranking] = np.arange(n_clusters)
    return PixelClusters(
        kmeans=kmeans,
        mean=mean,
        scale=scale,
        order=order,
        features=tuple(features),
        sigmas=tuple(float(s) for s in sigmas),
        dimensions=dimensions,
        cluster_intensity=cluster_means[ranking].astype(np.float64),
    )


def _vectors_at(
    images: np.ndarray,
    selected: np.ndarray,
    features: Sequence[str],
    sigmas: Sequence[float],
    dimensions: Dimensions,
) -> np.ndarray:
    if tuple(features) == ("intensity",):
        return images[selected][:, np.newaxis]
    return features_at(images, selected, sigmas, features, dimensions)


def iter_cluster_masks(
    clusters: PixelClusters, images: np.ndarray
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(start, stop, labels uint8 (k, Y, X))`` for blocks of slices."""
    images = as_stack(images)
    if clusters.features == ("intensity",):
        blocks: Any = (
            (start, min(start + 64, len(images)), images[start : start + 64, ..., np.newaxis])
            for start in range(0, len(images), 64)
        )
    else:
        blocks = iter_feature_blocks(
            images, clusters.sigmas, clusters.features, clusters.dimensions
        )
    for start, stop, block in blocks:
        vectors = (block.reshape(-1, block.shape[-1]) - clusters.mean) / clusters.scale
        labels = clusters.order[clusters.kmeans.predict(vectors.astype(np.float32))]
        yield start, stop, labels.astype(np.uint8).reshape(block.shape[:-1])


def kmeans_segment(
    images: np.ndarray,
    n_clusters: int = 2,
    max_iter: int = 300,
    features: Sequence[str] = ("intensity",),
    sigmas: Sequence[float] = (1.0, 2.0, 4.0),
    dimensions: Dimensions = "2d",
    seed: int = 0,
) -> np.ndarray:
    """Cluster labels (N, Y, X) uint8 of a stack or volume, 0 = darkest cluster."""
    images = as_stack(images)
    clusters = fit_pixel_clusters(
        images, n_clusters, max_iter, features, sigmas, dimensions, seed=seed
    )
    mask = np.zeros(images.shape, dtype=np.uint8)
    for start, stop, block in iter_cluster_masks(clusters, images):
        mask[start:stop] = block
    return mask
