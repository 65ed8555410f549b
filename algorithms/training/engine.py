"""The training loop for segmentation networks.

Optimizers Adam/AdamW/SGD/RMSprop, step/cosine/plateau schedules, gradient clipping, early
stopping that keeps the best weights, mixed precision on CUDA, a checkpoint after every epoch
(resumed from when present), seeds, and a callback with each epoch's loss and metrics.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED
from algorithms.training.losses import build_loss, class_weights_from_labels
from algorithms.training.metrics import confusion_matrix, scores_from_confusion
from algorithms.training.params import TrainingParameters


@dataclass
class EpochReport:
    """What one epoch achieved (``epoch`` counts from 1)."""

    epoch: int
    epochs: int
    train_loss: float
    val_loss: float | None
    metrics: dict[str, float]
    learning_rate: float
    seconds: float


@dataclass
class TrainingResult:
    """The outcome of :func:`train_segmentation`; the model holds the best weights."""

    history: list[EpochReport] = field(default_factory=list)
    best_epoch: int = 0
    best_metrics: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False
    device: str = "cpu"
    mixed_precision: bool = False


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a ParameterError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ParameterError("device", "cuda was requested but no GPU is available")
    if device not in ("cpu", "cuda"):
        raise ParameterError("device", f"unknown device {device!r}")
    return torch.device(device)


def set_seed(seed: int) -> None:
    """Seed torch (CPU and CUDA) and numpy's global generator."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def build_optimizer(
    name: str, parameters: Any, learning_rate: float, weight_decay: float
) -> torch.optim.Optimizer:
    """The optimizer called ``name``."""
    if name == "adam":
        return torch.optim.Adam(parameters, lr=learning_rate, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(
            parameters, lr=learning_rate, momentum=0.9, weight_decay=weight_decay
        )
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=learning_rate, weight_decay=weight_decay)
    raise ParameterError("optimizer", f"unknown optimizer {name!r}")


def build_scheduler(name: str, optimizer: torch.optim.Optimizer, epochs: int) -> Any:
    """The learning-rate schedule called ``name`` (None for ``none``)."""
    if name == "none":
        return None
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    if name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
    raise ParameterError("scheduler", f"unknown scheduler {name!r}")


def _as_tensor(array: Any, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(array, torch.Tensor):
        return array.to(dtype)
    return torch.from_numpy(np.ascontiguousarray(array)).to(dtype)


def _flip(inputs: torch.Tensor, targets: torch.Tensor, generator: torch.Generator) -> tuple:
    """Random flips along each spatial axis (the same for the whole batch)."""
    spatial = inputs.ndim - 2
    for axis in range(spatial):
        if torch.rand((), generator=generator).item() < 0.5:
            inputs = inputs.flip(2 + axis)
            targets = targets.flip(1 + axis)
    return inputs, targets


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)  # a crash mid-write never leaves a broken checkpoint


def train_segmentation(
    model: nn.Module,
    train: tuple[Any, Any],
    params: TrainingParameters,
    n_classes: int,
    validation: tuple[Any, Any] | None = None,
    checkpoint_path: str | Path | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    augment: bool = True,
    loss: nn.Module | None = None,
) -> TrainingResult:
    """Train ``model`` on windows and sparse labels; leave it holding the best weights.

    Args:
        train: inputs (M, C, *window) float and targets (M, *window) int, -1 unlabeled.
        validation: the same for held-out labels (often the same windows, other pixels).
        checkpoint_path: saved after every epoch; when the file exists training resumes there.
        on_epoch: receives an :class:`EpochReport` after every epoch.
        loss: overrides the loss named in ``params``.
    """
    device = resolve_device(params.device)
    set_seed(params.seed)
    use_amp = bool(params.mixed_precision and device.type == "cuda")
    inputs = _as_tensor(train[0], torch.float32)
    targets = _as_tensor(train[1], torch.long)
    if inputs.shape[0] == 0 or not torch.any(targets != UNLABELED):
        raise ParameterError("labels", "there are no labeled pixels to train on")
    if inputs.shape[0] != targets.shape[0]:
        raise ParameterError("labels", "inputs and targets hold a different number of windows")
    if int(targets.max()) >= n_classes:
        raise ParameterError("labels", f"label {int(targets.max())} >= number of classes")
    val_inputs = val_targets = None
    if validation is not None and torch.any(_as_tensor(validation[1], torch.long) != UNLABELED):
        val_inputs = _as_tensor(validation[0], torch.float32)
        val_targets = _as_tensor(validation[1], torch.long)

    weights = None
    if params.class_weighting == "balanced":
        weights = class_weights_from_labels(targets, n_classes)
    criterion = (loss or build_loss(params.loss, class_weights=weights)).to(device)
    model.to(device)
    optimizer = build_optimizer(
        params.optimizer, model.parameters(), params.learning_rate, params.weight_decay
    )
    scheduler = build_scheduler(params.scheduler, optimizer, params.epochs)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    shuffler = torch.Generator().manual_seed(params.seed)

    result = TrainingResult(device=str(device), mixed_precision=use_amp)
    best_score = math.inf
    best_state = copy.deepcopy(model.state_dict())
    stale_epochs = 0
    start_epoch = 0
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    if path is not None and path.exists():
        saved = torch.load(path, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None and saved.get("scheduler") is not None:
            scheduler.load_state_dict(saved["scheduler"])
        scaler.load_state_dict(saved["scaler"])
        shuffler.set_state(saved["shuffler"])
        torch.set_rng_state(saved["torch_rng"])
        best_state, best_score = saved["best_state"], saved["best_score"]
        stale_epochs, start_epoch = saved["stale_epochs"], saved["epoch"]
        result.history = [EpochReport(**report) for report in saved["history"]]
        result.best_epoch, result.best_metrics = saved["best_epoch"], saved["best_metrics"]

    batch = params.batch_size
    for epoch in range(start_epoch, params.epochs):
        began = time.perf_counter()
        model.train()
        order = torch.randperm(inputs.shape[0], generator=shuffler)
        total_loss, total_pixels = 0.0, 0
        confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            x, y = inputs[rows], targets[rows]
            if augment:
                x, y = _flip(x, y, shuffler)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            labeled = int((y != UNLABELED).sum())
            if labeled == 0:
                continue
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                logits = model(x)
                batch_loss = criterion(logits.float(), y)
            scaler.scale(batch_loss).backward()
            if params.grad_clip > 0:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), params.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            total_loss += float(batch_loss.detach()) * labeled
            total_pixels += labeled
            confusion += confusion_matrix(logits.detach().argmax(1), y, n_classes)
        train_loss = total_loss / max(total_pixels, 1)
        metrics = {f"train_{k}": v for k, v in _summary(confusion).items()}
        metrics["train_loss"] = train_loss
        val_loss = None
        if val_inputs is not None:
            val_loss, val_confusion = evaluate(
                model, criterion, val_inputs, val_targets, n_classes, batch, device, use_amp
            )
            metrics.update({f"val_{k}": v for k, v in _summary(val_confusion).items()})
            metrics["val_loss"] = val_loss
        monitored = val_loss if val_loss is not None else train_loss
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(monitored)
            else:
                scheduler.step()
        if monitored < best_score:
            best_score = monitored
            best_state = copy.deepcopy(model.state_dict())
            result.best_epoch, result.best_metrics = epoch + 1, dict(metrics)
            stale_epochs = 0
        else:
            stale_epochs += 1
        report = EpochReport(
            epoch=epoch + 1,
            epochs=params.epochs,
            train_loss=train_loss,
            val_loss=val_loss,
            metrics=metrics,
            learning_rate=float(optimizer.param_groups[0]["lr"]),
            seconds=time.perf_counter() - began,
        )
        result.history.append(report)
        if path is not None:
            _save_checkpoint(
                path,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "scaler": scaler.state_dict(),
                    "shuffler": shuffler.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "best_state": best_state,
                    "best_score": best_score,
                    "stale_epochs": stale_epochs,
                    "epoch": epoch + 1,
                    "history": [vars(item) for item in result.history],
                    "best_epoch": result.best_epoch,
                    "best_metrics": result.best_metrics,
                },
            )
        if on_epoch is not None:
            on_epoch(report)
        if params.early_stopping_patience and stale_epochs >= params.early_stopping_patience:
            result.stopped_early = True
            break
    model.load_state_dict(best_state)
    return result


def _summary(confusion: np.ndarray) -> dict[str, float]:
    scores = scores_from_confusion(confusion)
    return {k: scores[k] for k in ("accuracy", "f1_macro", "iou_macro")}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    criterion: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    n_classes: int,
    batch_size: int,
    device: torch.device,
    use_amp: bool = False,
) -> tuple[float, np.ndarray]:
    """Mean loss per labeled pixel and the confusion matrix over labeled pixels."""
    model.eval()
    total_loss, total_pixels = 0.0, 0
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    for start in range(0, inputs.shape[0], batch_size):
        y = targets[start : start + batch_size].to(device)
        labeled = int((y != UNLABELED).sum())
        if labeled == 0:
            continue
        x = inputs[start : start + batch_size].to(device)
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
            logits = model(x).float()
        total_loss += float(criterion(logits, y)) * labeled
        total_pixels += labeled
        confusion += confusion_matrix(logits.argmax(1), y, n_classes)
    return total_loss / max(total_pixels, 1), confusion
