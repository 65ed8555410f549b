"""Two-phase test data: a small foam volume (pores dark, solid bright) with sparse labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from algorithms.data.synthetic import foam_phantom, foam_variants, sparse_labels
from algorithms.spec import UNLABELED


@dataclass(frozen=True)
class TwoPhase:
    images: np.ndarray  # (N, Y, X) float32, low noise
    truth: np.ndarray  # (N, Y, X) uint8: 1 pore, 0 solid
    labels: np.ndarray  # (N, Y, X) int16: sparse labels on slice 0, -1 elsewhere


def pore_f1(predicted_pores: np.ndarray, truth: np.ndarray) -> float:
    """F1 of the pore class."""
    predicted = np.asarray(predicted_pores).astype(bool)
    actual = truth.astype(bool)
    true_positive = np.sum(predicted & actual)
    return float(2 * true_positive / (predicted.sum() + actual.sum()))


@pytest.fixture(scope="session")
def two_phase() -> TwoPhase:
    volume, truth = foam_phantom((6, 64, 64), seed=11, porosity=0.3)
    images = foam_variants(volume, seed=3, n_angles=8)["noise_low"]
    labels = np.full(truth.shape, UNLABELED, dtype=np.int16)
    labels[0] = sparse_labels(truth[0], seed=5)
    return TwoPhase(images, truth, labels)
