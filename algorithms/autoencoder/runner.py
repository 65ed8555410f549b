"""Entry-point runner of ``autoencoder``: train and infer steps.

Train reads every image of the data set, trains with a mean-square-error loss (metric events per
epoch with the validation Pearson correlation), saves the model into ``model_dir`` and then runs
inference. Infer loads a saved model. Both write ``reconstructions`` (float16 array, one slice
per image: (N, S, S), or (N, S, S, C) for several channels, values in the scaled 0..1 range) and
``latent_vectors`` (a table, one row per image, columns ``z0..``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algorithms.autoencoder.cards import AutoencoderJobParameters
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.inputs import open_input_dataset, require_model_dir
from algorithms.spec import JobSpec

CHUNK = 256


def report_artifact(events: EventEmitter, name: str, uri: str, kind: str) -> None:
    """Send an artifact event naming one output and its kind."""
    events.artifact(name, uri, kind=kind)


def run(
    spec: JobSpec, params: AutoencoderJobParameters, step: str, events: EventEmitter
) -> dict[str, Any]:
    """Run one step (``train`` or ``infer``) of the autoencoder; return the result summary."""
    from algorithms.autoencoder import training
    from algorithms.data import ResultsWriter

    dataset = open_input_dataset(spec)
    count = len(dataset)
    summary: dict[str, Any] = {"num_images": count, "latent_dim": params.latent_dim}

    if step == "train":
        model_dir = require_model_dir(spec)
        events.log(f"reading {count} images")
        images = training.prepare_images((dataset[i] for i in range(count)), params)
        model, history = training.train_autoencoder(images, params, events)
        last = history[-1] if history else {}
        best = {k: v for k, v in last.items() if k != "seconds"}
        folder = training.save_autoencoder(model, model_dir, params, best)
        report_artifact(events, "model", str(folder), "model")
        summary.update(model_uri=str(folder), epochs_run=len(history), metrics=best)
    elif step == "infer":
        if not spec.inputs.model_uri:
            raise InputDataError("no trained model given (inputs.model_uri)", "model_uri")
        model, meta = training.load_autoencoder(spec.inputs.model_uri, params.device)
        training.check_architecture(params, meta.get("network", {}))
        if spec.inputs.model_parameters:
            training.check_architecture(params, spec.inputs.model_parameters)
    else:
        raise ParameterError("step", f"autoencoder has no step {step!r}")

    writer = ResultsWriter(
        spec.outputs.results_uri,
        spec.job_id,
        api_key=spec.outputs.tiled_api_key,
        metadata={"algorithm": "autoencoder", "step": step},
    )
    size, channels = params.input_size, params.in_channels
    shape = (count, size, size) if channels == 1 else (count, size, size, channels)
    handle = writer.create_array(
        "reconstructions", shape, np.float16, metadata={"intensity": params.intensity_scaling}
    )
    latent_chunks, pearson = [], []
    start_share = 0.8 if step == "train" else 0.0
    for start in range(0, count, CHUNK):
        stop = min(start + CHUNK, count)
        images = training.prepare_images((dataset[i] for i in range(start, stop)), params)
        reconstructions, latents = training.reconstruct_and_encode(model, images, params.batch_size)
        pearson.append(training.per_image_pearson(reconstructions, images))
        block = reconstructions.numpy()
        block = block[:, 0] if channels == 1 else np.moveaxis(block, 1, -1)
        handle.write_slices(start, block.astype(np.float16))
        latent_chunks.append(latents.numpy())
        events.progress(start_share + (1 - start_share) * stop / count, f"encoded {stop}")
    latents = np.concatenate(latent_chunks)
    table = _latent_table(latents)
    latent_uri = writer.write_table("latent_vectors", table)
    report_artifact(events, "reconstructions", handle.uri, "array")
    report_artifact(events, "latent_vectors", latent_uri, "table")
    summary.update(
        reconstructions_uri=handle.uri,
        latent_vectors_uri=latent_uri,
        pearson=float(np.nanmean(np.concatenate(pearson))),
    )
    return summary


def _latent_table(latents: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame(latents, columns=[f"z{k}" for k in range(latents.shape[1])])
