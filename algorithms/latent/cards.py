"""Registry cards of dimension reduction (pca, umap) and clustering (kmeans_clustering, dbscan,
hdbscan) on tables of vectors. Imports neither scikit-learn nor umap."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from algorithms.registry import AlgorithmInfo, register
from algorithms.ui import ui

LABELING_PIPELINE = (
    "Chavez et al., J. Synchrotron Rad. (2025): MLExchange labeling pipeline, Latent Space Explorer"
)
UmapMetric = Literal["euclidean", "manhattan", "chebyshev", "cosine", "correlation"]


class PcaParameters(BaseModel):
    """Principal component analysis (scikit-learn)."""

    model_config = ConfigDict(extra="forbid")

    n_components: int = Field(
        2,
        ge=1,
        le=512,
        description="Number of principal components kept",
        json_schema_extra=ui("slider", group="general", help="2 or 3 for a scatter plot"),
    )
    whiten: bool = Field(
        False,
        description="Scale components to unit variance",
        json_schema_extra=ui("checkbox", group="general", advanced=True),
    )


class UmapParameters(BaseModel):
    """Uniform manifold approximation and projection (McInnes et al. 2018)."""

    model_config = ConfigDict(extra="forbid")

    n_components: int = Field(
        2,
        ge=1,
        le=100,
        description="Dimension of the embedding",
        json_schema_extra=ui("slider", group="general", help="2 or 3 for a scatter plot"),
    )
    n_neighbors: int = Field(
        15,
        ge=2,
        le=500,
        description="Size of the local neighbourhood",
        json_schema_extra=ui("slider", group="general", help="Larger keeps more global structure"),
    )
    min_dist: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Minimum distance between embedded points",
        json_schema_extra=ui("slider", group="general", step=0.05, help="Smaller packs clusters"),
    )
    metric: UmapMetric = Field(
        "euclidean",
        description="Distance in the input space",
        json_schema_extra=ui("dropdown", group="general"),
    )
    seed: int = Field(
        42,
        ge=0,
        le=2**31 - 1,
        description="Random seed (fixed seed: reproducible, single-threaded embedding)",
        json_schema_extra=ui("number", group="general", advanced=True),
    )


class KMeansClusteringParameters(BaseModel):
    """K-means clustering of vectors (scikit-learn)."""

    model_config = ConfigDict(extra="forbid")

    n_clusters: int = Field(
        8,
        ge=2,
        le=256,
        description="Number of clusters",
        json_schema_extra=ui("slider", group="general"),
    )
    max_iter: int = Field(
        300,
        ge=1,
        le=10_000,
        description="Maximum number of iterations",
        json_schema_extra=ui("number", group="general", advanced=True),
    )


class DbscanParameters(BaseModel):
    """Density-based clustering with noise (Ester et al. 1996)."""

    model_config = ConfigDict(extra="forbid")

    eps: float = Field(
        0.5,
        gt=0.0,
        le=1e6,
        description="Neighbourhood radius",
        json_schema_extra=ui("number", group="general", step=0.1, help="In input-space units"),
    )
    min_samples: int = Field(
        5,
        ge=1,
        le=10_000,
        description="Points within eps that make a core point",
        json_schema_extra=ui("number", group="general"),
    )


class HdbscanParameters(BaseModel):
    """Hierarchical density-based clustering (McInnes et al. 2017)."""

    model_config = ConfigDict(extra="forbid")

    min_cluster_size: int = Field(
        5,
        ge=2,
        le=100_000,
        description="Smallest group counted as a cluster",
        json_schema_extra=ui("number", group="general"),
    )
    min_samples: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Neighbours of a core point (default: min_cluster_size)",
        json_schema_extra=ui("number", group="general", advanced=True),
    )


def _card(
    name: str,
    application: Literal["dimension_reduction", "clustering"],
    description: str,
    parameters: type[BaseModel],
    function: str,
    framework: str = "scikit-learn",
) -> AlgorithmInfo:
    output = "embedding" if application == "dimension_reduction" else "clusters"
    return register(
        AlgorithmInfo(
            name=name,
            version="1.0.0",
            application=application,
            description=description,
            parameters=parameters,
            runner=f"algorithms.latent.runners:{function}",
            steps=("run",),
            reference=LABELING_PIPELINE,
            memory_gb=2.0,
            inputs=("data_uri",),
            outputs=(output,),
            framework=framework,
            tags=("latent-space",),
        )
    )


PCA = _card(
    "pca",
    "dimension_reduction",
    "Principal component analysis of feature vectors (latent vectors or flattened images).",
    PcaParameters,
    "run_pca",
)
UMAP = _card(
    "umap",
    "dimension_reduction",
    "UMAP embedding of feature vectors: keeps local neighbourhoods, shows clusters.",
    UmapParameters,
    "run_umap",
    framework="umap-learn",
)
KMEANS_CLUSTERING = _card(
    "kmeans_clustering",
    "clustering",
    "K-means clustering of feature vectors; clusters numbered by decreasing size.",
    KMeansClusteringParameters,
    "run_kmeans_clustering",
)
DBSCAN = _card(
    "dbscan",
    "clustering",
    "DBSCAN density clustering; points in no dense region are noise (-1).",
    DbscanParameters,
    "run_dbscan",
)
HDBSCAN = _card(
    "hdbscan",
    "clustering",
    "HDBSCAN hierarchical density clustering; noise is -1.",
    HdbscanParameters,
    "run_hdbscan",
)
