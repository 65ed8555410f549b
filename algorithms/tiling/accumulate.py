"""In-place weighted accumulation, fused and multi-threaded through torch when it is installed.

``target += block * weight`` in numpy makes a temporary and two passes over memory; torch's
``addcmul_`` does one pass on the (strided) target view and uses torch's CPU threads. Both are
element-wise, so results do not depend on thread count and stay bit-identical run to run.
"""

from __future__ import annotations

import numpy as np

try:  # torch is optional for tiling; the workers have it
    import torch
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None


def add_weighted(target: np.ndarray, block: np.ndarray, weight: np.ndarray | None) -> None:
    """``target += block * weight`` in place (``weight`` None means 1), same dtypes."""
    if torch is not None:
        destination = torch.from_numpy(target)
        source = torch.from_numpy(np.ascontiguousarray(block))
        if weight is None:
            destination.add_(source)
        else:
            destination.addcmul_(source, torch.from_numpy(weight))
        return
    if weight is None:
        target += block
    else:
        target += block * weight


def divide(target: np.ndarray, denominator: np.ndarray) -> None:
    """``target /= denominator`` in place (broadcasting)."""
    if torch is not None:
        torch.from_numpy(target).div_(torch.from_numpy(np.ascontiguousarray(denominator)))
        return
    np.divide(target, denominator, out=target)


def copy_into(target: np.ndarray, source: np.ndarray) -> None:
    """``target[...] = source`` (same shape), multi-threaded through torch when installed."""
    if torch is not None and source.dtype == target.dtype and source.dtype != np.float16:
        torch.from_numpy(target).copy_(torch.from_numpy(source))
        return
    target[...] = source
