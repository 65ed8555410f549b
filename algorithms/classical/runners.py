"""Runners of the classical segmentation cards: read data, segment, write results, report.

Masks are written as uint8 and probabilities as float16 (N, K, Y, X) through ``ResultsWriter``,
slice block by slice block so that a front-end can show results while the job runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from algorithms.classical.arrays import as_stack, labels_in_memory
from algorithms.classical.cards import KMeansParameters, RandomForestParameters, ThresholdParameters
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.spec import UNLABELED, JobSpec

PARAMETERS_FILE = "parameters.json"
# Data-set-wide fits (k-means centres, automatic thresholds) use this many evenly spaced images.
FIT_IMAGES = 32


def _announce(events: EventEmitter, name: str, uri: str) -> None:
    """Emit an artifact event for one output."""
    events.artifact(name, uri, kind="table" if uri.endswith(".parquet") else "array")


def _open_dataset(spec: JobSpec) -> Any:
    from algorithms.data import open_dataset

    if not spec.inputs.data_uri:
        raise InputDataError("this algorithm needs images (inputs.data_uri)", "data_uri")
    return open_dataset(spec.inputs.data_uri, spec.inputs.tiled_api_key)


def _read_images(spec: JobSpec) -> np.ndarray:
    return as_stack(_open_dataset(spec).read())


def _read_labels(spec: JobSpec, shape: tuple[int, ...]) -> np.ndarray:
    from algorithms.data import read_array

    if not spec.inputs.labels_uri:
        raise InputDataError("training needs label masks (inputs.labels_uri)", "labels_uri")
    stored = np.asarray(read_array(spec.inputs.labels_uri, spec.inputs.tiled_api_key))
    if stored.ndim == 2:
        stored = stored[np.newaxis]
    if stored.shape != shape:
        raise InputDataError(
            f"labels of shape {stored.shape} do not match the images {shape}", "labels_uri"
        )
    labels = labels_in_memory(stored)
    labels[labels < 0] = UNLABELED
    return labels


def _writer(spec: JobSpec, metadata: dict[str, Any]) -> Any:
    from algorithms.data import ResultsWriter

    return ResultsWriter(
        spec.outputs.results_uri,
        spec.job_id,
        spec.outputs.tiled_api_key,
        {"algorithm": spec.algorithm, "source": spec.inputs.data_uri, **metadata},
    )


def _seed(spec: JobSpec) -> int:
    return int(spec.seed) if spec.seed is not None else 0


def _n_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def run_random_forest(
    spec: JobSpec, params: RandomForestParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """Train (save the model to ``outputs.model_dir``) or infer (mask and probabilities)."""
    if step == "train":
        return _train_random_forest(spec, params, events)
    if step == "infer":
        return _infer_random_forest(spec, params, events)
    raise ParameterError("step", f"random_forest supports train and infer, not {step}")


def _train_random_forest(
    spec: JobSpec, params: RandomForestParameters, events: EventEmitter
) -> dict[str, Any]:
    from algorithms.classical.random_forest import save_classifier, train_pixel_classifier

    if not spec.outputs.model_dir:
        raise InputDataError("training needs outputs.model_dir to save the model", "model_dir")
    dataset = _open_dataset(spec)
    labels = _read_labels(spec, tuple(dataset.shape[:3]))
    if params.dimensions == "3d":
        images = as_stack(dataset.read())
    else:
        # 2D features need only the labeled images.
        labeled = np.flatnonzero((labels != UNLABELED).reshape(len(labels), -1).any(axis=1))
        if labeled.size == 0:
            raise InputDataError("the label masks hold no labeled pixel", "labels_uri")
        images = as_stack(np.stack([dataset[int(i)] for i in labeled]))
        labels = labels[labeled]
    events.progress(0.1, f"read {images.shape[0]} labeled images; computing features")
    classifier = train_pixel_classifier(
        images,
        labels,
        sigmas=params.sigmas,
        features=params.features,
        dimensions=params.dimensions,
        n_trees=params.n_trees,
        max_depth=params.max_depth,
        class_weight=params.class_weight,
        max_training_pixels=params.max_training_pixels,
        seed=_seed(spec),
        n_jobs=_n_jobs(),
    )
    metrics = {
        "training_accuracy": classifier.info["training_accuracy"],
        "labeled_pixels": classifier.info["labeled_pixels"],
    }
    events.metric(0, metrics, step="train")
    path = save_classifier(classifier, spec.outputs.model_dir)
    stored = params.model_dump()
    (path.parent / PARAMETERS_FILE).write_text(
        json.dumps({"algorithm": "random_forest", "parameters": stored, **classifier.info})
    )
    _announce(events, "model", str(path.parent))
    events.progress(1.0, "model saved")
    return {
        "model": {
            "weights_uri": str(path.parent),
            "framework": "scikit-learn",
            "metrics": metrics,
            "parameters": stored,
        },
        "classes": classifier.info["classes"],
    }


def _infer_random_forest(
    spec: JobSpec, params: RandomForestParameters, events: EventEmitter
) -> dict[str, Any]:
    from algorithms.classical.random_forest import load_classifier

    if not spec.inputs.model_uri:
        raise InputDataError("inference needs a trained model (inputs.model_uri)", "model_uri")
    classifier = load_classifier(spec.inputs.model_uri)
    dataset = _open_dataset(spec)
    count, spatial = len(dataset), tuple(dataset.shape[1:3])
    writer = _writer(spec, {"model_uri": spec.inputs.model_uri})
    mask = writer.create_array("mask", (count, *spatial), np.uint8, {"kind": "mask"})
    probabilities = None
    if params.output_probabilities:
        probabilities = writer.create_array(
            "probabilities",
            (count, classifier.n_classes, *spatial),
            np.float16,
            {"kind": "probabilities"},
        )
    events.progress(0.05, f"segmenting {count} images")
    for start, stop, block_mask, block_probabilities in _stream_predictions(classifier, dataset):
        mask.write_slices(start, block_mask)
        if probabilities is not None:
            probabilities.write_slices(start, block_probabilities.astype(np.float16))
        events.progress(0.05 + 0.95 * stop / count, f"{stop}/{count} images")
    outputs = {"mask": mask.uri}
    if probabilities is not None:
        outputs["probabilities"] = probabilities.uri
    for name, uri in outputs.items():
        _announce(events, name, uri)
    return {"outputs": outputs, "classes": classifier.n_classes, "results_uri": writer.uri}


def _stream_predictions(
    classifier: Any, dataset: Any
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Predictions block by block; 2D models read only one block of images at a time."""
    from algorithms.classical.features import BLOCK_BYTES, feature_count
    from algorithms.classical.random_forest import iter_predictions

    if classifier.dimensions == "3d":
        yield from iter_predictions(classifier, as_stack(dataset.read()))
        return
    count = len(dataset)
    pixels = int(np.prod(dataset.shape[1:3]))
    slice_bytes = 4 * pixels * feature_count(classifier.sigmas, classifier.features, 2)
    block = max(1, BLOCK_BYTES // slice_bytes)
    for start in range(0, count, block):
        images = as_stack(dataset.read_slices(start, min(start + block, count)))
        for first, last, block_mask, block_probabilities in iter_predictions(classifier, images):
            yield start + first, start + last, block_mask, block_probabilities


def _sample_images(dataset: Any) -> np.ndarray:
    """Up to ``FIT_IMAGES`` evenly spaced images: what data-set-wide fits are computed on."""
    count = len(dataset)
    indices = np.unique(np.linspace(0, count - 1, min(count, FIT_IMAGES)).round().astype(int))
    return as_stack(np.stack([dataset[int(i)] for i in indices]))


def _image_blocks(dataset: Any, bytes_per_pixel: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, images)`` for consecutive blocks of a data set, read one block at a time."""
    from algorithms.classical.features import BLOCK_BYTES

    count = len(dataset)
    pixels = int(np.prod(dataset.shape[1:3]))
    block = max(1, BLOCK_BYTES // (bytes_per_pixel * pixels))
    for start in range(0, count, block):
        yield start, as_stack(dataset.read_slices(start, min(start + block, count)))


def run_kmeans(
    spec: JobSpec, params: KMeansParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """Cluster the pixels of the data set and write the label mask.

    In 2D mode the centres are fitted on up to ``FIT_IMAGES`` evenly spaced images and the data
    set is then labeled block by block; in 3D mode the volume is read whole.
    """
    from algorithms.classical.features import feature_count
    from algorithms.classical.kmeans import fit_pixel_clusters, iter_cluster_masks

    dataset = _open_dataset(spec)
    count, spatial = len(dataset), tuple(dataset.shape[1:3])
    volume = as_stack(dataset.read()) if params.dimensions == "3d" else None
    sample = volume if volume is not None else _sample_images(dataset)
    events.progress(0.1, f"fitting {params.n_clusters} clusters on {len(sample)} images")
    clusters = fit_pixel_clusters(
        sample,
        n_clusters=params.n_clusters,
        max_iter=params.max_iter,
        features=params.features,
        sigmas=params.sigmas,
        dimensions=params.dimensions,
        max_fit_pixels=params.max_fit_pixels,
        seed=_seed(spec),
    )
    intensities = [float(v) for v in clusters.cluster_intensity]
    writer = _writer(spec, {"cluster_mean_intensity": intensities})
    mask = writer.create_array("mask", (count, *spatial), np.uint8, {"kind": "mask"})
    if volume is not None:
        blocks: Any = [(0, volume)]
    else:
        channels = feature_count(params.sigmas, params.features, 2)
        blocks = _image_blocks(dataset, 4 * channels)
    for offset, images in blocks:
        for start, stop, block in iter_cluster_masks(clusters, images):
            mask.write_slices(offset + start, block)
            events.progress(0.3 + 0.7 * (offset + stop) / count, f"{offset + stop}/{count} images")
    _announce(events, "mask", mask.uri)
    return {
        "outputs": {"mask": mask.uri},
        "classes": params.n_clusters,
        "cluster_mean_intensity": intensities,
        "results_uri": writer.uri,
    }


def run_threshold(
    spec: JobSpec, params: ThresholdParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """Threshold the data set block by block and write the binary mask.

    An automatic data-set threshold is computed on up to ``FIT_IMAGES`` evenly spaced images.
    """
    from algorithms.classical.threshold import threshold_segment, threshold_value

    dataset = _open_dataset(spec)
    count, spatial = len(dataset), tuple(dataset.shape[1:3])
    shared = None
    if not params.per_image or params.method == "value":
        shared = threshold_value(_sample_images(dataset), params.method, params.value)
        events.progress(0.1, f"threshold {shared:.6g}")
    writer = _writer(spec, {"threshold": shared} if shared is not None else {})
    mask = writer.create_array("mask", (count, *spatial), np.uint8, {"kind": "mask"})
    thresholds: list[float] = []
    for start, images in _image_blocks(dataset, 4):
        if shared is None:
            block, used = threshold_segment(images, params.method, None, params.invert, True)
            thresholds.extend(used)
        else:
            block, _ = threshold_segment(images, "value", shared, params.invert)
        mask.write_slices(start, block)
        stop = start + len(images)
        events.progress(0.1 + 0.9 * stop / count, f"{stop}/{count} images")
    _announce(events, "mask", mask.uri)
    summary: dict[str, Any] = {
        "outputs": {"mask": mask.uri},
        "classes": 2,
        "results_uri": writer.uri,
    }
    if shared is not None:
        summary["threshold"] = shared
    else:
        summary["thresholds"] = thresholds
    return summary
