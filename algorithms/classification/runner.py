"""Entry-point runner of ``keras_classifier``: train and infer steps.

Train reads the labeled items (``spec.inputs.labels``), trains, saves the model into
``model_dir`` and predicts every item of the data set (labeled or not). Infer loads a saved model
and predicts. Both write two tables through the results writer: ``probabilities`` (one column
per class, one row per image in data-set order) and ``features`` (the pooled feature vector of
the layer before the softmax, columns ``f0..``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from algorithms.classification.cards import KerasClassifierParameters
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.inputs import open_input_dataset, require_model_dir
from algorithms.spec import JobSpec

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PREDICT_CHUNK = 256


def report_artifact(events: EventEmitter, name: str, uri: str, kind: str) -> None:
    """Send an artifact event naming one output and its kind."""
    events.artifact(name, uri, kind=kind)


def parse_labels(labels: dict[str, Any] | None, count: int) -> tuple[list[str], dict[int, int]]:
    """Read ``{"classes": [names], "items": {index: name}}`` into classes and item -> class index.

    Items not listed are unlabeled. Raises InputDataError (field ``labels``) when the labels are
    missing, name an unknown class or an item outside the data set, or give fewer than 2 classes.
    """
    if not labels or "classes" not in labels or "items" not in labels:
        raise InputDataError('training needs labels {"classes": [...], "items": {...}}', "labels")
    classes = [str(name) for name in labels["classes"]]
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise InputDataError(f"need at least 2 distinct classes, got {classes}", "labels")
    position = {name: k for k, name in enumerate(classes)}
    items: dict[int, int] = {}
    for key, name in labels["items"].items():
        try:
            index = int(key)
        except (TypeError, ValueError):
            raise InputDataError(f"item {key!r} is not an image index", "labels") from None
        if not 0 <= index < count:
            raise InputDataError(f"item {index} is outside the data set of {count}", "labels")
        if str(name) not in position:
            raise InputDataError(f"item {index} has unknown class {name!r}", "labels")
        items[index] = position[str(name)]
    if not items:
        raise InputDataError("no labeled item to train on", "labels")
    return classes, items


def run(
    spec: JobSpec, params: KerasClassifierParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """Run one step (``train`` or ``infer``) of the classifier; return the result summary."""
    from algorithms.classification import classifier
    from algorithms.data import ResultsWriter

    dataset = open_input_dataset(spec)
    count = len(dataset)
    summary: dict[str, Any] = {"num_images": count, "network": params.network}

    if step == "train":
        model_dir = require_model_dir(spec)
        classes, items = parse_labels(spec.inputs.labels, count)
        indices = sorted(items)
        events.log(f"training {params.network} on {len(indices)} labeled images of {count}")
        images = [dataset[i] for i in indices]
        model, metrics = classifier.train_classifier(
            images, np.array([items[i] for i in indices]), len(classes), params, events
        )
        folder = classifier.save_classifier(model, model_dir, classes, params, metrics)
        report_artifact(events, "model", str(folder), "model")
        summary.update(model_uri=str(folder), num_labeled=len(indices), metrics=metrics)
    elif step == "infer":
        if not spec.inputs.model_uri:
            raise InputDataError("no trained model given (inputs.model_uri)", "model_uri")
        model, meta = classifier.load_classifier(spec.inputs.model_uri)
        classifier.check_architecture(params, meta)
        if spec.inputs.model_parameters:
            classifier.check_architecture(params, spec.inputs.model_parameters)
        classes = list(meta["classes"])
    else:
        raise ParameterError("step", f"keras_classifier has no step {step!r}")

    probabilities, features = _predict_all(model, dataset, params, events)
    writer = ResultsWriter(
        spec.outputs.results_uri,
        spec.job_id,
        api_key=spec.outputs.tiled_api_key,
        metadata={"algorithm": "keras_classifier", "step": step, "network": params.network},
    )
    uris = _write_tables(writer, probabilities, features, classes)
    for name, uri in uris.items():
        report_artifact(events, name, uri, "table")
    predicted = probabilities.argmax(axis=1)
    summary.update(
        classes=classes,
        probabilities_uri=uris["probabilities"],
        features_uri=uris["features"],
        predicted_counts={name: int((predicted == k).sum()) for k, name in enumerate(classes)},
    )
    events.progress(1.0, "done")
    return summary


def _predict_all(
    model: Any, dataset: Any, params: KerasClassifierParameters, events: EventEmitter
) -> tuple[np.ndarray, np.ndarray]:
    from algorithms.classification import classifier

    count = len(dataset)
    probability_chunks, feature_chunks = [], []
    for start in range(0, count, PREDICT_CHUNK):
        stop = min(start + PREDICT_CHUNK, count)
        probabilities, features = classifier.predict(
            model, [dataset[i] for i in range(start, stop)], params.network, params.batch_size
        )
        probability_chunks.append(probabilities)
        feature_chunks.append(features)
        events.progress(0.9 + 0.1 * stop / count, f"predicted {stop} of {count}")
    return np.concatenate(probability_chunks), np.concatenate(feature_chunks)


def _write_tables(
    writer: Any, probabilities: np.ndarray, features: np.ndarray, classes: list[str]
) -> dict[str, str]:
    import pandas as pd

    probability_table = pd.DataFrame(probabilities, columns=classes)
    feature_table = pd.DataFrame(features, columns=[f"f{k}" for k in range(features.shape[1])])
    return {
        "probabilities": writer.write_table(
            "probabilities", probability_table, metadata={"classes": classes}
        ),
        "features": writer.write_table("features", feature_table),
    }
