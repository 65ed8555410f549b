"""Losses ignore unlabeled pixels in 2D and 3D; metrics and the sparse split behave."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algorithms.errors import ParameterError
from algorithms.training.losses import LOSS_NAMES, build_loss, class_weights_from_labels
from algorithms.training.metrics import (
    accuracy,
    confusion_matrix,
    iou_scores,
    macro_f1,
    pearson_correlation,
    segmentation_scores,
)
from algorithms.training.sparse import split_labeled_pixels


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("spatial", [(6, 7), (3, 4, 5)])
def test_losses_ignore_unlabeled_pixels(name: str, spatial: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 3, *spatial, requires_grad=True)
    target = torch.randint(0, 3, (2, *spatial))
    target[0] = -1  # first item entirely unlabeled
    loss = build_loss(name)(logits, target)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert torch.all(logits.grad[0] == 0)  # no gradient from unlabeled pixels
    assert torch.any(logits.grad[1] != 0)
    # Changing logits at unlabeled pixels does not change the loss.
    shifted = logits.detach().clone()
    shifted[0] += 5.0
    assert torch.allclose(build_loss(name)(shifted, target), loss.detach())


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_losses_prefer_correct_predictions(name: str) -> None:
    target = torch.randint(0, 2, (1, 8, 8))
    target[0, :2] = -1
    good = torch.nn.functional.one_hot(target.clamp(min=0), 2).movedim(-1, 1).float() * 10
    bad = -good
    loss = build_loss(name)
    assert loss(good, target) < loss(bad, target)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_all_unlabeled_batch_gives_zero_loss_with_graph(name: str) -> None:
    logits = torch.randn(1, 2, 4, 4, requires_grad=True)
    loss = build_loss(name)(logits, torch.full((1, 4, 4), -1))
    assert float(loss.detach()) == 0.0
    loss.backward()


def test_unknown_loss_names_the_field() -> None:
    with pytest.raises(ParameterError) as error:
        build_loss("hinge")
    assert error.value.field == "loss"


def test_balanced_class_weights_are_inverse_frequency() -> None:
    labels = torch.tensor([0] * 40 + [1] * 1 + [-1] * 9)
    weights = class_weights_from_labels(labels, 3)
    assert weights[1] / weights[0] == pytest.approx(40.0)
    assert weights[2] == 0


def test_segmentation_scores_on_a_known_case() -> None:
    target = np.array([0, 0, 0, 1, 1, -1, -1])
    predicted = np.array([0, 0, 1, 1, 0, 1, 1])
    confusion = confusion_matrix(predicted, target, 2)
    assert confusion.tolist() == [[2, 1], [1, 1]]
    scores = segmentation_scores(predicted, target, 2)
    assert scores["accuracy"] == pytest.approx(3 / 5)
    assert scores["f1_per_class"] == pytest.approx([2 / 3, 1 / 2])
    assert scores["f1_macro"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert macro_f1(predicted, target, 2) == pytest.approx(scores["f1_macro"])
    assert iou_scores(predicted, target, 2) == pytest.approx([1 / 2, 1 / 3])
    assert accuracy(predicted, target) == pytest.approx(3 / 5)
    assert scores["labeled_pixels"] == 5


def test_absent_classes_stay_out_of_macro_scores() -> None:
    scores = segmentation_scores(np.zeros(4), np.zeros(4), 3)
    assert scores["f1_macro"] == 1.0
    assert np.isnan(scores["f1_per_class"][2])


def test_pearson_correlation() -> None:
    a = np.linspace(0, 1, 50)
    assert pearson_correlation(a, 3 * a + 2) == pytest.approx(1.0)
    assert pearson_correlation(a, -a) == pytest.approx(-1.0)


def test_split_labeled_pixels_is_disjoint_and_complete() -> None:
    labels = np.full((2, 50, 50), -1, dtype=np.int64)
    labels[0, :10] = 0
    labels[1, 20:22, :5] = 1
    train, validation = split_labeled_pixels(labels, 0.25, seed=3)
    both = (train != -1) & (validation != -1)
    assert not both.any()
    merged = np.where(train != -1, train, validation)
    assert np.array_equal(merged, labels)
    assert (validation == 0).sum() == 125 and (validation == 1).sum() == 2
    again = split_labeled_pixels(labels, 0.25, seed=3)
    assert np.array_equal(again[0], train)
    other = split_labeled_pixels(labels, 0.25, seed=4)
    assert not np.array_equal(other[0], train)


def test_split_rejects_bad_fraction() -> None:
    with pytest.raises(ParameterError) as error:
        split_labeled_pixels(np.zeros((3, 3)), 1.0)
    assert error.value.field == "val_fraction"
