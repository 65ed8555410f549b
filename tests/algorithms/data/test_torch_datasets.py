"""PyTorch data sets: cached training sets, streamed inference inputs."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from algorithms.data.torch_datasets import StreamingImages, TrainingImages, cache_path, cached_array
from algorithms.errors import ParameterError
from tests.fixtures.tiled import InProcessTiled


def test_training_images_with_class_labels(image_folder: Path) -> None:
    import torch

    dataset = TrainingImages(str(image_folder), labels=np.array([0, 1, 1, 2, 2, 2]))

    image, label = dataset[3]

    assert len(dataset) == 6
    assert image.dtype == torch.float32 and tuple(image.shape) == (1, 16, 24)
    assert float(image[0, 0, 0]) == 100.0 and int(label) == 2


def test_labels_must_match_the_items(image_folder: Path) -> None:
    with pytest.raises(ParameterError, match="labels"):
        TrainingImages(str(image_folder), labels=np.zeros(2))


def test_remote_training_set_is_downloaded_once(
    tiled_in_process: InProcessTiled, tmp_path: Path
) -> None:
    tiled = tiled_in_process
    uri = tiled.uri("data/root/stack")

    first = cached_array(uri, tiled.api_key, version="v1", cache_dir=tmp_path)
    path = cache_path(uri, "v1", tmp_path)
    path_mtime = path.stat().st_mtime_ns
    again = cached_array(uri, tiled.api_key, version="v1", cache_dir=tmp_path)

    assert isinstance(again, np.memmap) and path.stat().st_mtime_ns == path_mtime
    np.testing.assert_array_equal(first, again)
    assert cache_path(uri, "v2", tmp_path) != path
    loader_ready = TrainingImages(uri, api_key=tiled.api_key, version="v1", cache_dir=tmp_path)
    assert tuple(loader_ready[0].shape) == (1, 48, 64)


def test_streaming_images_travel_to_worker_processes(image_folder: Path) -> None:
    dataset = StreamingImages(str(image_folder))

    copy = pickle.loads(pickle.dumps(dataset))
    index, image = copy[5]

    assert len(copy) == 6 and index == 5
    assert float(image[0, 0, 0]) == 102.0


def test_streaming_with_a_data_loader(image_folder: Path) -> None:
    from torch.utils.data import DataLoader

    loader = DataLoader(StreamingImages(str(image_folder)), batch_size=4)

    batches = list(loader)

    assert [tuple(images.shape) for _, images in batches] == [(4, 1, 16, 24), (2, 1, 16, 24)]
    assert batches[1][0].tolist() == [4, 5]
