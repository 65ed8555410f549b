"""`python -m algorithms`: list, schema, and the error paths of run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from algorithms.__main__ import main
from algorithms.registry import list_algorithms


def test_list_prints_every_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert names == [info.name for info in list_algorithms()]
    assert len(names) == 14


def test_list_filters_by_application(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--application", "clustering"]) == 0
    names = {line.split("\t")[0] for line in capsys.readouterr().out.splitlines()}
    assert names == {"kmeans_clustering", "dbscan", "hdbscan"}


def test_schema_carries_defaults_and_ui_hints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "msdnet"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["layers"]["ui"]["group"] == "architecture"
    assert "default" in schema["properties"]["layers"]


def test_schema_of_unknown_algorithm_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown algorithm: nope" in err


def run_entry_point(tmp_path: Path, name: str, spec: dict | None) -> tuple[int, list[dict]]:
    spec_path = tmp_path / "spec.json"
    if spec is not None:
        spec_path.write_text(json.dumps(spec))
    done = subprocess.run(
        [sys.executable, "-m", "algorithms", "run", name, "run", "--spec", str(spec_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_run_errors_are_events_with_exit_2(tmp_path: Path) -> None:
    code, events = run_entry_point(tmp_path, "kmeans", None)
    assert code == 2 and events[-1]["type"] == "error" and events[-1]["field"] == "spec"

    outputs = {"results_uri": str(tmp_path / "results")}
    code, events = run_entry_point(
        tmp_path,
        "kmeans",
        {"algorithm": "kmeans", "step": "run", "outputs": outputs, "parameters": {"n_clusters": 1}},
    )
    assert code == 2 and events[-1]["field"] == "n_clusters"

    code, events = run_entry_point(
        tmp_path, "nope", {"algorithm": "nope", "step": "run", "outputs": outputs}
    )
    assert code == 2 and events[-1]["field"] == "algorithm"
    assert all(event["type"] != "result" for event in events)
