"""What every runner checks first: that its data set exists and is not empty, and where to save."""

from __future__ import annotations

from typing import Any

from algorithms.errors import InputDataError, ParameterError
from algorithms.spec import JobSpec


def open_input_dataset(spec: JobSpec) -> Any:
    """The job's data set (``inputs.data_uri``), refusing a missing URI or an empty data set."""
    from algorithms.data import open_dataset

    if not spec.inputs.data_uri:
        raise InputDataError("no data set given (inputs.data_uri)", "data_uri")
    dataset = open_dataset(spec.inputs.data_uri, api_key=spec.inputs.tiled_api_key)
    if len(dataset) == 0:
        raise InputDataError(f"the data set {spec.inputs.data_uri} is empty", "data_uri")
    return dataset


def require_model_dir(spec: JobSpec) -> str:
    """The folder a train step saves its model into."""
    if not spec.outputs.model_dir:
        raise ParameterError("model_dir", "the train step needs outputs.model_dir")
    return spec.outputs.model_dir
