"""Train, apply, save and load a Keras application classifier (TensorFlow imported here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from algorithms.classification.cards import ARCHITECTURE_FIELDS, KerasClassifierParameters
from algorithms.classification.images import prepare_batch
from algorithms.classification.networks import (
    FEATURES_LAYER,
    build_classifier,
    keras,
    load_local_weights,
    preprocess_function,
)
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter

MODEL_FILE = "classifier.keras"
META_FILE = "classifier.json"


def _optimizer(params: KerasClassifierParameters) -> keras.optimizers.Optimizer:
    optimizers = {
        "Adam": keras.optimizers.Adam,
        "AdamW": keras.optimizers.AdamW,
        "SGD": keras.optimizers.SGD,
        "RMSprop": keras.optimizers.RMSprop,
    }
    return optimizers[params.optimizer](learning_rate=params.learning_rate)


class _EpochEvents(keras.callbacks.Callback):
    """Sends each epoch's loss and accuracy (train and validation) as metric events."""

    def __init__(self, events: EventEmitter, epochs: int, progress_share: float) -> None:
        super().__init__()
        self.events = events
        self.epochs = epochs
        self.progress_share = progress_share

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = {name: float(value) for name, value in (logs or {}).items()}
        values.pop("learning_rate", None)
        self.events.metric(epoch + 1, values, step="train")
        self.events.progress(self.progress_share * (epoch + 1) / self.epochs, f"epoch {epoch + 1}")


def split_train_validation(
    count: int, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(count)`` and hold out ``fraction`` of it (at least one if any)."""
    order = np.random.default_rng(seed).permutation(count)
    held_out = int(round(count * fraction))
    if fraction > 0 and count >= 2:
        held_out = min(max(held_out, 1), count - 1)
    else:
        held_out = 0
    return order[held_out:], order[:held_out]


def _augmenter(params: KerasClassifierParameters) -> keras.Sequential | None:
    layers: list[keras.layers.Layer] = []
    if params.horizontal_flip or params.vertical_flip:
        mode = "_and_".join(
            name
            for name, on in (("horizontal", params.horizontal_flip),
                             ("vertical", params.vertical_flip))
            if on
        )
        layers.append(keras.layers.RandomFlip(mode, seed=params.seed))
    if params.rotation_angle > 0:
        # Reflection fill: no constant border whose value depends on the preprocessing.
        layers.append(
            keras.layers.RandomRotation(
                params.rotation_angle / 360.0, fill_mode="reflect", seed=params.seed + 1
            )
        )
    return keras.Sequential(layers, name="augmentation") if layers else None


def train_classifier(
    images: Sequence[np.ndarray],
    targets: np.ndarray,
    num_classes: int,
    params: KerasClassifierParameters,
    events: EventEmitter | None = None,
    progress_share: float = 0.9,
) -> tuple[keras.Model, dict[str, float]]:
    """Build (optionally from local weights) and train a classifier on labeled images.

    Args:
        images: raw images, any size, grayscale or RGB.
        targets: class index (0..num_classes-1) of each image.
        progress_share: fraction of the job's progress bar that training fills.
    Returns the trained model and the last epoch's metrics.
    """
    import tensorflow as tf

    events = events or EventEmitter()
    targets = np.asarray(targets, dtype=np.int64)
    if len(images) != len(targets) or len(images) == 0:
        raise InputDataError("need one class label for each of at least one image", "labels")
    keras.utils.set_random_seed(params.seed)
    size = params.resolved_input_size()
    model = build_classifier(params.network, num_classes, size)
    if params.weights_path:
        changed = load_local_weights(model, params.weights_path)
        events.log(f"loaded {changed} weight tensors from {params.weights_path}")
    x = prepare_batch(images, size, preprocess_function(params.network))
    train_index, validation_index = split_train_validation(
        len(x), params.validation_fraction, params.seed
    )
    augment = _augmenter(params)

    def dataset(index: np.ndarray, training: bool) -> tf.data.Dataset:
        data = tf.data.Dataset.from_tensor_slices((x[index], targets[index]))
        if training:
            data = data.shuffle(len(index), seed=params.seed, reshuffle_each_iteration=True)
        data = data.batch(params.batch_size)
        if training and augment is not None:
            data = data.map(lambda a, b: (augment(a, training=True), b))
        return data.prefetch(2)

    model.compile(
        optimizer=_optimizer(params),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        dataset(train_index, True),
        validation_data=dataset(validation_index, False) if len(validation_index) else None,
        epochs=params.epochs,
        verbose=0,
        callbacks=[_EpochEvents(events, params.epochs, progress_share)],
    )
    last = {name: float(values[-1]) for name, values in history.history.items() if values}
    last.pop("learning_rate", None)
    return model, last


def predict(
    model: keras.Model,
    images: Sequence[np.ndarray],
    network: str,
    batch_size: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (N, K) and feature vectors (N, F) of raw images."""
    size = int(model.input_shape[1])
    both = keras.Model(model.inputs, [model.output, model.get_layer(FEATURES_LAYER).output])
    batch = prepare_batch(images, size, preprocess_function(network))
    probabilities, features = both.predict(batch, batch_size=batch_size, verbose=0)
    return np.asarray(probabilities, np.float64), np.asarray(features, np.float32)


def save_classifier(
    model: keras.Model,
    model_dir: str | Path,
    classes: Sequence[str],
    params: KerasClassifierParameters,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Write ``classifier.keras`` and ``classifier.json`` (classes, parameters) into a folder."""
    folder = Path(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / MODEL_FILE)
    meta = {
        "algorithm": "keras_classifier",
        "classes": list(classes),
        "network": params.network,
        "input_size": params.resolved_input_size(),
        "parameters": params.model_dump(),
        "metrics": metrics or {},
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))
    return folder


def load_classifier(model_uri: str | Path) -> tuple[keras.Model, dict[str, Any]]:
    """Read a classifier saved by :func:`save_classifier` (its folder or its ``.keras`` file)."""
    path = Path(model_uri)
    folder = path.parent if path.suffix == ".keras" else path
    model_path = path if path.suffix == ".keras" else folder / MODEL_FILE
    meta_path = folder / META_FILE
    if not model_path.is_file() or not meta_path.is_file():
        raise InputDataError(
            f"no trained classifier at {model_uri} (expected {MODEL_FILE} and {META_FILE})",
            field="model_uri",
        )
    meta = json.loads(meta_path.read_text())
    model = keras.saving.load_model(model_path, compile=False)
    return model, meta


def check_architecture(params: KerasClassifierParameters, meta: dict[str, Any]) -> None:
    """Raise ParameterError naming the first architecture parameter that differs from the model."""
    saved = {"network": meta.get("network"), "input_size": meta.get("input_size")}
    ours = {"network": params.network, "input_size": params.resolved_input_size()}
    for name in ARCHITECTURE_FIELDS:
        if saved[name] is not None and saved[name] != ours[name]:
            raise ParameterError(
                name, f"the model was trained with {name}={saved[name]!r}, not {ours[name]!r}"
            )

