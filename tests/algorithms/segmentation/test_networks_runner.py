"""The network segmentation runner: cards, 2D/3D train and infer, checks, ensembles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from algorithms.errors import InputDataError, ParameterError
from algorithms.networks.cards import CARDS

TINY = {"layers": 4, "max_dilation": 4, "epochs": 2, "batch_size": 4, "device": "cpu"}


@pytest.mark.parametrize("name", ["msdnet", "tunet", "tunet3plus", "smsnet_ensemble"])
def test_cards_describe_network_segmentation(name: str) -> None:
    info = CARDS[name]
    assert info.application == "segmentation" and info.version == "1.0.0"
    assert info.steps == ("train", "infer") and info.gpu == "optional"
    assert info.framework == "pytorch"
    info.parameters()  # defaults are valid
    schema = info.parameters_schema()
    for field, spec in schema["properties"].items():
        assert "ui" in spec, field
    assert {"learning_rate", "window", "step", "border", "conformal_coverage"} <= set(
        schema["properties"]
    )


def test_cards_reject_bad_values_and_unknown_fields() -> None:
    model = CARDS["msdnet"].parameters
    with pytest.raises(ValueError):
        model(layers=0)
    with pytest.raises(ValueError):
        model(windows=64)


def test_cards_import_without_torch() -> None:
    code = "import sys, algorithms.networks.cards; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3])


def test_train_then_infer_2d_writes_mask_and_probabilities(run_job, two_phase, tmp_path) -> None:
    params = {**TINY, "window": 48, "step": 24, "border": 4}
    summary, events = run_job("msdnet", "train", params, two_phase["inputs"])
    folder = Path(summary["model"]["weights_uri"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["algorithm"] == "msdnet" and manifest["n_classes"] == 2
    assert summary["model"]["parameters"]["layers"] == 4
    metric_events = [e for e in events if e["type"] == "metric"]
    assert [e["epoch"] for e in metric_events] == [1, 2]
    assert "val_f1_macro" in metric_events[-1]["values"]
    assert any(e["type"] == "progress" and e["value"] == 1.0 for e in events)

    inputs = {**two_phase["inputs"], "model_uri": str(folder)}
    result, infer_events = run_job("msdnet", "infer", {"device": "cpu"}, inputs, job_id="inf")
    mask = np.load(result["outputs"]["mask"])
    probabilities = np.load(result["outputs"]["probabilities"])
    assert mask.shape == (8, 96, 96) and mask.dtype == np.uint8
    assert probabilities.shape == (8, 2, 96, 96) and probabilities.dtype == np.float16
    decided = np.abs(np.diff(probabilities.astype(np.float32), axis=1))[:, 0] > 1e-2
    assert np.array_equal(mask[decided], probabilities.argmax(1)[decided])
    assert np.allclose(probabilities.astype(np.float32).sum(1), 1.0, atol=2e-3)
    progress = json.loads(Path(result["outputs"]["mask"]).with_suffix(".json").read_text())
    assert progress["complete"]
    artifacts = {e["name"]: e["uri"] for e in infer_events if e["type"] == "artifact"}
    assert artifacts == result["outputs"]
    assert any(e["type"] == "artifact" and e["kind"] == "model" for e in events)
    fractions = [e["value"] for e in infer_events if e["type"] == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_infer_refuses_a_different_architecture(run_job, two_phase) -> None:
    summary, _ = run_job("msdnet", "train", {**TINY, "epochs": 1}, two_phase["inputs"])
    inputs = {**two_phase["inputs"], "model_uri": summary["model"]["weights_uri"]}
    with pytest.raises(ParameterError) as error:
        run_job("msdnet", "infer", {"layers": 9, "device": "cpu"}, inputs, job_id="inf")
    assert error.value.field == "layers"
    with pytest.raises(ParameterError) as error:
        run_job("msdnet", "infer", {"dimensions": 3, "device": "cpu"}, inputs, job_id="inf")
    assert error.value.field == "dimensions"


def test_missing_or_mismatched_inputs_are_named(run_job, two_phase, tmp_path) -> None:
    with pytest.raises(InputDataError) as error:
        run_job("msdnet", "infer", TINY, two_phase["inputs"])
    assert error.value.field == "model_uri"
    np.save(tmp_path / "small_labels.npy", two_phase["labels"][:, :50])
    inputs = {**two_phase["inputs"], "labels_uri": str(tmp_path / "small_labels.npy")}
    with pytest.raises(InputDataError) as error:
        run_job("msdnet", "train", TINY, inputs)
    assert error.value.field == "labels_uri"


def test_train_and_infer_3d_volume(run_job, tmp_path) -> None:
    rng = np.random.default_rng(0)
    zz, yy, xx = np.mgrid[:20, :24, :24]
    truth = ((zz - 10) ** 2 + (yy - 12) ** 2 + (xx - 12) ** 2 <= 36).astype(np.uint8)
    volume = (truth + 0.2 * rng.normal(size=truth.shape)).astype(np.float32)
    labels = np.full(truth.shape, 255, dtype=np.uint8)
    labels[10, 12, 8:16] = 1
    labels[2, :, :] = 0
    np.save(tmp_path / "volume.npy", volume)
    np.save(tmp_path / "vlabels.npy", labels)
    inputs = {"data_uri": str(tmp_path / "volume.npy"), "labels_uri": str(tmp_path / "vlabels.npy")}
    params = {**TINY, "dimensions": 3, "window": 16, "step": 8, "border": 2}
    summary, _ = run_job("msdnet", "train", params, inputs)
    result, _ = run_job(
        "msdnet",
        "infer",
        {"device": "cpu", "output_probabilities": False},
        {**inputs, "model_uri": summary["model"]["weights_uri"]},
        job_id="inf3d",
    )
    assert set(result["outputs"]) == {"mask"}
    assert np.load(result["outputs"]["mask"]).shape == (20, 24, 24)


def test_smsnet_ensemble_writes_uncertainty_and_conformal_sets(run_job, two_phase) -> None:
    from algorithms.networks import list_models

    if "smsnet" not in list_models():
        pytest.skip("the zoo has no SMSNet yet")
    params = {
        "members": 2,
        "depth": 3,
        "channels": 2,
        "epochs": 1,
        "batch_size": 8,
        "window": 48,
        "step": 48,
        "device": "cpu",
        "conformal_coverage": 0.9,
    }
    summary, events = run_job("smsnet_ensemble", "train", params, two_phase["inputs"])
    assert {e["step"] for e in events if e["type"] == "metric"} == {"member_0", "member_1"}
    assert 0 <= summary["model"]["metrics"]["conformal_threshold"] <= 1
    inputs = {**two_phase["inputs"], "model_uri": summary["model"]["weights_uri"]}
    result, _ = run_job("smsnet_ensemble", "infer", {"device": "cpu"}, inputs, job_id="ens")
    assert {"mask", "probabilities", "uncertainty", "prediction_sets"} <= set(result["outputs"])
    uncertainty = np.load(result["outputs"]["uncertainty"])
    sets = np.load(result["outputs"]["prediction_sets"])
    mask = np.load(result["outputs"]["mask"])
    assert uncertainty.shape == (8, 96, 96) and np.all(uncertainty >= 0)
    # The most likely class is always in the set.
    assert np.all((sets >> mask) & 1)


@pytest.mark.parametrize("name", ["tunet", "tunet3plus"])
def test_unets_train_and_infer(run_job, two_phase, name: str) -> None:
    params = {
        "depth": 2,
        "base_channels": 4,
        "epochs": 1,
        "window": 32,
        "step": 32,
        "border": 2,
        "batch_size": 8,
        "device": "cpu",
    }
    summary, _ = run_job(name, "train", params, two_phase["inputs"])
    inputs = {**two_phase["inputs"], "model_uri": summary["model"]["weights_uri"]}
    result, _ = run_job(name, "infer", {"device": "cpu"}, inputs, job_id="inf")
    assert np.load(result["outputs"]["mask"]).shape == (8, 96, 96)
