"""ResultsWriter into a folder: arrays, progressive arrays, tables, metadata, atomic files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from algorithms.data import ResultsWriter, open_dataset, read_array, stored_mask
from algorithms.errors import ParameterError


def test_write_array_with_metadata(tmp_path: Path) -> None:
    writer = ResultsWriter(str(tmp_path), "job-1", metadata={"algorithm": "kmeans"})

    uri = writer.write_array("mask", np.ones((2, 4, 4), np.uint8), {"kind": "mask"})

    assert uri == str(tmp_path / "job-1" / "mask.npy")
    np.testing.assert_array_equal(read_array(uri), np.ones((2, 4, 4)))
    info = json.loads((tmp_path / "job-1" / "mask.json").read_text())
    assert info["job_id"] == "job-1" and info["algorithm"] == "kmeans"
    assert info["kind"] == "mask" and info["shape"] == [2, 4, 4] and info["complete"] is True


def test_progressive_array_shows_finished_slices(tmp_path: Path) -> None:
    writer = ResultsWriter(f"file://{tmp_path}", "job-2")
    handle = writer.create_array("probabilities", (3, 4, 4), "float16")

    handle.write_slices(0, np.full((2, 4, 4), 0.5))
    partial = json.loads((tmp_path / "job-2" / "probabilities.json").read_text())
    visible = open_dataset(handle.uri)
    handle.write_slices(2, np.full((4, 4), 0.25))
    done = json.loads((tmp_path / "job-2" / "probabilities.json").read_text())

    assert partial["slices_written"] == [0, 1] and partial["complete"] is False
    assert float(visible[1][0, 0]) == 0.5
    assert done["complete"] is True
    np.testing.assert_array_equal(read_array(handle.uri)[:, 0, 0], [0.5, 0.5, 0.25])
    assert read_array(handle.uri).dtype == np.float16


def test_block_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    handle = ResultsWriter(str(tmp_path), "job").create_array("x", (2, 3, 3), np.uint8)

    with pytest.raises(ParameterError, match="block"):
        handle.write_slices(1, np.zeros((2, 3, 3)))


def test_write_table(tmp_path: Path) -> None:
    table = pd.DataFrame({"x": [0.1, 0.2], "cluster": [1, 0]})

    uri = ResultsWriter(str(tmp_path), "job-3").write_table("latent", table, {"n": 2})

    pd.testing.assert_frame_equal(pd.read_parquet(uri), table)
    assert json.loads((tmp_path / "job-3" / "latent.json").read_text())["columns"] == [
        "x",
        "cluster",
    ]


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    writer = ResultsWriter(str(tmp_path), "job-4")
    writer.write_array("a", np.zeros((3, 3)))
    writer.create_array("b", (2, 2, 2), np.float32).write_slices(0, np.zeros((2, 2, 2)))
    writer.write_table("c", pd.DataFrame({"v": [1]}))

    names = sorted(p.name for p in (tmp_path / "job-4").iterdir())

    assert names == ["a.json", "a.npy", "b.json", "b.npy", "c.json", "c.parquet"]


def test_masks_are_stored_as_uint8_with_255_unlabeled(tmp_path: Path) -> None:
    mask = np.array([[-1, 0], [1, 2]])

    uri = ResultsWriter(str(tmp_path), "job-5").write_mask("labels", mask)

    np.testing.assert_array_equal(read_array(uri), [[255, 0], [1, 2]])
    assert read_array(uri).dtype == np.uint8
    with pytest.raises(ParameterError, match="mask"):
        stored_mask(np.array([300]))


def test_probabilities_are_float16(tmp_path: Path) -> None:
    uri = ResultsWriter(str(tmp_path), "job-6").write_probabilities("p", np.full((2, 2), 0.3))

    assert read_array(uri).dtype == np.float16


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden"])
def test_bad_result_names_are_refused(tmp_path: Path, name: str) -> None:
    writer = ResultsWriter(str(tmp_path), "job")

    with pytest.raises(ParameterError, match="name"):
        writer.write_array(name, np.zeros(2))


def test_bad_job_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError):
        ResultsWriter(str(tmp_path), "../../etc")
