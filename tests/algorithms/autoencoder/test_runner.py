"""The autoencoder runner: train then infer on a folder data set; results via the writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from algorithms.autoencoder.runner import run
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.spec import JobInputs, JobOutputs, JobSpec


def _spec(tmp_path: Path, data: Path, step: str, **inputs) -> JobSpec:
    return JobSpec(
        job_id=f"ae-{step}",
        algorithm="autoencoder",
        step=step,
        inputs=JobInputs(data_uri=str(data), **inputs),
        outputs=JobOutputs(results_uri=str(tmp_path / "results"), model_dir=str(tmp_path / "m")),
    )


def test_train_then_infer_writes_reconstructions_and_latents(tmp_path, shapes_file, small_params):
    events = EventEmitter()
    trained = run(_spec(tmp_path, shapes_file, "train"), small_params, "train", events)
    assert trained["epochs_run"] == 2
    assert (Path(trained["model_uri"]) / "autoencoder.pt").is_file()
    assert [e["epoch"] for e in events.events if e["type"] == "metric"] == [1, 2]

    inferred = run(
        _spec(tmp_path, shapes_file, "infer", model_uri=trained["model_uri"]),
        small_params,
        "infer",
        EventEmitter(),
    )
    reconstructions = np.load(inferred["reconstructions_uri"])
    assert reconstructions.shape == (20, 32, 32)
    assert reconstructions.dtype == np.float16
    latents = pd.read_parquet(inferred["latent_vectors_uri"])
    assert latents.shape == (20, 4)
    assert list(latents.columns) == ["z0", "z1", "z2", "z3"]
    assert -1.0 <= inferred["pearson"] <= 1.0
    written = json.loads(Path(inferred["reconstructions_uri"]).with_suffix(".json").read_text())
    assert written["complete"] is True

    wrong = small_params.model_copy(update={"base_channels": 8})
    with pytest.raises(ParameterError) as error:
        run(_spec(tmp_path, shapes_file, "infer", model_uri=trained["model_uri"]), wrong,
            "infer", EventEmitter())
    assert error.value.field == "base_channels"


def test_infer_without_a_model_is_an_input_error(tmp_path, shapes_file, small_params):
    with pytest.raises(InputDataError) as error:
        run(_spec(tmp_path, shapes_file, "infer"), small_params, "infer", EventEmitter())
    assert error.value.field == "model_uri"
