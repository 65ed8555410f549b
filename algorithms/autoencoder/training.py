"""Prepare images, train the autoencoder (MSE), reconstruct and encode; save and load it."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from algorithms.autoencoder.cards import ARCHITECTURE_FIELDS, AutoencoderJobParameters
from algorithms.errors import InputDataError, ParameterError
from algorithms.events import EventEmitter
from algorithms.networks import create_model, load_model, save_model
from algorithms.training.engine import build_optimizer, resolve_device, set_seed

MODEL_FILE = "autoencoder.pt"
META_FILE = "autoencoder.json"


def scale_intensity(image: np.ndarray, mode: str) -> np.ndarray:
    """One image's values mapped to about 0..1: ``per_image`` min..max, ``percentile`` 1..99th
    percentiles (clipped), ``none`` unchanged. Constant images become zeros."""
    values = np.nan_to_num(np.asarray(image, dtype=np.float32))
    if mode == "none":
        return values
    if mode == "per_image":
        low, high = float(values.min()), float(values.max())
    elif mode == "percentile":
        low, high = (float(v) for v in np.percentile(values, (1.0, 99.0)))
    else:
        raise ParameterError("intensity_scaling", f"unknown scaling {mode!r}")
    if high <= low:
        return np.zeros_like(values)
    scaled = (values - low) / (high - low)
    return np.clip(scaled, 0.0, 1.0) if mode == "percentile" else scaled


def _channels_first(image: np.ndarray, in_channels: int) -> np.ndarray:
    """(Y,X) or (Y,X,C) as (in_channels, Y, X): RGB(A) averaged to gray, gray repeated."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise InputDataError(f"cannot encode an item of shape {array.shape}", "data_uri")
    channels = array.shape[-1]
    if channels == 4:
        array, channels = array[..., :3], 3
    if channels != in_channels:
        if in_channels == 1:
            array = array.astype(np.float32).mean(axis=-1, keepdims=True)
        elif channels == 1:
            array = np.repeat(array, in_channels, axis=-1)
        else:
            raise ParameterError(
                "in_channels", f"the images have {channels} channels, the network {in_channels}"
            )
    return np.moveaxis(array, -1, 0)


def prepare_images(
    images: Iterable[np.ndarray], params: AutoencoderJobParameters
) -> torch.Tensor:
    """Raw images to a float32 (N, in_channels, input_size, input_size) tensor for the network."""
    size = params.input_size
    prepared = []
    for image in images:
        channels = _channels_first(image, params.in_channels)
        scaled = np.stack([scale_intensity(c, params.intensity_scaling) for c in channels])
        tensor = torch.from_numpy(scaled)[None]
        if tensor.shape[-2:] != (size, size):
            tensor = F.interpolate(tensor, size=(size, size), mode="bilinear", antialias=True)
        prepared.append(tensor)
    if not prepared:
        return torch.zeros((0, params.in_channels, size, size))
    return torch.cat(prepared).float()


def per_image_pearson(reconstruction: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
    """Pearson correlation of each reconstruction with its reference image ((N,) array)."""
    a = reconstruction.detach().flatten(1).double()
    b = reference.detach().flatten(1).double()
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    denominator = (a.square().sum(1) * b.square().sum(1)).sqrt()
    values = (a * b).sum(1) / denominator
    return torch.where(denominator > 0, values, torch.nan).cpu().numpy()


@torch.no_grad()
def reconstruct_and_encode(
    model: torch.nn.Module, images: torch.Tensor, batch_size: int = 64
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstructions (like ``images``) and latent vectors (N, latent_dim), on the CPU."""
    device = next(model.parameters()).device
    model.eval()
    reconstructions, latents = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        reconstructions.append(model(batch).float().cpu())
        latents.append(model.encode(batch).float().flatten(1).cpu())
    if not reconstructions:
        return images.clone(), torch.zeros((0, 0))
    return torch.cat(reconstructions), torch.cat(latents)


def _flip(batch: torch.Tensor, params: AutoencoderJobParameters, generator: torch.Generator):
    if params.horizontal_flip and torch.rand((), generator=generator).item() < 0.5:
        batch = batch.flip(-1)
    if params.vertical_flip and torch.rand((), generator=generator).item() < 0.5:
        batch = batch.flip(-2)
    return batch


def train_autoencoder(
    images: torch.Tensor,
    params: AutoencoderJobParameters,
    events: EventEmitter | None = None,
    progress_share: float = 0.8,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[torch.nn.Module, list[dict[str, float]]]:
    """Train on prepared images (see :func:`prepare_images`) with a mean-square-error loss.

    Each epoch sends a metric event with ``train_loss``, ``val_loss`` and ``val_pearson`` (mean
    per-image Pearson correlation of validation reconstructions). The returned model holds the
    weights of the epoch with the lowest validation loss (training loss without validation).
    """
    events = events or EventEmitter()
    if len(images) == 0:
        raise InputDataError("no images to train on", "data_uri")
    set_seed(params.seed)
    device = resolve_device(params.device)
    model = create_model("autoencoder", params.network_parameters()).to(device)
    optimizer = build_optimizer(
        params.optimizer, model.parameters(), params.learning_rate, params.weight_decay
    )
    generator = torch.Generator().manual_seed(params.seed)
    order = torch.randperm(len(images), generator=generator)
    held_out = int(round(len(images) * params.val_fraction)) if len(images) > 1 else 0
    held_out = min(max(held_out, 1 if params.val_fraction > 0 else 0), len(images) - 1)
    validation, train = images[order[:held_out]], images[order[held_out:]]
    history: list[dict[str, float]] = []
    best_loss, best_state = float("inf"), None
    for epoch in range(1, params.epochs + 1):
        started = time.perf_counter()
        model.train()
        total, seen = 0.0, 0
        for batch_index in torch.randperm(len(train), generator=generator).split(params.batch_size):
            if len(batch_index) < 2 and len(train) > 1 and params.normalization == "batch":
                continue  # batch norm cannot train on a single image
            batch = _flip(train[batch_index], params, generator).to(device)
            loss = F.mse_loss(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
            seen += len(batch)
        record = {"train_loss": total / max(seen, 1)}
        if len(validation):
            reconstruction, _ = reconstruct_and_encode(model, validation, params.batch_size)
            record["val_loss"] = float(F.mse_loss(reconstruction, validation))
            record["val_pearson"] = float(np.nanmean(per_image_pearson(reconstruction, validation)))
        record["seconds"] = time.perf_counter() - started
        history.append(record)
        events.metric(epoch, record, step="train")
        events.progress(progress_share * epoch / params.epochs, f"epoch {epoch}")
        watched = record.get("val_loss", record["train_loss"])
        if watched < best_loss:
            best_loss, best_state = watched, copy.deepcopy(model.state_dict())
        if should_stop is not None and should_stop():
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval(), history


def save_autoencoder(
    model: torch.nn.Module,
    model_dir: str | Path,
    params: AutoencoderJobParameters,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Write ``autoencoder.pt`` (zoo network file) and ``autoencoder.json`` into a folder."""
    folder = Path(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "algorithm": "autoencoder",
        "framework": "pytorch",
        "network": params.network_parameters(),
        "parameters": params.model_dump(),
        "metrics": metrics or {},
    }
    save_model(folder / MODEL_FILE, model, "autoencoder", params.network_parameters(), extra=meta)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))
    return folder


def load_autoencoder(model_uri: str | Path, device: str = "auto") -> tuple[torch.nn.Module, dict]:
    """Read an autoencoder saved by :func:`save_autoencoder` (its folder or its ``.pt`` file).

    Returns the model (eval mode, on ``device``) and its metadata; ``meta["network"]`` holds
    the architecture parameters it was built with.
    """
    path = Path(model_uri)
    weights = path if path.suffix == ".pt" else path / MODEL_FILE
    if not weights.is_file():
        raise InputDataError(f"no trained autoencoder at {model_uri}", "model_uri")
    model, name, network, extra = load_model(weights)
    if name != "autoencoder":
        raise InputDataError(f"{weights} holds a {name} network, not an autoencoder", "model_uri")
    meta = dict(extra)
    meta["network"] = network.model_dump()
    return model.to(resolve_device(device)).eval(), meta


def check_architecture(params: AutoencoderJobParameters, saved: dict[str, Any]) -> None:
    """Raise ParameterError naming the first architecture field that differs from the model."""
    for name in ARCHITECTURE_FIELDS:
        ours = getattr(params, name)
        if name in saved and saved[name] != ours:
            raise ParameterError(
                name, f"the model was trained with {name}={saved[name]!r}, not {ours!r}"
            )
