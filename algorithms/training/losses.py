"""Segmentation losses that ignore unlabeled pixels, for 2D (B,K,Y,X) and 3D (B,K,Z,Y,X) logits.

Targets are integer class maps (B, *spatial) holding ``ignore_index`` (-1) where a pixel is not
labeled. Every loss here averages over labeled pixels only; with no labeled pixel at all it
returns a zero that still carries the graph, so a batch of unlabeled windows does no harm.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED

LOSS_NAMES = ("cross_entropy", "dice", "focal", "tversky", "cross_entropy_dice")


def _check(logits: torch.Tensor, target: torch.Tensor) -> None:
    if logits.ndim not in (4, 5):
        raise ParameterError(
            "logits", f"expected (B,K,Y,X) or (B,K,Z,Y,X), got {tuple(logits.shape)}"
        )
    if target.shape != logits.shape[:1] + logits.shape[2:]:
        raise ParameterError(
            "labels",
            f"target shape {tuple(target.shape)} does not fit logits {tuple(logits.shape)}",
        )


def _flatten(
    logits: torch.Tensor, target: torch.Tensor, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labeled pixels only: logits (P, K) and targets (P,)."""
    classes = logits.shape[1]
    flat_logits = logits.movedim(1, -1).reshape(-1, classes)
    flat_target = target.reshape(-1)
    keep = flat_target != ignore_index
    return flat_logits[keep], flat_target[keep].long()


def _zero(logits: torch.Tensor) -> torch.Tensor:
    return logits.sum() * 0.0


class CrossEntropyLoss(nn.Module):
    """Pixel-wise cross-entropy over labeled pixels, with optional class weights."""

    def __init__(self, ignore_index: int = UNLABELED, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self.register_buffer("weight", weight if weight is None else weight.float())

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check(logits, target)
        if not torch.any(target != self.ignore_index):
            return _zero(logits)
        return F.cross_entropy(
            logits.float(), target.long(), weight=self.weight, ignore_index=self.ignore_index
        )


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017): cross-entropy scaled by (1 - p_true)^gamma."""

    def __init__(
        self,
        gamma: float = 2.0,
        ignore_index: int = UNLABELED,
        weight: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if gamma < 0:
            raise ParameterError("focal_gamma", f"must be >= 0, got {gamma}")
        self.gamma = gamma
        self.ignore_index = ignore_index
        self.register_buffer("weight", weight if weight is None else weight.float())

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check(logits, target)
        flat_logits, flat_target = _flatten(logits.float(), target, self.ignore_index)
        if flat_target.numel() == 0:
            return _zero(logits)
        log_p = F.log_softmax(flat_logits, dim=1).gather(1, flat_target[:, None])[:, 0]
        loss = -((1.0 - log_p.exp()) ** self.gamma) * log_p
        if self.weight is not None:
            pixel_weight = self.weight[flat_target]
            return (loss * pixel_weight).sum() / pixel_weight.sum()
        return loss.mean()


class TverskyLoss(nn.Module):
    """Tversky loss (1977), macro over classes: alpha weighs false positives, beta false negatives.

    With alpha = beta = 0.5 it is the soft Dice loss.
    """

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        smooth: float = 1.0,
        ignore_index: int = UNLABELED,
    ) -> None:
        super().__init__()
        if alpha < 0 or beta < 0 or alpha + beta <= 0:
            raise ParameterError("tversky_alpha", "alpha and beta must be >= 0, not both zero")
        self.alpha = alpha
        self.beta = beta
        self.smooth = smooth
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check(logits, target)
        flat_logits, flat_target = _flatten(logits.float(), target, self.ignore_index)
        if flat_target.numel() == 0:
            return _zero(logits)
        probabilities = F.softmax(flat_logits, dim=1)
        one_hot = F.one_hot(flat_target, probabilities.shape[1]).to(probabilities.dtype)
        true_positive = (probabilities * one_hot).sum(0)
        false_positive = (probabilities * (1 - one_hot)).sum(0)
        false_negative = ((1 - probabilities) * one_hot).sum(0)
        index = (true_positive + self.smooth) / (
            true_positive + self.alpha * false_positive + self.beta * false_negative + self.smooth
        )
        return 1.0 - index.mean()


class DiceLoss(TverskyLoss):
    """Soft Dice loss (Sorensen 1948), macro over classes, labeled pixels only."""

    def __init__(self, smooth: float = 1.0, ignore_index: int = UNLABELED) -> None:
        super().__init__(alpha=0.5, beta=0.5, smooth=smooth, ignore_index=ignore_index)


class CombinedLoss(nn.Module):
    """Sum of losses (e.g. cross-entropy + Dice)."""

    def __init__(self, *losses: nn.Module) -> None:
        super().__init__()
        self.losses = nn.ModuleList(losses)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum((loss(logits, target) for loss in self.losses), _zero(logits))


def class_weights_from_labels(
    labels: torch.Tensor, n_classes: int, ignore_index: int = UNLABELED
) -> torch.Tensor:
    """Inverse-frequency class weights (mean 1) from labeled pixels; absent classes get 0."""
    flat = labels.reshape(-1)
    flat = flat[flat != ignore_index].long()
    counts = torch.bincount(flat, minlength=n_classes).double()[:n_classes]
    present = counts > 0
    weights = torch.zeros(n_classes, dtype=torch.float64)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return weights.float()


def build_loss(
    name: str,
    class_weights: torch.Tensor | None = None,
    ignore_index: int = UNLABELED,
    focal_gamma: float = 2.0,
    tversky_alpha: float = 0.3,
    tversky_beta: float = 0.7,
) -> nn.Module:
    """The loss module called ``name`` (one of LOSS_NAMES)."""
    if name == "cross_entropy":
        return CrossEntropyLoss(ignore_index, class_weights)
    if name == "focal":
        return FocalLoss(focal_gamma, ignore_index, class_weights)
    if name == "dice":
        return DiceLoss(ignore_index=ignore_index)
    if name == "tversky":
        return TverskyLoss(tversky_alpha, tversky_beta, ignore_index=ignore_index)
    if name == "cross_entropy_dice":
        return CombinedLoss(
            CrossEntropyLoss(ignore_index, class_weights), DiceLoss(ignore_index=ignore_index)
        )
    raise ParameterError("loss", f"unknown loss {name!r}; choose one of {', '.join(LOSS_NAMES)}")
