"""Ensemble statistics: the mean prediction and its spread across members."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from algorithms.errors import ParameterError


def ensemble_statistics(
    member_outputs: np.ndarray | Sequence[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over ensemble members (axis 0), in float32.

    Args:
        member_outputs: (E, ...) stacked outputs (e.g. class probabilities) of E members.
    """
    stacked = np.asarray(
        member_outputs if isinstance(member_outputs, np.ndarray) else np.stack(member_outputs)
    )
    if stacked.ndim < 1 or stacked.shape[0] < 1:
        raise ParameterError("members", "needs at least one ensemble member")
    as_float = stacked.astype(np.float64, copy=False)
    return as_float.mean(0).astype(np.float32), as_float.std(0).astype(np.float32)
