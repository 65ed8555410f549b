"""Reading from and writing to the real Tiled app, in memory (no network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from algorithms.data import (
    DatasetNotFoundError,
    ItemIndexError,
    NotAnImageError,
    ResultsWriter,
    open_dataset,
    read_array,
)
from tests.fixtures.tiled import InProcessTiled


def test_registered_folder_is_a_data_set(tiled_in_process: InProcessTiled) -> None:
    tiled = tiled_in_process

    dataset = open_dataset(tiled.uri("data/root"), api_key=tiled.api_key)

    assert sorted(tiled.client["data/root"]) == ["image0", "image1", "image2", "stack"]
    assert dataset.shape == (8, 48, 64)  # 3 PNGs then the 5 TIFF pages; the symlink is not there
    expected = np.asarray(__import__("PIL.Image").Image.open(tiled.data_root / "image1.png"))
    np.testing.assert_array_equal(dataset[1], expected)


def test_tiff_stack_items_slices_and_thumbnails(tiled_in_process: InProcessTiled) -> None:
    import tifffile

    tiled = tiled_in_process
    stack = tifffile.imread(tiled.data_root / "stack.tif")

    dataset = open_dataset(f"{tiled.base}/data/root/stack", api_key=tiled.api_key)

    assert dataset.shape == (5, 48, 64) and dataset.dtype == np.uint16
    np.testing.assert_array_equal(dataset[3], stack[3])
    np.testing.assert_array_equal(dataset[1:3], stack[1:3])
    np.testing.assert_array_equal(dataset.thumbnail(2, 16), stack[2, ::4, ::4])
    np.testing.assert_array_equal(read_array(dataset.uri, tiled.api_key), stack)


def test_results_arrays_and_tables_round_trip(tiled_in_process: InProcessTiled) -> None:
    tiled = tiled_in_process
    writer = ResultsWriter(
        tiled.base, "job-a", api_key=tiled.api_key, metadata={"algorithm": "msdnet"}
    )
    mask = np.array([[[0, 1], [-1, 2]]] * 3)

    mask_uri = writer.write_mask("mask", mask, {"source_uri": tiled.uri("data/root/stack")})
    table_uri = writer.write_table("latent", pd.DataFrame({"x": [1.5, 2.5], "y": [0, 1]}))

    node = tiled.client["results/job-a/mask"]
    assert mask_uri.endswith("/results/job-a/mask")
    assert node.dtype == np.uint8 and node.chunks[0] == (3,)
    np.testing.assert_array_equal(read_array(mask_uri, tiled.api_key)[0], [[0, 1], [255, 2]])
    assert node.metadata["algorithm"] == "msdnet" and node.metadata["job_id"] == "job-a"
    assert node.metadata["source_uri"].endswith("data/root/stack")
    assert list(tiled.client["results/job-a/latent"].read()["x"]) == [1.5, 2.5]
    assert table_uri.endswith("/results/job-a/latent")


def test_progressive_array_is_chunked_by_slice(tiled_in_process: InProcessTiled) -> None:
    tiled = tiled_in_process
    writer = ResultsWriter(tiled.uri("results"), "job-b", api_key=tiled.api_key)
    handle = writer.create_array("probabilities", (4, 8, 8), np.float16, {"kind": "prob"})

    handle.write_slices(1, np.full((2, 8, 8), 0.5))

    node = tiled.client["results/job-b/probabilities"]
    assert node.chunks[0] == (1, 1, 1, 1)
    assert node.metadata["slices_written"] == 2 and node.metadata["complete"] is False
    np.testing.assert_array_equal(node[1:3, 0, 0], [0.5, 0.5, 0.5, 0.5][:2])
    handle.write_slices(0, np.zeros((8, 8)))
    handle.write_slices(3, np.zeros((1, 8, 8)))
    assert tiled.client["results/job-b/probabilities"].metadata["complete"] is True


def test_rerun_replaces_a_result(tiled_in_process: InProcessTiled) -> None:
    tiled = tiled_in_process
    writer = ResultsWriter(tiled.base, "job-c", api_key=tiled.api_key)

    writer.write_array("x", np.zeros((2, 2)))
    uri = writer.write_array("x", np.ones((3, 3)))

    np.testing.assert_array_equal(read_array(uri, tiled.api_key), np.ones((3, 3)))


def test_errors(tiled_in_process: InProcessTiled) -> None:
    tiled = tiled_in_process
    ResultsWriter(tiled.base, "job-d", api_key=tiled.api_key).write_table(
        "t", pd.DataFrame({"a": [1]})
    )

    with pytest.raises(DatasetNotFoundError, match="no such node"):
        open_dataset(tiled.uri("data/nothing"), api_key=tiled.api_key)
    with pytest.raises(NotAnImageError, match="table"):
        open_dataset(tiled.uri("results/job-d/t"), api_key=tiled.api_key)
    with pytest.raises(ItemIndexError):
        open_dataset(tiled.uri("data/root/stack"), api_key=tiled.api_key)[5]
