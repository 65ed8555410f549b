"""Classical runners on a folder data set: read, segment, write results, report events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from algorithms.__main__ import run_spec
from algorithms.events import EventEmitter
from algorithms.spec import UNLABELED, UNLABELED_STORED, JobSpec
from tests.algorithms.classical.conftest import TwoPhase, pore_f1


@pytest.fixture()
def data_files(two_phase: TwoPhase, tmp_path: Path) -> tuple[str, str]:
    images = tmp_path / "images.npy"
    labels = tmp_path / "labels.npy"
    np.save(images, two_phase.images)
    stored = np.where(two_phase.labels == UNLABELED, UNLABELED_STORED, two_phase.labels)
    np.save(labels, stored.astype(np.uint8))
    return str(images), str(labels)


def _spec(tmp_path: Path, name: str, step: str, **inputs: str) -> JobSpec:
    return JobSpec(
        job_id=f"{name}-{step}",
        algorithm=name,
        step=step,
        parameters={},
        inputs=inputs,
        outputs={"results_uri": str(tmp_path / "results"), "model_dir": str(tmp_path / "model")},
        seed=0,
    )


def test_random_forest_train_then_infer(
    two_phase: TwoPhase,
    data_files: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    images, labels = data_files
    events = EventEmitter()
    train = _spec(tmp_path, "random_forest", "train", data_uri=images, labels_uri=labels)
    train.parameters = {"sigmas": [1.0, 2.0], "n_trees": 10}
    assert run_spec("random_forest", "train", train, events) == 0
    result = events.events[-1]
    assert result["type"] == "result"
    model_uri = result["model"]["weights_uri"]
    assert result["model"]["framework"] == "scikit-learn"
    assert result["model"]["metrics"]["training_accuracy"] > 0.9
    assert any(event["type"] == "metric" for event in events.events)
    messages = [event.get("message") or "" for event in events.events]
    assert any(message.startswith("read 1 labeled images") for message in messages)

    # A small feature budget makes inference stream the images two slices at a time.
    monkeypatch.setattr("algorithms.classical.features.BLOCK_BYTES", 2 * 64 * 64 * 4 * 25)
    events = EventEmitter()
    infer = _spec(tmp_path, "random_forest", "infer", data_uri=images, model_uri=model_uri)
    assert run_spec("random_forest", "infer", infer, events) == 0
    outputs = events.events[-1]["outputs"]
    mask = np.load(outputs["mask"])
    probabilities = np.load(outputs["probabilities"])
    assert mask.dtype == np.uint8 and probabilities.dtype == np.float16
    assert probabilities.shape == (6, 2, 64, 64)
    assert pore_f1(mask == 1, two_phase.truth) >= 0.9
    progress = [event["value"] for event in events.events if event["type"] == "progress"]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert len(progress) == 1 + 3  # start, then one per block of two slices


def test_random_forest_with_empty_labels_fails_naming_labels(
    data_files: tuple[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.npy"
    np.save(empty, np.full((6, 64, 64), UNLABELED_STORED, dtype=np.uint8))
    events = EventEmitter()
    spec = _spec(tmp_path, "random_forest", "train", data_uri=data_files[0], labels_uri=str(empty))
    assert run_spec("random_forest", "train", spec, events) == 1
    assert events.events[-1]["field"] == "labels_uri"


def test_random_forest_without_labels_fails_naming_labels(
    data_files: tuple[str, str], tmp_path: Path
) -> None:
    events = EventEmitter()
    spec = _spec(tmp_path, "random_forest", "train", data_uri=data_files[0])
    assert run_spec("random_forest", "train", spec, events) == 1
    assert events.events[-1]["type"] == "error"
    assert events.events[-1]["field"] == "labels_uri"


def test_threshold_and_kmeans_runs(
    two_phase: TwoPhase, data_files: tuple[str, str], tmp_path: Path
) -> None:
    events = EventEmitter()
    spec = _spec(tmp_path, "threshold", "run", data_uri=data_files[0])
    spec.parameters = {"invert": True}
    assert run_spec("threshold", "run", spec, events) == 0
    result = events.events[-1]
    assert 0.3 < result["threshold"] < 0.7
    assert pore_f1(np.load(result["outputs"]["mask"]), two_phase.truth) >= 0.9

    events = EventEmitter()
    spec = _spec(tmp_path, "kmeans", "run", data_uri=data_files[0])
    assert run_spec("kmeans", "run", spec, events) == 0
    result = events.events[-1]
    assert result["cluster_mean_intensity"][0] < result["cluster_mean_intensity"][1]
    assert pore_f1(np.load(result["outputs"]["mask"]) == 0, two_phase.truth) >= 0.9


@pytest.mark.slow
def test_kmeans_entry_point_on_a_folder_of_images(two_phase: TwoPhase, tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for index, image in enumerate(two_phase.images):
        pixels = (np.clip(image, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"slice_{index:03d}.png")
    spec = _spec(tmp_path, "kmeans", "run", data_uri=str(folder))
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(spec.model_dump_json())
    completed = subprocess.run(
        [sys.executable, "-m", "algorithms", "run", "kmeans", "run", "--spec", str(spec_file)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert completed.returncode == 0, completed.stderr
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    assert {"progress", "result"} <= {event["type"] for event in events}
    mask = np.load(events[-1]["outputs"]["mask"])
    assert mask.shape == (6, 64, 64)
    assert pore_f1(mask == 0, two_phase.truth) >= 0.9


def test_kmeans_and_threshold_stream_blocks_and_fit_on_a_sample(
    two_phase: TwoPhase,
    data_files: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fit on 3 of the 6 images and read them back two at a time.
    monkeypatch.setattr("algorithms.classical.runners.FIT_IMAGES", 3)
    monkeypatch.setattr("algorithms.classical.features.BLOCK_BYTES", 2 * 64 * 64 * 4)
    for name, parameters in (("kmeans", {}), ("threshold", {"invert": True})):
        events = EventEmitter()
        spec = _spec(tmp_path, name, "run", data_uri=data_files[0])
        spec.parameters = parameters
        assert run_spec(name, "run", spec, events) == 0
        progress = [event for event in events.events if event["type"] == "progress"]
        assert sum(1 for event in progress if "/6 images" in (event["message"] or "")) == 3
        mask = np.load(events.events[-1]["outputs"]["mask"])
        pores = mask == 0 if name == "kmeans" else mask == 1
        assert pore_f1(pores, two_phase.truth) >= 0.9
    events = EventEmitter()
    spec = _spec(tmp_path, "threshold", "run", data_uri=data_files[0])
    spec.parameters = {"per_image": True, "invert": True}
    assert run_spec("threshold", "run", spec, events) == 0
    assert len(events.events[-1]["thresholds"]) == 6
