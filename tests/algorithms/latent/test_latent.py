"""PCA and clusterers on well-separated blobs; renumbering; vector loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from algorithms.errors import InputDataError, ParameterError
from algorithms.latent.clustering import (
    NOISE,
    dbscan_clusters,
    hdbscan_clusters,
    kmeans_clusters,
    renumber_by_size,
)
from algorithms.latent.reduction import pca_reduce
from algorithms.latent.vectors import load_vectors, table_vectors


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    vectors, truth = make_blobs(
        n_samples=300,
        centers=4,
        n_features=10,
        cluster_std=0.5,
        center_box=(-10, 10),
        random_state=0,
    )
    return vectors.astype(np.float32), truth


def test_pca_keeps_the_blobs_apart(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, truth = blobs
    reduction = pca_reduce(vectors, n_components=3)
    assert reduction.embedding.shape == (300, 3) and reduction.embedding.dtype == np.float32
    ratios = reduction.info["explained_variance_ratio"]
    assert len(ratios) == 3 and ratios == sorted(ratios, reverse=True) and sum(ratios) > 0.9
    labels = kmeans_clusters(reduction.embedding, n_clusters=4)
    assert adjusted_rand_score(truth, labels) >= 0.9
    whitened = pca_reduce(vectors, n_components=2, whiten=True).embedding
    np.testing.assert_allclose(whitened.std(axis=0), 1.0, rtol=0.05)
    with pytest.raises(ParameterError) as error:
        pca_reduce(vectors, n_components=11)
    assert error.value.field == "n_components"


def test_clusterers_recover_blobs(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, truth = blobs
    for labels in (
        kmeans_clusters(vectors, n_clusters=4, seed=1),
        dbscan_clusters(vectors, eps=2.0, min_samples=5),
        hdbscan_clusters(vectors, min_cluster_size=10),
    ):
        assert labels.shape == (300,)
        assert adjusted_rand_score(truth, labels) >= 0.9
        counts = np.bincount(labels[labels != NOISE])
        assert list(counts) == sorted(counts, reverse=True)


def test_dbscan_marks_outliers_as_noise(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    vectors, _ = blobs
    with_outlier = np.vstack([vectors, np.full((1, 10), 100.0, dtype=np.float32)])
    labels = dbscan_clusters(with_outlier, eps=2.0, min_samples=5)
    assert labels[-1] == NOISE and (labels[:-1] != NOISE).mean() > 0.95
    with pytest.raises(ParameterError) as error:
        dbscan_clusters(vectors, eps=0.0)
    assert error.value.field == "eps"
    with pytest.raises(ParameterError) as error:
        hdbscan_clusters(vectors, min_cluster_size=1)
    assert error.value.field == "min_cluster_size"
    with pytest.raises(ParameterError) as error:
        kmeans_clusters(vectors[:3], n_clusters=4)
    assert error.value.field == "n_clusters"


def test_renumber_by_size_is_stable() -> None:
    labels = np.array([7, 7, 3, -1, 3, 3, 9, 7, 7])
    np.testing.assert_array_equal(renumber_by_size(labels), [0, 0, 1, -1, 1, 1, 2, 0, 0])
    np.testing.assert_array_equal(renumber_by_size(np.array([-1, -1])), [-1, -1])


def test_table_vectors_use_numeric_feature_columns() -> None:
    table = pd.DataFrame(
        {"item": [0, 1], "z0": [1.0, 2.0], "name": ["a", "b"], "z1": [3, 4], "cluster": [0, 1]}
    )
    np.testing.assert_array_equal(table_vectors(table), [[1.0, 3.0], [2.0, 4.0]])
    np.testing.assert_array_equal(table_vectors(table, ["z1"]), [[3.0], [4.0]])
    with pytest.raises(InputDataError) as error:
        table_vectors(table, ["missing"])
    assert error.value.field == "columns"


def test_load_vectors_from_tables_arrays_and_images(tmp_path: Path) -> None:
    table = pd.DataFrame({"z0": [1.0, 2.0, 3.0], "z1": [0.0, 1.0, 0.0]})
    table.to_parquet(tmp_path / "latent.parquet")
    table.to_csv(tmp_path / "latent.csv", index=False)
    np.testing.assert_array_equal(load_vectors(str(tmp_path / "latent.parquet")), table.values)
    np.testing.assert_array_equal(load_vectors(str(tmp_path / "latent.csv")), table.values)
    np.save(tmp_path / "vectors.npy", np.ones((5, 3)))
    assert load_vectors(str(tmp_path / "vectors.npy")).shape == (5, 3)
    np.save(tmp_path / "images.npy", np.ones((4, 6, 7)))
    assert load_vectors(str(tmp_path / "images.npy")).shape == (4, 42)
    with pytest.raises(InputDataError) as error:
        load_vectors(None)
    assert error.value.field == "data_uri"
    with pytest.raises(InputDataError):
        load_vectors(str(tmp_path / "absent.parquet"))


def test_numba_caching_defaults_cache_on_and_restores_numba(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    import numba

    from algorithms.latent.numba_cache import numba_caching

    (tmp_path / "h3_kernels.py").write_text(
        "import numba\n\n\n"
        "@numba.njit\ndef add_one(x):\n    return x + 1\n\n\n"
        "@numba.njit(fastmath=True)\ndef add_two(x):\n    return x + 2\n\n\n"
        "@numba.njit(cache=False)\ndef add_three(x):\n    return x + 3\n"
    )
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    original = numba.njit
    spec = importlib.util.spec_from_file_location("h3_kernels", tmp_path / "h3_kernels.py")
    module = importlib.util.module_from_spec(spec)
    with numba_caching():
        assert numba.njit is not original
        spec.loader.exec_module(module)
        exec_defined = numba.njit(eval("lambda x: x * 2"))  # no file: compiled uncached
    assert numba.njit is original
    assert type(module.add_one._cache).__name__ == "FunctionCache"
    assert type(module.add_two._cache).__name__ == "FunctionCache"
    assert type(module.add_three._cache).__name__ == "NullCache"
    assert (module.add_one(1), module.add_two(1), exec_defined(2)) == (2, 3, 4)
