"""Classical segmentation: random forest pixel classifier, k-means and thresholding.

The cards (``algorithms.classical.cards``) import without scikit-learn; the algorithms and
runners import it when they run.
"""
