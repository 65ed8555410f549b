"""Latent runners against a real (in-process) Tiled server: tables in, tables out."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from algorithms.__main__ import run_spec
from algorithms.data import ResultsWriter
from algorithms.events import EventEmitter
from algorithms.spec import JobSpec
from tests.fixtures.tiled import InProcessTiled


def _spec(tiled: InProcessTiled, name: str, job_id: str, data_uri: str, **params) -> JobSpec:
    return JobSpec(
        job_id=job_id,
        algorithm=name,
        step="run",
        parameters=params,
        inputs={"data_uri": data_uri, "tiled_api_key": tiled.api_key},
        outputs={"results_uri": tiled.uri("results"), "tiled_api_key": tiled.api_key},
        seed=0,
    )


def test_pca_and_kmeans_read_and_write_tiled_tables(tiled_in_process: InProcessTiled) -> None:
    vectors, truth = make_blobs(n_samples=90, centers=3, n_features=5, random_state=4)
    upstream = ResultsWriter(
        tiled_in_process.uri("results"), "h3-autoencoder", tiled_in_process.api_key
    )
    table = pd.DataFrame(vectors, columns=[f"z{k}" for k in range(5)])
    latent_uri = upstream.write_table("latent_vectors", table)

    events = EventEmitter()
    spec = _spec(tiled_in_process, "pca", "h3-pca", latent_uri, n_components=2)
    assert run_spec("pca", "run", spec, events) == 0, events.events[-1]
    embedding_uri = events.events[-1]["outputs"]["embedding"]
    assert embedding_uri.startswith(tiled_in_process.base)

    events = EventEmitter()
    spec = _spec(tiled_in_process, "kmeans_clustering", "h3-km", embedding_uri, n_clusters=3)
    assert run_spec("kmeans_clustering", "run", spec, events) == 0, events.events[-1]
    node = tiled_in_process.client["results/h3-km/clusters"]
    clusters = node.read()["cluster"].to_numpy()
    assert adjusted_rand_score(truth, clusters) >= 0.9
