"""A trained segmentation model on disk: one zoo network file per member plus a manifest."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel
from torch import nn

from algorithms.errors import InputDataError
from algorithms.networks import load_model, save_model

MANIFEST = "manifest.json"
FORMAT = "mlex-segmentation/1"


@dataclass
class Bundle:
    """Loaded members and what they were trained with (``info`` is the manifest)."""

    models: list[nn.Module]
    info: dict[str, Any]
    path: Path

    @property
    def parameters(self) -> dict[str, Any]:
        return self.info["parameters"]


def save_bundle(
    model_dir: str | Path,
    zoo_name: str,
    members: list[tuple[nn.Module, BaseModel]],
    info: dict[str, Any],
) -> Path:
    """Save each member with the zoo and write ``manifest.json``; returns the folder."""
    folder = Path(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, (model, member_params) in enumerate(members):
        name = f"member_{index:02d}.pt"
        save_model(folder / name, model, zoo_name, member_params, extra={"member": index})
        files.append(name)
    manifest = {"format": FORMAT, "network": zoo_name, "members": files, **info}
    (folder / MANIFEST).write_text(json.dumps(_json_safe(manifest), indent=2, allow_nan=False))
    return folder


def _json_safe(value: Any) -> Any:
    """NaN/inf (e.g. F1 of a class never seen) become None so the manifest is strict JSON."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def load_bundle(model_uri: str, device: torch.device | str = "cpu") -> Bundle:
    """Load a folder written by :func:`save_bundle` (or the manifest file itself)."""
    path = Path(model_uri.removeprefix("file://"))
    folder = path.parent if path.name == MANIFEST else path
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise InputDataError(f"no trained segmentation model at {model_uri}", field="model_uri")
    try:
        info = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise InputDataError(f"unreadable model manifest {manifest_path}: {error}") from error
    if info.get("format") != FORMAT:
        raise InputDataError(f"{manifest_path} is not an MLEx segmentation model", "model_uri")
    models = []
    for name in info["members"]:
        model, _, _, _ = load_model(folder / name, map_location=device)
        models.append(model.to(device).eval())
    return Bundle(models=models, info=info, path=folder)
