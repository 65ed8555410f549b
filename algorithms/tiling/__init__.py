"""Tiling: overlapping windows over 2D/3D tensors and border-weighted stitching (qlty's idea)."""

from algorithms.tiling.grid import (
    WindowGrid,
    count_windows,
    make_grid,
    window_starts,
    windows_along_axis,
)
from algorithms.tiling.stitching import (
    Stitcher,
    labeled_windows,
    stitch,
    unstitch,
    unstitch_pair,
)
from algorithms.tiling.streaming import predict_slices, predict_volume

__all__ = [
    "Stitcher",
    "WindowGrid",
    "count_windows",
    "labeled_windows",
    "make_grid",
    "predict_slices",
    "predict_volume",
    "stitch",
    "unstitch",
    "unstitch_pair",
    "window_starts",
    "windows_along_axis",
]
