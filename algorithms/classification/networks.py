"""Build Keras application classifiers: backbone, pooled feature vector, softmax head.

Imports TensorFlow/Keras; only the runner and tests import this module.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

from algorithms.classification.cards import NETWORKS  # noqa: E402
from algorithms.errors import ParameterError  # noqa: E402


def _grow_gpu_memory() -> None:
    """Let TensorFlow take GPU memory as it needs it, not all of it, on a shared worker."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: nothing left to configure
            pass


_grow_gpu_memory()

FEATURES_LAYER = "features"
PROBABILITIES_LAYER = "probabilities"


def build_classifier(network: str, num_classes: int, input_size: int) -> keras.Model:
    """A classifier on an untrained Keras application backbone.

    Input (N, input_size, input_size, 3) preprocessed images; output (N, num_classes) softmax
    probabilities. The globally average-pooled backbone output is the layer named
    ``features`` (the second-to-last layer), used as the image's feature vector.
    """
    if network not in NETWORKS:
        raise ParameterError("network", f"unknown network {network!r}")
    if num_classes < 2:
        raise ParameterError("labels", f"need at least 2 classes, got {num_classes}")
    info = NETWORKS[network]
    if input_size < info.min_size:
        raise ParameterError("input_size", f"{network} needs an input of at least {info.min_size}")
    backbone = getattr(keras.applications, network)(
        include_top=False, weights=None, input_shape=(input_size, input_size, 3), pooling=None
    )
    backbone.name = "backbone"
    inputs = keras.Input((input_size, input_size, 3), name="image")
    pooled = keras.layers.GlobalAveragePooling2D(name=FEATURES_LAYER)(backbone(inputs))
    outputs = keras.layers.Dense(num_classes, activation="softmax", name=PROBABILITIES_LAYER)(
        pooled
    )
    return keras.Model(inputs, outputs, name=f"{network}_classifier")


def feature_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s weights that outputs its feature vectors."""
    return keras.Model(model.inputs, model.get_layer(FEATURES_LAYER).output)


def preprocess_function(network: str) -> Any:
    """The network's own ``preprocess_input`` (expects RGB values in 0..255)."""
    module = importlib.import_module(f"keras.applications.{NETWORKS[network].module}")
    return module.preprocess_input


def load_local_weights(model: keras.Model, weights_path: str) -> int:
    """Load pre-trained weights from a local file; return how many weight tensors changed.

    The file may hold a whole classifier (``.keras`` or ``.weights.h5`` saved from this module)
    or a bare backbone (for example Keras' ImageNet ``*_notop.h5`` files). Tensors whose shapes
    do not match (such as a head with another number of classes) are skipped.
    """
    path = Path(weights_path)
    if not path.is_file():
        raise ParameterError("weights_path", f"no such file: {weights_path}")
    before = [np.array(w) for w in model.weights]
    # A whole-classifier file fits the model; a bare-backbone file fits the backbone.
    targets = [model] if path.name.endswith(".keras") else [model, model.get_layer("backbone")]
    errors = []
    for target in targets:
        try:
            _load_into(target, path)
        except Exception as error:  # a layout that does not fit: try the next target
            errors.append(f"{type(error).__name__}: {error}")
            continue
        changed = sum(
            not np.array_equal(old, np.array(new))
            for old, new in zip(before, model.weights, strict=True)
        )
        if changed:
            return changed
    detail = "; ".join(e[:200] for e in errors) or "no weight tensor matched the network"
    raise ParameterError("weights_path", f"could not load weights from {weights_path}: {detail}")


def _load_into(target: keras.Model, path: Path) -> None:
    with warnings.catch_warnings():
        # Keras warns once per skipped layer; the count of changed tensors says enough.
        warnings.simplefilter("ignore")
        if path.name.endswith(".keras"):
            source = keras.saving.load_model(path, compile=False)
            _copy_matching_weights(source, target)
        else:
            target.load_weights(str(path), skip_mismatch=True)


def _copy_matching_weights(source: keras.Model, target: keras.Model) -> None:
    """Copy weights layer by layer (by name, same shapes) from ``source`` into ``target``."""
    source_layers = {layer.name: layer for layer in _all_layers(source)}
    for layer in _all_layers(target):
        match = source_layers.get(layer.name)
        if match is None or not layer.weights:
            continue
        new = match.get_weights()
        if [w.shape for w in new] == [tuple(w.shape) for w in layer.weights]:
            layer.set_weights(new)


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers.extend(_all_layers(layer))
        else:
            layers.append(layer)
    return layers
