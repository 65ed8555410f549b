"""Turn a claimed job into the ``algorithms.spec.JobSpec`` its run reads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from algorithms.spec import JobInputs, JobOutputs, JobSpec
from services.common.client import BaseClient
from services.compute.schemas import JobPublic
from workers.settings import WorkerSettings


class InputError(ValueError):
    """A job's inputs could not be resolved (unknown model, unreachable Splash ML, ...)."""


def results_location(base: str, job_id: str) -> str:
    """Where a job's results go: ``<results container or folder>/<job id>``."""
    if "://" in base:
        return f"{base.rstrip('/')}/{job_id}"
    return os.path.join(base, job_id)


def build_spec(
    job: JobPublic,
    settings: WorkerSettings,
    work_dir: Path,
    content: BaseClient | None = None,
    labels: BaseClient | None = None,
) -> JobSpec:
    """The spec of one run: parameters, resolved inputs, and where outputs go."""
    given = job.inputs
    tiled_key = settings.tiled_api_key.get_secret_value() if settings.tiled_api_key else None
    inputs: dict[str, Any] = {
        "data_uri": given.data_uri,
        "labels_uri": given.labels_uri,
        "model_uri": given.model_uri,
        "extra": dict(given.extra),
        "tiled_api_key": tiled_key,
    }
    if given.model_id:
        model = _model(content, given.model_id)
        inputs["model_uri"] = inputs["model_uri"] or model.get("weights_uri")
        inputs["model_parameters"] = model.get("parameters") or None
    if given.dataset_id or given.tagging_event_id:
        dataset_uri, item_labels = _labels(labels, given.dataset_id, given.tagging_event_id)
        inputs["data_uri"] = inputs["data_uri"] or dataset_uri
        if item_labels["items"]:
            inputs["labels"] = item_labels
    model_dir = settings.model_dir(job.id) if job.step == "train" else None
    return JobSpec(
        job_id=job.id,
        algorithm=job.algorithm,
        version=job.version,
        step=job.step,
        parameters=job.parameters,
        inputs=JobInputs(**inputs),
        outputs=JobOutputs(
            results_uri=settings.resolved_results_uri(),
            model_dir=str(model_dir) if model_dir else None,
            tiled_api_key=tiled_key,
        ),
        work_dir=str(work_dir),
    )


def _model(content: BaseClient | None, model_id: str) -> dict[str, Any]:
    if content is None:
        raise InputError(f"model {model_id} named, but no MLExContent to ask")
    try:
        return dict(content.get_json(f"/models/{model_id}"))
    except Exception as error:
        raise InputError(f"could not read model {model_id} from MLExContent: {error}") from error


def _labels(
    labels: BaseClient | None, dataset_id: str | None, event_id: str | None
) -> tuple[str | None, dict[str, Any]]:
    """A Splash ML data set's URI and its current labels as ``{classes, items}``."""
    if labels is None:
        raise InputError("labels named, but no Splash ML to ask")
    if not dataset_id:
        raise InputError("a tagging event needs its data set: set inputs.dataset_id")
    try:
        dataset = labels.get_json(f"/datasets/{dataset_id}")
        params = {"event": event_id} if event_id else {}
        items: dict[str, str] = {}
        classes: list[str] = []
        offset = 0
        while True:
            page = labels.get_json(
                f"/datasets/{dataset_id}/labels",
                params={**params, "offset": offset, "limit": 1000},
            )
            classes = sorted(page.get("counts", {}))
            for entry in page["items"]:
                if entry.get("labels"):
                    items[str(entry["item"])] = entry["labels"][0]["label"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
    except Exception as error:
        raise InputError(f"could not read labels of data set {dataset_id}: {error}") from error
    return dataset.get("uri"), {"classes": classes, "items": items}
