"""Tiling: window geometry, unstitch/stitch round trips, determinism, out-of-core, streaming."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algorithms.errors import ParameterError
from algorithms.tiling import (
    Stitcher,
    count_windows,
    make_grid,
    predict_slices,
    predict_volume,
    stitch,
    unstitch,
    unstitch_pair,
    window_starts,
)


def test_qlty_paper_volume_gives_2310_windows_without_allocating() -> None:
    assert count_windows((1, 1, 236, 720, 510), 64, 32) == 2310


@pytest.mark.parametrize(
    "length,window,step", [(100, 16, 7), (64, 16, 16), (37, 37, 5), (50, 8, 3)]
)
def test_last_window_is_flush_with_the_edge(length: int, window: int, step: int) -> None:
    starts = window_starts(length, window, step)
    assert starts[0] == 0
    assert starts[-1] + window == length
    assert all(b - a <= step for a, b in zip(starts, starts[1:], strict=False))


def test_identity_stitching_2d_shape_not_divisible_by_step() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2, 3, 101, 77)).astype(np.float32)
    grid = make_grid(
        data.shape[2:], window=(32, 24), step=(13, 11), border=(4, 3), border_weight=0.1
    )
    windows = unstitch(data, grid)
    assert windows.shape == (2 * len(grid), 3, 32, 24)
    restored = stitch(windows, grid)
    assert restored.shape == data.shape
    assert np.max(np.abs(restored - data)) <= 1e-6


def test_identity_stitching_3d_shape_not_divisible_by_step() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(size=(1, 2, 23, 41, 30)).astype(np.float32)
    grid = make_grid(
        data.shape[2:], window=(8, 16, 12), step=(5, 7, 9), border=2, border_weight=0.0
    )
    restored = stitch(unstitch(data, grid), grid)
    assert np.max(np.abs(restored - data)) <= 1e-6


def test_torch_tensors_come_back_as_torch() -> None:
    data = torch.randn(1, 1, 40, 40)
    grid = make_grid((40, 40), 16, 10)
    windows = unstitch(data, grid)
    assert isinstance(windows, torch.Tensor)
    restored = stitch(windows, grid)
    assert isinstance(restored, torch.Tensor)
    assert torch.max(torch.abs(restored - data)) <= 1e-6


def test_repeated_stitching_is_bit_identical() -> None:
    rng = np.random.default_rng(2)
    grid = make_grid((70, 90), 32, 12, border=5, border_weight=0.3)
    windows = rng.normal(size=(3 * len(grid), 2, 32, 32)).astype(np.float32)
    first = stitch(windows, grid)
    second = stitch(windows.copy(), grid)
    assert first.tobytes() == second.tobytes()


def test_out_of_core_equals_in_memory(tmp_path) -> None:
    rng = np.random.default_rng(3)
    grid = make_grid((12, 30, 26), 10, 6, border=2, border_weight=0.2)
    windows = rng.normal(size=(2 * len(grid), 2, 10, 10, 10)).astype(np.float32)
    in_memory = stitch(windows, grid)
    on_disk = stitch(windows, grid, storage=tmp_path)
    assert isinstance(on_disk, np.memmap)
    assert list(tmp_path.glob("*.acc"))
    assert np.array_equal(np.asarray(on_disk), in_memory)


def test_stitcher_accepts_windows_in_batches() -> None:
    rng = np.random.default_rng(4)
    grid = make_grid((50, 50), 20, 15)
    windows = rng.normal(size=(len(grid), 1, 20, 20))
    stitcher = Stitcher(grid, n_items=1, channels=1, dtype=np.float64)
    for start in range(0, len(grid), 3):
        stitcher.add(range(start, min(start + 3, len(grid))), windows[start : start + 3])
    assert np.array_equal(stitcher.result(), stitch(windows, grid))


def test_border_weight_prefers_window_centres() -> None:
    grid = make_grid((1, 30), (1, 20), (1, 10), border=(0, 5), border_weight=0.0)
    windows = np.stack([np.full((1, 1, 20), float(i)) for i in range(len(grid))])
    restored = stitch(windows, grid)[0, 0, 0]
    # Pixels 10..14 are in window 0's centre and window 1's border: window 0 wins.
    assert np.allclose(restored[10:15], 0.0)
    assert np.allclose(restored[15:20], 1.0)


def test_unstitch_pair_drops_windows_without_labels() -> None:
    data = np.arange(2 * 64 * 64, dtype=np.float32).reshape(2, 1, 64, 64)
    labels = np.full((2, 64, 64), -1, dtype=np.int64)
    labels[1, 5, 5] = 1
    labels[1, 60, 60] = 0
    grid = make_grid((64, 64), 16, 16)
    windows, label_windows, indices = unstitch_pair(data, labels, grid)
    assert len(indices) == 2
    assert windows.shape == (2, 1, 16, 16)
    assert np.array_equal(windows[0, 0], data[1, 0, 0:16, 0:16])
    assert label_windows[0, 5, 5] == 1
    assert label_windows[1, 12, 12] == 0
    _, all_labels, all_indices = unstitch_pair(data, labels, grid, drop_unlabeled=False)
    assert len(all_indices) == 2 * len(grid) == len(all_labels)


def test_unstitch_pair_masks_border_labels() -> None:
    data = np.zeros((1, 1, 32, 32), dtype=np.float32)
    labels = np.zeros((1, 32, 32), dtype=np.int64)
    grid = make_grid((32, 32), 16, 16, border=4)
    _, label_windows, _ = unstitch_pair(data, labels, grid, mask_border=True)
    assert np.all(label_windows[:, :4] == -1)
    assert np.all(label_windows[:, 4:12, 4:12] == 0)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"window": 16, "step": 8, "border": 8}, "border"),
        ({"window": 16, "step": 0}, "step"),
        ({"window": 16, "step": -2}, "step"),
        ({"window": 80, "step": 8}, "window"),
        ({"window": 16, "step": 17}, "step"),
        ({"window": 16, "step": 8, "border_weight": 1.5}, "border_weight"),
        ({"window": (16, 16, 16), "step": 8}, "window"),
    ],
)
def test_bad_parameters_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ParameterError) as error:
        make_grid((64, 64), **kwargs)
    assert error.value.field == field


def test_predict_slices_streams_every_slice_in_order() -> None:
    rng = np.random.default_rng(5)
    stack = rng.normal(size=(3, 1, 45, 38)).astype(np.float32)
    grid = make_grid((45, 38), 16, 10, border=3, border_weight=0.5)
    received: list[tuple[int, np.ndarray]] = []
    predict_slices(
        lambda i: stack[i],
        3,
        lambda batch: np.concatenate([batch, 2 * batch], axis=1),
        grid,
        lambda i, out: received.append((i, out)),
        batch_size=7,
    )
    assert [i for i, _ in received] == [0, 1, 2]
    for i, out in received:
        assert out.shape == (2, 45, 38)
        assert np.max(np.abs(out[0] - stack[i, 0])) <= 1e-5
        assert np.max(np.abs(out[1] - 2 * stack[i, 0])) <= 1e-5


def test_predict_volume_streams_slabs_covering_z_once() -> None:
    rng = np.random.default_rng(6)
    volume = rng.normal(size=(1, 29, 20, 22)).astype(np.float32)
    grid = make_grid((29, 20, 22), 8, 6, border=1, border_weight=0.25)
    slabs: list[tuple[int, np.ndarray]] = []
    fractions: list[float] = []
    predict_volume(
        lambda z0, z1: volume[:, z0:z1],
        lambda batch: batch * 3.0,
        grid,
        lambda z0, out: slabs.append((z0, out)),
        batch_size=4,
        progress=fractions.append,
    )
    restored = np.concatenate([out for _, out in slabs], axis=1)
    assert [z0 for z0, _ in slabs][0] == 0
    assert restored.shape == (1, 29, 20, 22)
    assert np.max(np.abs(restored - 3.0 * volume)) <= 1e-5
    assert fractions[-1] == pytest.approx(1.0)
