"""Exports of current labels: CSV, JSON and a ZIP of PNG images, one folder per class."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from services.common.client import ApiClientError


@pytest.fixture
def image_folder(tmp_path):
    """Six small images: grey 8-bit PNGs and one 16-bit TIFF, named so that order is natural."""
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(5):
        pixels = np.full((8, 12), index * 40, dtype=np.uint8)
        pixels[0, 0] = 255
        Image.fromarray(pixels).save(folder / f"img{index}.png")
    Image.fromarray(np.arange(96, dtype=np.uint16).reshape(8, 12) * 500).save(folder / "img5.tif")
    return folder


def test_export_zip_has_one_folder_per_class(labeling, image_folder) -> None:
    alice = labeling.client
    dataset = alice.create_dataset("beamline", "folder", str(image_folder))
    assert dataset.item_count == 6  # counted by opening the folder
    event = alice.create_event(dataset.id)
    alice.add_tags(
        event.id,
        [
            {"item": 0, "label": "cat"},
            {"item": 1, "label": "cat"},
            {"item": 1, "label": "dog"},
            {"item": 3, "label": "dog"},
            {"item": 5, "label": "bird"},
            {"item": 4, "label": "bird"},
        ],
    )
    later = alice.create_event(dataset.id)
    alice.remove_tags(later.id, [{"item": 4, "label": "bird"}])

    archive = zipfile.ZipFile(io.BytesIO(alice.export(dataset.id, "zip")))
    files = sorted(name for name in archive.namelist() if not name.endswith("/"))
    assert files == [
        "bird/000005.png",
        "cat/000000.png",
        "cat/000001.png",
        "dog/000001.png",
        "dog/000003.png",
    ]
    assert sorted(n for n in archive.namelist() if n.endswith("/")) == ["bird/", "cat/", "dog/"]
    image = np.asarray(Image.open(io.BytesIO(archive.read("dog/000003.png"))))
    assert image.shape == (8, 12) and image.dtype == np.uint8
    assert image[1, 1] == 120 and image[0, 0] == 255
    stretched = np.asarray(Image.open(io.BytesIO(archive.read("bird/000005.png"))))
    assert (stretched.min(), stretched.max()) == (0, 255)
    # Restricted to the first event, item 4 is still a bird.
    first_only = zipfile.ZipFile(io.BytesIO(alice.export(dataset.id, "zip", event=[event.id])))
    assert "bird/000004.png" in first_only.namelist()


def test_export_csv_and_json(labeling) -> None:
    alice = labeling.client
    dataset_id = labeling.dataset.id
    event = alice.create_event(dataset_id, tagger_id="unet")
    alice.add_tags(
        event.id,
        [
            {"item": 2, "label": "dog", "confidence": 0.75, "uri": "/data/shapes/2.png"},
            {"item": 2, "label": "cat", "confidence": 0.5},
            {"item": 7, "label": "bird", "locator": "masks/7"},
        ],
    )
    rows = list(csv.DictReader(io.StringIO(alice.export(dataset_id, "csv").decode())))
    assert [(r["item"], r["label"], r["confidence"]) for r in rows] == [
        ("2", "cat", "0.5"),
        ("2", "dog", "0.75"),
        ("7", "bird", "1.0"),
    ]
    assert rows[1]["uri"] == "/data/shapes/2.png" and rows[2]["locator"] == "masks/7"
    assert {r["tagger_id"] for r in rows} == {"unet"}
    document = json.loads(alice.export(dataset_id, "json"))
    assert document["dataset"]["name"] == "shapes"
    assert [c["name"] for c in document["classes"]] == ["cat", "dog", "bird"]
    assert [(x["item"], x["label"]) for x in document["labels"]] == [
        (2, "cat"),
        (2, "dog"),
        (7, "bird"),
    ]
    assert json.loads(alice.export(dataset_id, "json", tagger=["nobody"]))["labels"] == []


def test_export_errors(labeling, http, error_of) -> None:
    headers = {"Authorization": f"Bearer {labeling.client.api_key}"}
    response = http.get(
        f"/api/v0/datasets/{labeling.dataset.id}/export?format=xls", headers=headers
    )
    assert response.status_code == 422 and error_of(response)["field"] == "format"
    # The data set's folder does not exist: its images cannot be read.
    event = labeling.client.create_event(labeling.dataset.id)
    labeling.client.add_tags(event.id, [{"item": 0, "label": "cat"}])
    with pytest.raises(ApiClientError) as raised:
        labeling.client.export(labeling.dataset.id, "zip")
    assert (raised.value.status_code, raised.value.field) == (422, "uri")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_export_zip_from_a_tiled_node(labeling, tiled_in_process, monkeypatch) -> None:
    import tifffile

    tiled = tiled_in_process
    monkeypatch.setenv("MLEX_TILED_API_KEY", tiled.api_key)  # the key the service reads with
    alice = labeling.client
    dataset = alice.create_dataset("beamline", "stack", tiled.uri("data/root/stack"))
    assert (dataset.type, dataset.item_count) == ("tiled", 5)
    event = alice.create_event(dataset.id)
    alice.add_tags(event.id, [{"item": 1, "label": "cat"}, {"item": 4, "label": "dog"}])

    archive = zipfile.ZipFile(io.BytesIO(alice.export(dataset.id, "zip")))
    assert sorted(n for n in archive.namelist() if n.endswith(".png")) == [
        "cat/000001.png",
        "dog/000004.png",
    ]
    stack = tifffile.imread(tiled.data_root / "stack.tif")
    image = np.asarray(Image.open(io.BytesIO(archive.read("dog/000004.png"))))
    assert image.shape == stack[4].shape
    # 12-bit data stretched to 8 bits: the brightest pixel is white, the darkest black.
    assert image.flat[stack[4].argmax()] == 255 and image.flat[stack[4].argmin()] == 0
