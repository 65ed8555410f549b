"""Latent cards (schemas, defaults, bad values) and runners writing tables; UMAP (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from algorithms.__main__ import run_spec
from algorithms.events import EventEmitter
from algorithms.latent.cards import (
    DbscanParameters,
    HdbscanParameters,
    KMeansClusteringParameters,
    PcaParameters,
    UmapParameters,
)
from algorithms.registry import get_algorithm
from algorithms.spec import JobSpec

CARDS = {
    "pca": ("dimension_reduction", PcaParameters),
    "umap": ("dimension_reduction", UmapParameters),
    "kmeans_clustering": ("clustering", KMeansClusteringParameters),
    "dbscan": ("clustering", DbscanParameters),
    "hdbscan": ("clustering", HdbscanParameters),
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_cards_registered_with_valid_defaults(name: str) -> None:
    application, model = CARDS[name]
    info = get_algorithm(name, "1.0.0")
    assert info.application == application and info.parameters is model
    assert info.steps == ("run",) and info.load_runner().__name__ == f"run_{name}"
    defaults = model()
    assert model.model_validate(defaults.model_dump()) == defaults
    assert all("ui" in field for field in info.parameters_schema()["properties"].values())


@pytest.mark.parametrize(
    ("model", "values", "field"),
    [
        (PcaParameters, {"n_components": 0}, "n_components"),
        (UmapParameters, {"n_neighbors": 1}, "n_neighbors"),
        (UmapParameters, {"min_dist": 1.5}, "min_dist"),
        (UmapParameters, {"metric": "hamming-ish"}, "metric"),
        (KMeansClusteringParameters, {"n_clusters": 1}, "n_clusters"),
        (DbscanParameters, {"eps": 0}, "eps"),
        (DbscanParameters, {"min_samples": 0}, "min_samples"),
        (HdbscanParameters, {"min_cluster_size": 1}, "min_cluster_size"),
        (HdbscanParameters, {"extra": True}, "extra"),
    ],
)
def test_bad_values_rejected_naming_the_field(
    model: type[BaseModel], values: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        model.model_validate(values)
    assert error.value.errors()[0]["loc"][0] == field


@pytest.fixture()
def latent_table(tmp_path: Path) -> tuple[str, np.ndarray]:
    vectors, truth = make_blobs(n_samples=120, centers=3, n_features=8, random_state=2)
    table = pd.DataFrame(vectors, columns=[f"z{k}" for k in range(8)])
    path = tmp_path / "latent_vectors.parquet"
    table.to_parquet(path)
    return str(path), truth


def _spec(tmp_path: Path, name: str, data_uri: str, **parameters: object) -> JobSpec:
    return JobSpec(
        job_id=f"{name}-job",
        algorithm=name,
        step="run",
        parameters=parameters,
        inputs={"data_uri": data_uri},
        outputs={"results_uri": str(tmp_path / "results")},
        seed=0,
    )


def test_pca_then_hdbscan_chain_through_tables(
    latent_table: tuple[str, np.ndarray], tmp_path: Path
) -> None:
    uri, truth = latent_table
    events = EventEmitter()
    assert run_spec("pca", "run", _spec(tmp_path, "pca", uri, n_components=2), events) == 0
    result = events.events[-1]
    assert result["columns"] == ["dim0", "dim1"] and result["rows"] == 120
    embedding_uri = result["outputs"]["embedding"]
    assert pd.read_parquet(embedding_uri).shape == (120, 2)

    events = EventEmitter()
    spec = _spec(tmp_path, "hdbscan", embedding_uri, min_cluster_size=10)
    assert run_spec("hdbscan", "run", spec, events) == 0
    result = events.events[-1]
    clusters = pd.read_parquet(result["outputs"]["clusters"])["cluster"].to_numpy()
    assert result["n_clusters"] == 3
    assert adjusted_rand_score(truth, clusters) >= 0.9


def test_clustering_flattened_images_and_bad_input(tmp_path: Path) -> None:
    images = np.zeros((20, 8, 8), dtype=np.float32)
    images[10:, :4] = 1.0
    np.save(tmp_path / "images.npy", images)
    events = EventEmitter()
    spec = _spec(tmp_path, "kmeans_clustering", str(tmp_path / "images.npy"), n_clusters=2)
    assert run_spec("kmeans_clustering", "run", spec, events) == 0
    clusters = pd.read_parquet(events.events[-1]["outputs"]["clusters"])["cluster"]
    assert clusters[:10].nunique() == 1 and clusters[10:].nunique() == 1
    assert clusters[0] != clusters[19]

    events = EventEmitter()
    spec = _spec(tmp_path, "dbscan", str(tmp_path / "missing.parquet"))
    assert run_spec("dbscan", "run", spec, events) == 1
    assert events.events[-1]["type"] == "error" and events.events[-1]["field"] == "data_uri"


def test_numba_cache_folder_defaults_under_mlex_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from algorithms.latent.reduction import configure_numba_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("MLEX_HOME", str(tmp_path / "home"))
    folder = configure_numba_cache()
    assert folder == str(tmp_path / "home" / "cache" / "numba")
    assert os.environ["NUMBA_CACHE_DIR"] == folder and Path(folder).is_dir()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert configure_numba_cache() == str(tmp_path / "mine")


@pytest.mark.slow
def test_umap_embeds_blobs_after_warm_up(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """One test for UMAP: numba compilation (tens of seconds) is paid once, in a subprocess.

    The numba cache lives in pytest's cache folder so that later runs compile less.
    """
    vectors, truth = make_blobs(n_samples=150, centers=3, n_features=6, random_state=0)
    pd.DataFrame(vectors).rename(columns=str).to_parquet(tmp_path / "v.parquet")
    spec = _spec(tmp_path, "umap", str(tmp_path / "v.parquet"), n_neighbors=10)
    (tmp_path / "spec.json").write_text(spec.model_dump_json())
    script = (
        "import json, sys\n"
        "from algorithms.latent.reduction import warm_up_umap, configure_numba_cache\n"
        "print(json.dumps({'cache': configure_numba_cache(), 'warm': warm_up_umap()}))\n"
        "from algorithms.__main__ import main\n"
        f"code = main(['run', 'umap', 'run', '--spec', {str(tmp_path / 'spec.json')!r}])\n"
        "state = {'tensorflow': 'tensorflow' in sys.modules, 'code': code}\n"
        f"open({str(tmp_path / 'state.json')!r}, 'w').write(json.dumps(state))\n"
    )
    cache = request.config.cache.mkdir("mlex-numba")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=400,
        env=env,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    assert lines[0]["cache"] == str(cache)
    # umap's own layout kernels (declared without cache=True) are cached too.
    assert any(Path(cache).glob("umap_*/layouts.*.nbi"))
    state = json.loads((tmp_path / "state.json").read_text())
    assert state == {"tensorflow": False, "code": 0}
    result = next(line for line in lines if line.get("type") == "result")
    embedding = pd.read_parquet(result["outputs"]["embedding"])
    assert list(embedding.columns) == ["dim0", "dim1"] and len(embedding) == 150
    from algorithms.latent.clustering import hdbscan_clusters

    labels = hdbscan_clusters(embedding.to_numpy(), min_cluster_size=10)
    assert adjusted_rand_score(truth, labels) >= 0.9
