"""DLSIA-style networks (MSDNet, tunable U-Net, U-Net 3+, SMSNet, autoencoder) as a zoo.

Usage::

    from algorithms.networks import create_model, save_model, load_model
    net = create_model("msdnet", {"layers": 50}, in_channels=1, out_channels=3, ndim=2)

Importing this package (or :mod:`algorithms.networks.params`) does not import torch: the zoo
functions below are loaded on first use, so the API servers can read the parameter models.
"""

from __future__ import annotations

import importlib
from typing import Any

_ZOO_NAMES = (
    "register_model",
    "create_model",
    "list_models",
    "count_parameters",
    "save_model",
    "load_model",
    "validate_params",
    "get_model_entry",
)

__all__ = list(_ZOO_NAMES)


def __getattr__(name: str) -> Any:
    if name in _ZOO_NAMES:
        return getattr(importlib.import_module("algorithms.networks.zoo"), name)
    raise AttributeError(f"module 'algorithms.networks' has no attribute {name!r}")
