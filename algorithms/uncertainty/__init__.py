"""Uncertainty: ensemble mean/std maps and split-conformal prediction sets for segmentation."""

from algorithms.uncertainty.conformal import (
    ConformalCalibration,
    calibrate_conformal,
    conformal_scores,
    empirical_coverage,
    prediction_sets,
    sets_to_bitmask,
)
from algorithms.uncertainty.ensemble import ensemble_statistics

__all__ = [
    "ConformalCalibration",
    "calibrate_conformal",
    "conformal_scores",
    "empirical_coverage",
    "ensemble_statistics",
    "prediction_sets",
    "sets_to_bitmask",
]
