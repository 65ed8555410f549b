"""Reading folders and files: PNG/JPEG, multi-page TIFF, HDF5, .npy, zarr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from algorithms.data import (
    DatasetNotFoundError,
    ItemIndexError,
    NotAnImageError,
    PathOutsideRootsError,
    open_dataset,
    read_array,
)
from algorithms.errors import InputDataError


def test_folder_lists_images_in_natural_order_and_expands_tiff_pages(image_folder: Path) -> None:
    dataset = open_dataset(str(image_folder))

    assert len(dataset) == 6
    assert dataset.shape == (6, 16, 24)
    assert dataset.dtype == np.uint16  # uint8 PNGs and uint16 pages share one dtype
    assert [int(dataset[i][0, 0]) for i in range(6)] == [1, 2, 10, 100, 101, 102]


def test_slices_read_and_negative_index(image_folder: Path) -> None:
    dataset = open_dataset(f"file://{image_folder}")

    assert dataset[1:4].shape == (3, 16, 24)
    assert dataset.read().shape == (6, 16, 24)
    assert int(dataset[-1][0, 0]) == 102
    assert [int(v) for v in dataset[::2][:, 0, 0]] == [1, 10, 101]


def test_thumbnail_is_strided_to_max_size(image_folder: Path) -> None:
    dataset = open_dataset(str(image_folder))

    thumbnail = dataset.thumbnail(4, max_size=8)

    assert max(thumbnail.shape) <= 8
    assert thumbnail.shape == (6, 8)
    assert int(thumbnail[0, 0]) == 101


def test_multipage_tiff_file_is_a_volume(tmp_path: Path, volume: np.ndarray) -> None:
    import tifffile

    path = tmp_path / "volume.tiff"
    tifffile.imwrite(path, volume, photometric="minisblack")

    dataset = open_dataset(str(path))

    assert dataset.shape == volume.shape
    np.testing.assert_array_equal(dataset[3], volume[3])
    np.testing.assert_array_equal(read_array(str(path)), volume)


def test_tiff_pages_appended_one_by_one(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "appended.tif"
    for value in range(3):
        tifffile.imwrite(path, np.full((5, 7), value, np.uint8), append=True)

    dataset = open_dataset(str(path))

    assert dataset.shape == (3, 5, 7)
    assert int(dataset[2][0, 0]) == 2


def test_npy_volume_memory_mapped_and_single_image(tmp_path: Path, volume: np.ndarray) -> None:
    np.save(tmp_path / "volume.npy", volume)
    np.save(tmp_path / "image.npy", volume[0])

    stack = open_dataset(str(tmp_path / "volume.npy"))
    single = open_dataset(str(tmp_path / "image.npy"))

    assert stack.shape == (6, 20, 30)
    np.testing.assert_array_equal(stack.thumbnail(5, 10), volume[5, ::3, ::3])
    assert single.shape == (1, 20, 30)
    np.testing.assert_array_equal(single[0], volume[0])


def test_colour_images_keep_their_channels(tmp_path: Path) -> None:
    from PIL import Image

    rgb = np.zeros((12, 10, 3), dtype=np.uint8)
    rgb[..., 1] = 200
    Image.fromarray(rgb).save(tmp_path / "colour.jpg", quality=100)
    np.save(tmp_path / "colour.npy", rgb)

    assert open_dataset(str(tmp_path / "colour.jpg")).shape == (1, 12, 10, 3)
    dataset = open_dataset(str(tmp_path / "colour.npy"))
    assert dataset.is_colour and dataset.shape == (1, 12, 10, 3)


def test_hdf5_largest_dataset_or_named_one(tmp_path: Path, volume: np.ndarray) -> None:
    import h5py

    path = tmp_path / "scan.h5"
    with h5py.File(path, "w") as handle:
        handle["entry/data"] = volume
        handle["entry/dark"] = volume[0]

    assert open_dataset(str(path)).shape == (6, 20, 30)
    dark = open_dataset(f"{path}#/entry/dark")
    assert dark.shape == (1, 20, 30)
    np.testing.assert_array_equal(read_array(f"{path}#/entry/data"), volume)
    with pytest.raises(DatasetNotFoundError, match="no such HDF5 dataset"):
        open_dataset(f"{path}#/entry/missing")


def test_zarr_store(tmp_path: Path, volume: np.ndarray) -> None:
    import zarr

    path = tmp_path / "volume.zarr"
    array = zarr.open_array(str(path), mode="w", shape=volume.shape, dtype=volume.dtype)
    array[:] = volume

    dataset = open_dataset(str(path))

    assert dataset.shape == volume.shape
    np.testing.assert_array_equal(dataset[4], volume[4])
    np.testing.assert_array_equal(read_array(str(path)), volume)


def test_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no such file or folder") as caught:
        open_dataset(str(tmp_path / "absent"))
    assert isinstance(caught.value, InputDataError)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no readable image files"):
        open_dataset(str(tmp_path))


def test_out_of_range_index(image_folder: Path) -> None:
    dataset = open_dataset(str(image_folder))

    with pytest.raises(ItemIndexError, match="item index 6 out of range.*6 items"):
        dataset[6]
    with pytest.raises(IndexError):
        dataset.thumbnail(-7)


def test_non_image_file(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_text("hello")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")

    with pytest.raises(NotAnImageError, match="fake.png"):
        open_dataset(str(tmp_path / "fake.png"))
    with pytest.raises(NotAnImageError, match="unknown file type .csv"):
        open_dataset(str(tmp_path / "data.csv"))


def test_path_outside_roots_is_refused(image_folder: Path) -> None:
    roots = [image_folder]

    with pytest.raises(PathOutsideRootsError, match="outside the configured data roots"):
        open_dataset(str(image_folder / ".." / ".." / "etc" / "passwd"), roots=roots)
    with pytest.raises(PathOutsideRootsError):
        open_dataset("../../etc/passwd", roots=roots)
    with pytest.raises(PathOutsideRootsError):
        read_array("/etc/passwd", roots=roots)
    assert len(open_dataset("img1.png", roots=roots)) == 1  # relative to the first root


def test_symlink_out_of_roots_is_refused_and_skipped(image_folder: Path, tmp_path: Path) -> None:
    from PIL import Image

    outside = tmp_path / "secret.png"
    Image.fromarray(np.zeros((16, 24), np.uint8)).save(outside)
    (image_folder / "link.png").symlink_to(outside)

    with pytest.raises(PathOutsideRootsError):
        open_dataset(str(image_folder / "link.png"), roots=[image_folder])
    assert len(open_dataset(str(image_folder), roots=[image_folder])) == 6
    assert len(open_dataset(str(image_folder))) == 7  # no roots configured: allowed


def test_roots_from_environment(image_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLEX_DATA_ROOTS", str(image_folder))

    assert len(open_dataset(str(image_folder))) == 6
    with pytest.raises(PathOutsideRootsError):
        open_dataset(str(image_folder.parent))
