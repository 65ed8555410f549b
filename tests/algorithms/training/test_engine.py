"""The training engine learns, stops early, checkpoints and resumes, and picks its device."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from algorithms.errors import ParameterError
from algorithms.training.engine import (
    EpochReport,
    build_scheduler,
    resolve_device,
    train_segmentation,
)
from algorithms.training.params import TrainingParameters


def _toy_windows(seed: int = 0, n: int = 8, size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Bright pixels are class 1, dark class 0; half the pixels unlabeled."""
    rng = np.random.default_rng(seed)
    truth = (rng.random((n, size, size)) > 0.7).astype(np.int64)
    images = (truth + 0.3 * rng.normal(size=truth.shape)).astype(np.float32)[:, None]
    labels = np.where(rng.random(truth.shape) < 0.5, truth, -1)
    return images, labels


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))


def _params(**kw) -> TrainingParameters:
    base = {"epochs": 6, "batch_size": 4, "learning_rate": 0.05, "device": "cpu", "seed": 1}
    return TrainingParameters(**{**base, **kw})


def test_defaults_are_valid_and_follow_the_papers() -> None:
    params = TrainingParameters()
    assert params.optimizer == "adam" and params.learning_rate == 0.01
    assert params.batch_size == 16 and params.loss == "cross_entropy"


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop"])
def test_training_learns_and_reports_every_epoch(optimizer: str) -> None:
    images, labels = _toy_windows()
    reports: list[EpochReport] = []
    model = _model()
    result = train_segmentation(
        model,
        (images, labels),
        _params(optimizer=optimizer, grad_clip=1.0),
        n_classes=2,
        validation=_toy_windows(seed=1),
        on_epoch=reports.append,
    )
    assert [r.epoch for r in reports] == list(range(1, 7))
    assert reports[-1].train_loss < reports[0].train_loss
    assert result.best_metrics["val_f1_macro"] > 0.8
    assert {"train_loss", "val_loss", "val_accuracy", "train_f1_macro"} <= set(reports[0].metrics)
    assert result.device == "cpu" and not result.mixed_precision


def test_early_stopping_keeps_the_best_weights() -> None:
    images, labels = _toy_windows()
    model = _model()
    # An absurd learning rate makes the validation loss stall or blow up after the start.
    result = train_segmentation(
        model,
        (images, labels),
        _params(epochs=40, learning_rate=1.0, optimizer="sgd", early_stopping_patience=2),
        n_classes=2,
        validation=_toy_windows(seed=1),
    )
    assert result.stopped_early
    assert len(result.history) == result.best_epoch + 2
    best = result.history[result.best_epoch - 1].val_loss
    assert best == min(r.val_loss for r in result.history)


def test_checkpoint_resume_matches_an_uninterrupted_run(tmp_path) -> None:
    images, labels = _toy_windows()
    straight = _model()
    train_segmentation(straight, (images, labels), _params(epochs=4), n_classes=2)

    resumed = _model()
    checkpoint = tmp_path / "checkpoint.pt"
    first = train_segmentation(
        resumed, (images, labels), _params(epochs=2), n_classes=2, checkpoint_path=checkpoint
    )
    assert checkpoint.exists() and len(first.history) == 2
    fresh = _model(seed=99)  # a new process would start from other weights
    second = train_segmentation(
        fresh, (images, labels), _params(epochs=4), n_classes=2, checkpoint_path=checkpoint
    )
    assert [r.epoch for r in second.history] == [1, 2, 3, 4]
    for a, b in zip(straight.state_dict().values(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_schedulers_change_the_learning_rate() -> None:
    images, labels = _toy_windows()
    for name in ("step", "cosine"):
        reports: list[EpochReport] = []
        train_segmentation(
            _model(), (images, labels), _params(scheduler=name), 2, on_epoch=reports.append
        )
        assert reports[-1].learning_rate < reports[0].learning_rate
    optimizer = torch.optim.SGD(_model().parameters(), lr=0.1)
    assert build_scheduler("plateau", optimizer, 5) is not None
    assert build_scheduler("none", optimizer, 5) is None


def test_device_choice() -> None:
    assert resolve_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError) as error:
            resolve_device("cuda")
        assert error.value.field == "device"


def test_no_labels_is_a_parameter_error() -> None:
    images, labels = _toy_windows()
    with pytest.raises(ParameterError) as error:
        train_segmentation(_model(), (images, np.full_like(labels, -1)), _params(), 2)
    assert error.value.field == "labels"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_mixed_precision_on_cuda() -> None:
    images, labels = _toy_windows()
    result = train_segmentation(
        _model(), (images, labels), _params(device="cuda", mixed_precision=True), 2
    )
    assert result.mixed_precision and result.device.startswith("cuda")
