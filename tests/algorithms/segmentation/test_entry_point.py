"""The network cards through the real entry point: ``python -m algorithms run NAME STEP``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parents[3]


def _run(name: str, step: str, spec: dict, tmp_path: Path) -> tuple[int, list[dict]]:
    path = tmp_path / f"{step}.json"
    path.write_text(json.dumps(spec))
    completed = subprocess.run(
        [sys.executable, "-m", "algorithms", "run", name, step, "--spec", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    events = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    return completed.returncode, events


@pytest.mark.slow
def test_msdnet_train_and_infer_through_the_entry_point(tmp_path, two_phase) -> None:
    outputs = {"results_uri": str(tmp_path / "results"), "model_dir": str(tmp_path / "model")}
    parameters = {"layers": 4, "epochs": 2, "window": 48, "step": 48, "device": "cpu"}
    spec = {
        "job_id": "train1",
        "algorithm": "msdnet",
        "step": "train",
        "parameters": parameters,
        "inputs": two_phase["inputs"],
        "outputs": outputs,
    }
    code, events = _run("msdnet", "train", spec, tmp_path)
    assert code == 0, events
    result = events[-1]
    assert result["type"] == "result"
    assert result["model"]["framework"] == "pytorch"
    assert [e["epoch"] for e in events if e["type"] == "metric"] == [1, 2]

    infer = {
        **spec,
        "job_id": "infer1",
        "step": "infer",
        "parameters": {"device": "cpu"},
        "inputs": {**two_phase["inputs"], "model_uri": result["model"]["weights_uri"]},
    }
    code, events = _run("msdnet", "infer", infer, tmp_path)
    assert code == 0, events
    mask = np.load(events[-1]["outputs"]["mask"])
    assert mask.shape == (8, 96, 96)

    infer["parameters"] = {"layers": 7}
    code, events = _run("msdnet", "infer", infer, tmp_path)
    assert code == 2
    assert events[-1]["type"] == "error" and events[-1]["field"] == "layers"

    spec["parameters"] = {"border": 40, "window": 64}
    code, events = _run("msdnet", "train", {**spec, "job_id": "bad"}, tmp_path)
    assert code == 2 and events[-1]["field"] == "border"
