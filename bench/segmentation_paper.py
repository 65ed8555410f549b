"""The foam segmentation study of the MLExchange segmentation paper, on synthetic data.

For each foam variant (high quality, three noise levels, few-angle streaks, rings) a model is
trained on the FIRST slice only, with about 16% of its pixels sparsely labeled (foreground to
background 1:40), and evaluated on every other slice against the ground truth. Methods, as in
the paper: random forest (30 trees, depth 8), MSDNet (12 layers, max dilation 6, Adam, lr 0.01,
50 epochs, cross-entropy), k-means (2 clusters, 300 iterations, fitted on the first slice), one
fixed threshold shared by every variant, plus our best configuration: the same MSDNet trained
three times longer with a cosine learning-rate decay.

F1 and IoU are the per-slice means of the two classes' scores (macro), averaged over slices;
``F1 pore`` is the foreground class alone. Paper targets: RF F1 0.91 / IoU 0.84 and MSDNet
0.90 / 0.81 on the degraded variants.

    python -m bench.segmentation_paper            # full run (not yet timed)
    python -m bench.segmentation_paper --quick    # smoke run (2-13 min, machine load)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from algorithms.classical.kmeans import fit_pixel_clusters, iter_cluster_masks
from algorithms.classical.random_forest import predict_pixels, train_pixel_classifier
from algorithms.classical.threshold import threshold_segment
from algorithms.data.synthetic import FOAM_VARIANTS, foam_phantom, foam_variants, sparse_labels
from algorithms.networks import create_model
from algorithms.training.engine import train_segmentation
from algorithms.training.metrics import segmentation_scores
from algorithms.training.params import TrainingParameters
from algorithms.training.sparse import split_labeled_pixels

# Mean over the noisy/artifact variants in the paper's figures 5 and 6.
PAPER = {"random_forest": (0.91, 0.84), "msdnet": (0.90, 0.81)}
FIXED_THRESHOLD = 0.5  # halfway between the solid (0.8) and pore (0.2) grey values


@dataclass
class Row:
    variant: str
    method: str
    f1: float
    iou: float
    f1_pore: float
    seconds: float


def score_stack(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """Mean over slices of macro F1, macro IoU and the pore (class 1) F1."""
    f1, iou, pore = [], [], []
    for guess, true in zip(predicted, truth, strict=True):
        scores = segmentation_scores(guess, true.astype(np.int64), 2)
        f1.append(scores["f1_macro"])
        iou.append(scores["iou_macro"])
        pore.append(scores["f1_per_class"][1])
    return float(np.mean(f1)), float(np.mean(iou)), float(np.nanmean(pore))


def random_forest(volume: np.ndarray, labels: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    classifier = train_pixel_classifier(
        volume[:1], labels[None], n_trees=30, max_depth=8, seed=args.seed
    )
    return predict_pixels(classifier, volume[1:])[0]


def kmeans(volume: np.ndarray, labels: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    clusters = fit_pixel_clusters(volume[:1], n_clusters=2, max_iter=300, seed=args.seed)
    first = next(iter_cluster_masks(clusters, volume[:1]))[2][0]
    # Unsupervised clusters get the class they overlap most among the first slice's labels.
    mapping = np.zeros(2, dtype=np.uint8)
    for cluster in range(2):
        votes = np.bincount(labels[(first == cluster) & (labels >= 0)], minlength=2)
        mapping[cluster] = int(np.argmax(votes)) if votes.any() else cluster
    predicted = np.zeros(volume[1:].shape, dtype=np.uint8)
    for start, stop, block in iter_cluster_masks(clusters, volume[1:]):
        predicted[start:stop] = mapping[block]
    return predicted


def threshold(volume: np.ndarray, labels: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    # Pores are darker than the solid: class 1 lies below the threshold.
    return threshold_segment(volume[1:], "value", FIXED_THRESHOLD, invert=True)[0]


def _train_network(
    name: str,
    network: dict,
    volume: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    learning_rate: float,
    args: argparse.Namespace,
    scheduler: str = "none",
) -> np.ndarray:
    # Standardize with the training slice's statistics (the same transform for every slice).
    mean, std = float(volume[0].mean()), float(volume[0].std()) or 1.0
    inputs = ((volume - mean) / std).astype(np.float32)[:, None]
    train_labels, validation_labels = split_labeled_pixels(labels, 0.1, seed=args.seed)
    model = create_model(name, network, in_channels=1, out_channels=2)
    params = TrainingParameters(
        optimizer="adam",
        learning_rate=learning_rate,
        epochs=epochs,
        batch_size=1,
        loss="cross_entropy",
        scheduler=scheduler,
        seed=args.seed,
        device=args.device,
    )
    train_segmentation(
        model,
        (inputs[:1], train_labels[None]),
        params,
        n_classes=2,
        validation=(inputs[:1], validation_labels[None]),
    )
    device = next(model.parameters()).device
    model.eval()
    predicted = []
    with torch.no_grad():
        for start in range(1, len(inputs), 8):
            batch = torch.from_numpy(inputs[start : start + 8]).to(device)
            predicted.append(model(batch).argmax(1).cpu().numpy().astype(np.uint8))
    return np.concatenate(predicted)


def msdnet(volume: np.ndarray, labels: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    network = {"layers": 12, "max_dilation": 6}
    return _train_network("msdnet", network, volume, labels, args.epochs, 0.01, args)


def best(volume: np.ndarray, labels: np.ndarray, args: argparse.Namespace) -> np.ndarray:
    # The paper's MSDNet trained three times longer with a cosine learning-rate decay: with one
    # training image an epoch is a single step, and 50 steps leave it short of convergence.
    network = {"layers": 12, "max_dilation": 6}
    return _train_network(
        "msdnet", network, volume, labels, args.best_epochs, 0.01, args, scheduler="cosine"
    )


METHODS: dict[str, Callable[[np.ndarray, np.ndarray, argparse.Namespace], np.ndarray]] = {
    "random_forest": random_forest,
    "msdnet": msdnet,
    "kmeans": kmeans,
    "threshold": threshold,
    "best": best,
}


def run(args: argparse.Namespace) -> list[Row]:
    """Score every method on every variant; print one line per result as it comes."""
    volume, mask = foam_phantom((args.slices, args.size, args.size), seed=args.seed)
    variants = foam_variants(volume, seed=args.seed)
    labels = sparse_labels(mask[0], fraction=0.16, fg_to_bg=1 / 40, seed=args.seed)
    ratio = (labels == 0).sum() / max((labels == 1).sum(), 1)
    print(
        f"foam {args.slices}x{args.size}x{args.size}, porosity {mask.mean():.2f}; slice 0 labeled "
        f"{(labels >= 0).mean():.1%} (pore:solid 1:{ratio:.0f})"
    )
    rows = []
    for variant in args.variants:
        for method in args.methods:
            started = time.perf_counter()
            predicted = METHODS[method](variants[variant], labels, args)
            f1, iou, pore = score_stack(predicted, mask[1:])
            rows.append(Row(variant, method, f1, iou, pore, time.perf_counter() - started))
            print(f"  {variant:13s} {method:14s} F1 {f1:.3f}  IoU {iou:.3f}  "
                  f"({rows[-1].seconds:.1f} s)", flush=True)
    return rows


def print_table(rows: list[Row], methods: list[str]) -> None:
    """Markdown table: one row per variant, F1 / IoU per method, then degraded-variant means."""
    header = "| variant | " + " | ".join(f"{m} F1 / IoU" for m in methods) + " |"
    print("\n" + header)
    print("|" + "---|" * (len(methods) + 1))
    variants = list(dict.fromkeys(row.variant for row in rows))
    for variant in variants:
        cells = []
        for method in methods:
            row = next(r for r in rows if r.variant == variant and r.method == method)
            cells.append(f"{row.f1:.3f} / {row.iou:.3f}")
        print(f"| {variant} | " + " | ".join(cells) + " |")
    degraded = [v for v in variants if v != "high_quality"]
    if degraded:
        cells = []
        for method in methods:
            chosen = [r for r in rows if r.method == method and r.variant in degraded]
            cells.append(f"{np.mean([r.f1 for r in chosen]):.3f} / "
                         f"{np.mean([r.iou for r in chosen]):.3f}")
        print("| **mean, degraded** | " + " | ".join(cells) + " |")
        paper = [f"{PAPER[m][0]:.2f} / {PAPER[m][1]:.2f}" if m in PAPER else "-" for m in methods]
        print("| paper (degraded) | " + " | ".join(paper) + " |")
    seconds = {m: sum(r.seconds for r in rows if r.method == m) for m in methods}
    print("\nseconds per method (all variants): "
          + ", ".join(f"{m} {s:.0f}" for m, s in seconds.items()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--slices", type=int, default=None)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None, help="MSDNet epochs (paper: 50)")
    parser.add_argument("--best-epochs", type=int, default=None)
    parser.add_argument("--variants", nargs="+", default=list(FOAM_VARIANTS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    quick = {"slices": 6, "size": 96, "epochs": 20, "best_epochs": 60}
    full = {"slices": 30, "size": 160, "epochs": 50, "best_epochs": 150}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    started = time.perf_counter()
    rows = run(args)
    print_table(rows, args.methods)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    print(f"total {time.perf_counter() - started:.0f} s (networks on {device}, "
          f"{args.threads} CPU threads)")


if __name__ == "__main__":
    main()
