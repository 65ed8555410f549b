"""Segmentation and reconstruction metrics: pure numpy functions ignoring unlabeled pixels."""

from __future__ import annotations

from typing import Any

import numpy as np

from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED


def _numpy(array: Any) -> np.ndarray:
    if type(array).__module__.startswith("torch"):
        return array.detach().cpu().numpy()
    return np.asarray(array)


def confusion_matrix(
    predicted: Any, target: Any, n_classes: int, ignore_index: int = UNLABELED
) -> np.ndarray:
    """(K, K) counts, rows = true class, columns = predicted class, labeled pixels only."""
    predicted = _numpy(predicted).reshape(-1)
    target = _numpy(target).reshape(-1)
    if predicted.shape != target.shape:
        raise ParameterError("labels", "prediction and labels have different sizes")
    keep = target != ignore_index
    true = target[keep].astype(np.int64)
    guess = predicted[keep].astype(np.int64)
    if true.size and (true.min() < 0 or true.max() >= n_classes):
        raise ParameterError("labels", f"label values must be in 0..{n_classes - 1} or unlabeled")
    guess = np.clip(guess, 0, n_classes - 1)
    return np.bincount(true * n_classes + guess, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def scores_from_confusion(confusion: np.ndarray) -> dict[str, Any]:
    """Per-class and macro F1 and IoU, and accuracy, from a confusion matrix.

    Classes absent from both labels and predictions are left out of the macro averages.
    """
    confusion = confusion.astype(np.float64)
    true_positive = np.diag(confusion)
    labeled = confusion.sum(1)
    predicted = confusion.sum(0)
    union = labeled + predicted - true_positive
    present = union > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(present, 2 * true_positive / (labeled + predicted), np.nan)
        iou = np.where(present, true_positive / union, np.nan)
    total = confusion.sum()
    return {
        "accuracy": float(true_positive.sum() / total) if total else float("nan"),
        "f1_macro": float(np.nanmean(f1)) if present.any() else float("nan"),
        "iou_macro": float(np.nanmean(iou)) if present.any() else float("nan"),
        "f1_per_class": [float(v) for v in f1],
        "iou_per_class": [float(v) for v in iou],
        "labeled_pixels": int(total),
    }


def segmentation_scores(
    predicted: Any, target: Any, n_classes: int, ignore_index: int = UNLABELED
) -> dict[str, Any]:
    """Accuracy, macro and per-class F1 and IoU of a predicted class map against labels."""
    return scores_from_confusion(confusion_matrix(predicted, target, n_classes, ignore_index))


def f1_scores(predicted: Any, target: Any, n_classes: int) -> np.ndarray:
    """Per-class F1 (NaN for classes absent from both)."""
    return np.asarray(segmentation_scores(predicted, target, n_classes)["f1_per_class"])


def macro_f1(predicted: Any, target: Any, n_classes: int) -> float:
    """Macro F1 over classes present in labels or predictions."""
    return segmentation_scores(predicted, target, n_classes)["f1_macro"]


def iou_scores(predicted: Any, target: Any, n_classes: int) -> np.ndarray:
    """Per-class intersection over union (NaN for classes absent from both)."""
    return np.asarray(segmentation_scores(predicted, target, n_classes)["iou_per_class"])


def accuracy(predicted: Any, target: Any, ignore_index: int = UNLABELED) -> float:
    """Fraction of labeled pixels predicted right."""
    predicted = _numpy(predicted).reshape(-1)
    target = _numpy(target).reshape(-1)
    keep = target != ignore_index
    return float(np.mean(predicted[keep] == target[keep])) if keep.any() else float("nan")


def pearson_correlation(reconstruction: Any, reference: Any) -> float:
    """Pearson correlation coefficient between a reconstruction and its reference."""
    a = _numpy(reconstruction).astype(np.float64).reshape(-1)
    b = _numpy(reference).astype(np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ParameterError("reference", "reconstruction and reference have different sizes")
    a = a - a.mean()
    b = b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denominator) if denominator > 0 else float("nan")
