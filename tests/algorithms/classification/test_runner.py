"""The keras_classifier runner: train then infer on a folder data set, tables in the results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from algorithms.classification.cards import KerasClassifierParameters
from algorithms.classification.runner import run
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.spec import JobInputs, JobOutputs, JobSpec

PARAMS = {"network": "MobileNetV2", "input_size": 32, "epochs": 1, "batch_size": 8}
LABELS = {"classes": ["stripes", "square"], "items": {str(i): ["stripes", "square"][i % 2]
                                                     for i in range(10)}}


@pytest.fixture(scope="module")
def data_file(two_class_file: Path) -> Path:
    return two_class_file


def _spec(tmp_path: Path, data_file: Path, step: str, **inputs) -> JobSpec:
    return JobSpec(
        job_id=f"job-{step}",
        algorithm="keras_classifier",
        step=step,
        parameters=PARAMS,
        inputs=JobInputs(data_uri=str(data_file), **inputs),
        outputs=JobOutputs(results_uri=str(tmp_path / "results"), model_dir=str(tmp_path / "m")),
    )


def test_train_then_infer_writes_probability_and_feature_tables(tmp_path, data_file):
    params = KerasClassifierParameters(**PARAMS)
    events = EventEmitter()
    trained = run(_spec(tmp_path, data_file, "train", labels=LABELS), params, "train", events)
    assert trained["num_labeled"] == 10 and trained["num_images"] == 14
    meta = json.loads((Path(trained["model_uri"]) / "classifier.json").read_text())
    assert meta["classes"] == ["stripes", "square"]
    assert any(e["type"] == "metric" for e in events.events)

    inferred = run(
        _spec(tmp_path, data_file, "infer", model_uri=trained["model_uri"]),
        params,
        "infer",
        EventEmitter(),
    )
    probabilities = pd.read_parquet(inferred["probabilities_uri"])
    assert list(probabilities.columns) == ["stripes", "square"]
    assert len(probabilities) == 14
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    features = pd.read_parquet(inferred["features_uri"])
    assert features.shape == (14, 1280)
    assert sum(inferred["predicted_counts"].values()) == 14

    with pytest.raises(ParameterError) as error:
        run(
            _spec(tmp_path, data_file, "infer", model_uri=trained["model_uri"]),
            params.model_copy(update={"input_size": 48}),
            "infer",
            EventEmitter(),
        )
    assert error.value.field == "input_size"


def test_train_without_labels_is_an_input_error(tmp_path, data_file):
    with pytest.raises(InputDataError) as error:
        run(_spec(tmp_path, data_file, "train"), KerasClassifierParameters(**PARAMS), "train",
            EventEmitter())
    assert error.value.field == "labels"


@pytest.mark.slow
def test_entry_point_rejects_a_missing_weights_file(tmp_path, data_file):
    spec = _spec(tmp_path, data_file, "train", labels=LABELS).model_dump()
    spec["parameters"] = {**PARAMS, "weights_path": str(tmp_path / "none.weights.h5")}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    done = subprocess.run(
        [sys.executable, "-m", "algorithms", "run", "keras_classifier", "train",
         "--spec", str(spec_file)],
        capture_output=True, text=True, timeout=300,
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 2, done.stderr[-2000:]
    assert events[-1]["type"] == "error" and events[-1]["field"] == "weights_path"
