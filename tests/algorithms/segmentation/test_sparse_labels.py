"""Acceptance: a network trained on scribbles of ONE slice segments the other slices.

Eight noisy 96x96 slices of two-phase data (disks); about 16% of slice 0's pixels are labeled,
background:foreground about 40:1. A small MSDNet trains on CPU in well under a minute and must
reach a macro F1 of at least 0.85 on the seven slices it never saw labels of.
"""

from __future__ import annotations

import numpy as np

from algorithms.training.metrics import macro_f1, segmentation_scores

PARAMETERS = {
    "layers": 20,
    "max_dilation": 8,
    "epochs": 30,
    "batch_size": 1,
    "learning_rate": 0.01,
    "window": 96,
    "step": 96,
    "border": 0,
    "val_fraction": 0.2,
    "device": "cpu",
}


def test_sparse_scribbles_on_one_slice_segment_the_others(run_job, two_phase) -> None:
    labels = two_phase["labels"]
    labeled = labels[0] != 255
    assert 0.14 <= labeled.mean() <= 0.18
    ratio = (labels[0] == 0).sum() / (labels[0] == 1).sum()
    assert 30 <= ratio <= 50
    assert np.all(labels[1:] == 255)

    summary, events = run_job("msdnet", "train", PARAMETERS, two_phase["inputs"])
    model = summary["model"]
    assert model["framework"] == "pytorch"
    assert model["metrics"]["val_f1_macro"] > 0.8
    epochs = [e["epoch"] for e in events if e["type"] == "metric"]
    assert epochs == list(range(1, 31))

    inputs = {**two_phase["inputs"], "model_uri": model["weights_uri"]}
    result, _ = run_job("msdnet", "infer", {"device": "cpu"}, inputs, job_id="infer")
    mask = np.load(result["outputs"]["mask"])
    assert mask.shape == (8, 96, 96) and mask.dtype == np.uint8
    truth = two_phase["truth"].astype(np.int64)
    f1 = macro_f1(mask[1:], truth[1:], 2)
    scores = segmentation_scores(mask[1:], truth[1:], 2)
    assert f1 >= 0.85, scores
