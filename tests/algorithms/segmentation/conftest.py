"""Synthetic two-phase stacks with sparse scribble labels for the segmentation runner tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from algorithms.events import EventEmitter
from algorithms.networks.cards import CARDS
from algorithms.spec import JobSpec


def disk_stack(
    slices: int = 8, size: int = 96, seed: int = 0, noise: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Random bright disks on a dark background with Gaussian noise: (images, truth)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    truth = np.zeros((slices, size, size), dtype=np.uint8)
    for index in range(slices):
        for _ in range(rng.integers(3, 7)):
            cy, cx = rng.uniform(8, size - 8, 2)
            radius = rng.uniform(4, 11)
            truth[index][(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = 1
    images = truth * 1.0 + rng.normal(0.0, noise, truth.shape) + 0.2
    return images.astype(np.float32), truth


def scribbles(
    truth: np.ndarray, index: int, fraction: float = 0.16, ratio: float = 40.0, seed: int = 1
) -> np.ndarray:
    """Labels (stored, 255 unlabeled) on slice ``index`` only: background strokes along rows
    and a few foreground pixels, about ``fraction`` of the slice, background:foreground ~ ratio."""
    rng = np.random.default_rng(seed)
    labels = np.full(truth.shape, 255, dtype=np.uint8)
    plane = truth[index]
    size = plane.size
    target = int(fraction * size)
    n_foreground = max(8, int(round(target / (ratio + 1))))
    background = np.argwhere(plane == 0)
    # Strokes: runs of consecutive background pixels along random rows.
    chosen: list[tuple[int, int]] = []
    while len(chosen) < target - n_foreground:
        y, x = background[rng.integers(len(background))]
        for dx in range(24):
            if x + dx < plane.shape[1] and plane[y, x + dx] == 0:
                chosen.append((y, x + dx))
    for y, x in chosen[: target - n_foreground]:
        labels[index, y, x] = 0
    foreground = np.argwhere(plane == 1)
    for y, x in foreground[rng.choice(len(foreground), n_foreground, replace=False)]:
        labels[index, y, x] = 1
    return labels


@pytest.fixture()
def run_job(tmp_path: Path) -> Callable[..., tuple[dict, list[dict]]]:
    """Run one step of a network card through its real runner; returns (summary, events).

    Parameters are validated by the card's model exactly as the entry point does.
    """

    def run(name: str, step: str, parameters: dict, inputs: dict, job_id: str = "job"):
        info = CARDS[name]
        spec = JobSpec(
            job_id=job_id,
            algorithm=name,
            step=step,
            parameters=parameters,
            inputs=inputs,
            outputs={
                "results_uri": str(tmp_path / "results"),
                "model_dir": str(tmp_path / f"model_{job_id}"),
            },
            work_dir=str(tmp_path / "work"),
        )
        events = EventEmitter()
        params = info.parameters.model_validate(spec.parameters)
        summary = info.load_runner()(spec=spec, params=params, step=step, events=events)
        return summary, events.events

    return run


@pytest.fixture()
def two_phase(tmp_path: Path) -> dict:
    """Eight noisy 96x96 slices of disks, scribbles on slice 0, saved as .npy files."""
    images, truth = disk_stack()
    labels = scribbles(truth, 0)
    np.save(tmp_path / "images.npy", images)
    np.save(tmp_path / "labels.npy", labels)
    return {
        "images": images,
        "truth": truth,
        "labels": labels,
        "inputs": {
            "data_uri": str(tmp_path / "images.npy"),
            "labels_uri": str(tmp_path / "labels.npy"),
        },
    }
