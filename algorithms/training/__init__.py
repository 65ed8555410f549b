"""Training: losses, metrics, sparse-label splits and the training engine.

Only :mod:`algorithms.training.params` is torch-free; import the rest from its own module
(``algorithms.training.engine``, ``.losses``, ``.metrics``, ``.sparse``).
"""
