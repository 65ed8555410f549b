"""Latent space analysis: dimension reduction (PCA, UMAP) and clustering (k-means, DBSCAN,
HDBSCAN) of feature vectors, as in the Latent Space Explorer.

The cards (``algorithms.latent.cards``) import without scikit-learn or umap.
"""
