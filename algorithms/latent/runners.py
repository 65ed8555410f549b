"""Runners of the latent-space cards: read vectors, reduce or cluster, write a table.

Reductions write the table ``embedding`` (columns ``dim0``, ``dim1``, ...); clusterings write
the table ``clusters`` (column ``cluster``, -1 = noise). Row i belongs to input vector i.
``inputs.extra["columns"]`` may list the table columns to use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from algorithms.events import EventEmitter
from algorithms.latent.cards import (
    DbscanParameters,
    HdbscanParameters,
    KMeansClusteringParameters,
    PcaParameters,
    UmapParameters,
)
from algorithms.spec import JobSpec


def _announce(events: EventEmitter, name: str, uri: str) -> None:
    """Emit an artifact event for one output."""
    events.artifact(name, uri, kind="table" if uri.endswith(".parquet") else "array")


def _vectors(spec: JobSpec, events: EventEmitter) -> np.ndarray:
    from algorithms.latent.vectors import load_vectors

    columns = spec.inputs.extra.get("columns")
    vectors = load_vectors(spec.inputs.data_uri, spec.inputs.tiled_api_key, columns)
    events.progress(0.1, f"read {vectors.shape[0]} vectors of dimension {vectors.shape[1]}")
    return vectors


def _write(
    spec: JobSpec, events: EventEmitter, name: str, table: Any, info: dict[str, Any]
) -> dict[str, Any]:
    from algorithms.data import ResultsWriter

    writer = ResultsWriter(
        spec.outputs.results_uri,
        spec.job_id,
        spec.outputs.tiled_api_key,
        {"algorithm": spec.algorithm, "source": spec.inputs.data_uri},
    )
    uri = writer.write_table(name, table, info)
    _announce(events, name, uri)
    events.progress(1.0, "done")
    return {
        "outputs": {name: uri},
        "rows": len(table),
        "columns": [str(c) for c in table.columns],
        "results_uri": writer.uri,
        **info,
    }


def _reduce(
    spec: JobSpec, events: EventEmitter, reduce: Callable[[np.ndarray], Any]
) -> dict[str, Any]:
    import pandas as pd

    reduction = reduce(_vectors(spec, events))
    columns = [f"dim{k}" for k in range(reduction.embedding.shape[1])]
    table = pd.DataFrame(reduction.embedding, columns=columns)
    return _write(spec, events, "embedding", table, reduction.info)


def _cluster(spec: JobSpec, events: EventEmitter, labels_of: Callable[[np.ndarray], np.ndarray]):
    import pandas as pd

    labels = labels_of(_vectors(spec, events))
    table = pd.DataFrame({"cluster": labels.astype(np.int64)})
    found = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    info = {"n_clusters": found, "noise_points": int(np.sum(labels < 0))}
    return _write(spec, events, "clusters", table, info)


def run_pca(
    spec: JobSpec, params: PcaParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """PCA of the input vectors."""
    from algorithms.latent.reduction import pca_reduce

    seed = spec.seed or 0
    return _reduce(spec, events, lambda v: pca_reduce(v, params.n_components, params.whiten, seed))


def run_umap(
    spec: JobSpec, params: UmapParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """UMAP embedding of the input vectors."""
    from algorithms.latent.reduction import umap_reduce

    return _reduce(
        spec,
        events,
        lambda v: umap_reduce(
            v, params.n_components, params.n_neighbors, params.min_dist, params.metric, params.seed
        ),
    )


def run_kmeans_clustering(
    spec: JobSpec, params: KMeansClusteringParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """K-means clusters of the input vectors."""
    from algorithms.latent.clustering import kmeans_clusters

    seed = spec.seed or 0
    return _cluster(
        spec, events, lambda v: kmeans_clusters(v, params.n_clusters, params.max_iter, seed)
    )


def run_dbscan(
    spec: JobSpec, params: DbscanParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """DBSCAN clusters of the input vectors."""
    from algorithms.latent.clustering import dbscan_clusters

    return _cluster(spec, events, lambda v: dbscan_clusters(v, params.eps, params.min_samples))


def run_hdbscan(
    spec: JobSpec, params: HdbscanParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """HDBSCAN clusters of the input vectors."""
    from algorithms.latent.clustering import hdbscan_clusters

    return _cluster(
        spec, events, lambda v: hdbscan_clusters(v, params.min_cluster_size, params.min_samples)
    )
