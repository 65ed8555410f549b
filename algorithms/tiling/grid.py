"""Window geometry: where overlapping windows sit on a 2D or 3D grid (qlty's idea).

Windows of a fixed size are placed every ``step`` pixels along each spatial axis, starting at 0;
when the last step does not land flush with the edge, one more window is placed stepped back so
that it ends exactly at the edge. Every pixel is therefore covered and every window has the full
size. Pixels within ``border`` of a window's edge are down-weighted by ``border_weight`` when
windows are stitched back, because a convolutional network sees less context there.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from algorithms.errors import ParameterError

# A border weight of exactly zero would leave pixels at the image edge with no weight at all
# (only border pixels of edge windows cover them); a tiny floor keeps the average defined there.
MIN_BORDER_WEIGHT = 1e-8


def _per_axis(value: int | Sequence[int], ndim: int, field: str) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * ndim
    values = tuple(int(v) for v in value)
    if len(values) != ndim:
        raise ParameterError(
            field, f"needs {ndim} values (one per spatial axis), got {len(values)}"
        )
    return values


def window_starts(length: int, window: int, step: int) -> list[int]:
    """Start offsets of the windows along one axis, the last one flush with the edge."""
    starts = list(range(0, length - window + 1, step))
    if starts[-1] + window < length:
        starts.append(length - window)
    return starts


def windows_along_axis(length: int, window: int, step: int) -> int:
    """How many windows fit along one axis (without building the list)."""
    full_steps = (length - window) // step
    return full_steps + 2 if length > full_steps * step + window else full_steps + 1


@dataclass(frozen=True)
class WindowGrid:
    """Windows over one item of spatial ``shape`` (Y, X) or (Z, Y, X)."""

    shape: tuple[int, ...]
    window: tuple[int, ...]
    step: tuple[int, ...]
    border: tuple[int, ...]
    border_weight: float = 1.0

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @cached_property
    def starts(self) -> tuple[tuple[int, ...], ...]:
        """Window start offsets, one list per spatial axis."""
        return tuple(
            tuple(window_starts(n, w, s))
            for n, w, s in zip(self.shape, self.window, self.step, strict=True)
        )

    @property
    def counts(self) -> tuple[int, ...]:
        """Number of windows along each axis."""
        return tuple(
            windows_along_axis(n, w, s)
            for n, w, s in zip(self.shape, self.window, self.step, strict=True)
        )

    def __len__(self) -> int:
        return math.prod(self.counts)

    def origin(self, index: int) -> tuple[int, ...]:
        """Start offsets of window ``index`` (row-major over the axes)."""
        position = np.unravel_index(index, self.counts)
        return tuple(self.starts[axis][int(p)] for axis, p in enumerate(position))

    def origins(self) -> Iterator[tuple[int, ...]]:
        """Start offsets of every window, in window order."""
        return itertools.product(*self.starts)

    def slices(self, index: int) -> tuple[slice, ...]:
        """Spatial slices of window ``index``."""
        return tuple(slice(o, o + w) for o, w in zip(self.origin(index), self.window, strict=True))

    @cached_property
    def weight(self) -> np.ndarray:
        """Stitching weight of one window: 1 inside, ``border_weight`` within the border."""
        weight = np.full(self.window, max(self.border_weight, MIN_BORDER_WEIGHT), dtype=np.float64)
        inner = tuple(slice(b, w - b) for b, w in zip(self.border, self.window, strict=True))
        weight[inner] = 1.0
        return weight

    @property
    def has_uniform_weight(self) -> bool:
        return not any(self.border) or self.border_weight == 1.0

    @cached_property
    def inner_mask(self) -> np.ndarray:
        """True for window pixels outside the border."""
        mask = np.zeros(self.window, dtype=bool)
        mask[tuple(slice(b, w - b) for b, w in zip(self.border, self.window, strict=True))] = True
        return mask

    def _coverage(self, axis: int, margin: int) -> np.ndarray:
        """How many windows cover each position along ``axis``, ``margin`` trimmed off each end."""
        length, window = self.shape[axis], self.window[axis]
        change = np.zeros(length + 1, dtype=np.int64)
        for start in self.starts[axis]:
            change[start + margin] += 1
            change[start + window - margin] -= 1
        return np.cumsum(change[:-1])

    def normalization(
        self, dtype: np.dtype | type = np.float64, rows: slice | None = None
    ) -> np.ndarray:
        """Sum of window weights at every pixel (the stitching denominator).

        Windows form a Cartesian grid and a weight is ``border_weight`` plus ``1 - border_weight``
        on the inner box, so the sum is separable: border_weight * (windows covering a pixel)
        + (1 - border_weight) * (window interiors covering it), each a product of 1D counts.
        ``rows`` restricts the result to a range of the first axis.
        """
        rows = rows if rows is not None else slice(0, self.shape[0])
        first = range(self.shape[0])[rows]
        out = np.empty((len(first), *self.shape[1:]), dtype=dtype)
        self.normalization_into(out, rows)
        return out

    def normalization_into(
        self, out: np.ndarray, rows: slice, scratch: np.ndarray | None = None
    ) -> None:
        """Write :meth:`normalization` for ``rows`` of the first axis into ``out`` (no big
        temporaries: fresh memory is slow to fault in, so callers may pass a ``scratch``)."""
        low = max(self.border_weight, MIN_BORDER_WEIGHT) if any(self.border) else 1.0
        _separable_product([self._coverage(axis, 0) for axis in range(self.ndim)], rows, low, out)
        if low == 1.0:
            return
        if scratch is None or scratch.shape != out.shape:
            scratch = np.empty_like(out)
        inner = [self._coverage(axis, self.border[axis]) for axis in range(self.ndim)]
        _separable_product(inner, rows, 1.0 - low, scratch)
        out += scratch


def _separable_product(
    factors: list[np.ndarray], rows: slice, scale: float, out: np.ndarray
) -> None:
    """out = scale * outer(factors[0][rows], factors[1], ...), built in place."""
    head = factors[0][rows].astype(np.float64) * scale
    for factor in factors[1:-1]:
        head = np.multiply.outer(head, factor)
    last = factors[-1].astype(out.dtype)
    np.multiply(head.astype(out.dtype)[..., None], last, out=out)


def make_grid(
    shape: Sequence[int],
    window: int | Sequence[int],
    step: int | Sequence[int],
    border: int | Sequence[int] = 0,
    border_weight: float = 1.0,
) -> WindowGrid:
    """Validate tiling parameters for a spatial ``shape`` and return the grid.

    Raises ParameterError naming ``window``, ``step``, ``border`` or ``border_weight``.
    """
    shape = tuple(int(n) for n in shape)
    ndim = len(shape)
    if ndim not in (2, 3):
        raise ParameterError("window", f"tiling needs 2 or 3 spatial axes, got shape {shape}")
    windows = _per_axis(window, ndim, "window")
    steps = _per_axis(step, ndim, "step")
    borders = _per_axis(border, ndim, "border")
    for n, w, s, b in zip(shape, windows, steps, borders, strict=True):
        if w <= 0:
            raise ParameterError("window", f"must be positive, got {w}")
        if w > n:
            raise ParameterError("window", f"window {windows} is larger than the data {shape}")
        if s <= 0:
            raise ParameterError("step", f"must be positive, got {s}")
        if s > w:
            raise ParameterError(
                "step", f"must not exceed the window ({w}): pixels would be missed"
            )
        if b < 0:
            raise ParameterError("border", f"must be >= 0, got {b}")
        if 2 * b >= w:
            raise ParameterError("border", f"must be smaller than half the window ({w}), got {b}")
    if not 0.0 <= border_weight <= 1.0:
        raise ParameterError("border_weight", f"must be between 0 and 1, got {border_weight}")
    return WindowGrid(shape, windows, steps, borders, float(border_weight))


def count_windows(
    shape: Sequence[int], window: int | Sequence[int], step: int | Sequence[int]
) -> int:
    """Number of windows for an (N, C, *spatial) tensor shape, without touching any data."""
    if len(shape) not in (4, 5):
        raise ParameterError("window", f"expected an (N,C,Y,X) or (N,C,Z,Y,X) shape, got {shape}")
    grid = make_grid(shape[2:], window, step)
    return int(shape[0]) * len(grid)
