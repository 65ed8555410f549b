"""DLSIA section 4.3 on synthetic shapes: autoencoder reconstructions and latent clusters.

A convolutional autoencoder (depth 4, 16 base channels, latent 16) is trained with an MSE loss
on 64x64 tiles each holding one random circle, triangle, rectangle or annulus (random size and
rotation, centred in the tile as in the paper, Gaussian noise). On NEW tiles it reports the
mean per-image Pearson correlation of the reconstructions (paper: about 0.98), then compresses
the latent vectors to 2D with UMAP, clusters them with HDBSCAN and scores the clusters against
the true shapes with the adjusted Rand index (ARI). Targets: Pearson >= 0.97, ARI >= 0.8.

    python -m bench.latent_shapes            # full run (2 CPU threads: 7-17 min)
    python -m bench.latent_shapes --quick    # smoke run (a few minutes)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from algorithms.autoencoder.cards import AutoencoderJobParameters
from algorithms.autoencoder.training import (
    per_image_pearson,
    prepare_images,
    reconstruct_and_encode,
    train_autoencoder,
)
from algorithms.data.synthetic import random_shapes
from algorithms.events import EventEmitter

PAPER_PEARSON = 0.98
TARGETS = {"pearson": 0.97, "ari": 0.8}


def center_shapes(images: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Roll each tile so its shape's centroid sits in the middle, as in the paper's tiles (shapes
    sized and rotated around the tile centre); ``random_shapes`` also moves them around."""
    images, masks = images.copy(), masks.copy()
    middle = (images.shape[1] - 1) / 2
    for index in range(len(images)):
        rows, cols = np.nonzero(masks[index])
        if rows.size:
            shift = (int(round(middle - rows.mean())), int(round(middle - cols.mean())))
            images[index] = np.roll(images[index], shift, axis=(0, 1))
            masks[index] = np.roll(masks[index], shift, axis=(0, 1))
    return images, masks


def cluster_latents(
    latents: np.ndarray, seed: int, min_cluster_fraction: float = 0.05, n_neighbors: int = 15
) -> tuple[np.ndarray, np.ndarray]:
    """UMAP to 2D, then HDBSCAN; returns (embedding (N, 2), cluster labels, -1 for noise)."""
    import umap
    from sklearn.cluster import HDBSCAN

    embedding = umap.UMAP(
        n_components=2, n_neighbors=n_neighbors, min_dist=0.0, random_state=seed
    ).fit_transform(latents)
    min_size = max(5, int(min_cluster_fraction * len(latents)))
    labels = HDBSCAN(min_cluster_size=min_size).fit_predict(embedding)
    return embedding, labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--train", type=int, default=None, help="training images")
    parser.add_argument("--test", type=int, default=None, help="new images to score")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    defaults = {"train": 256, "test": 200, "epochs": 10} if args.quick else {
        "train": 2000, "test": 1000, "epochs": 50}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)

    params = AutoencoderJobParameters(
        input_size=64, depth=4, base_channels=16, latent_dim=16, epochs=args.epochs,
        batch_size=32, learning_rate=args.lr, val_fraction=0.1, seed=args.seed, device=args.device,
        horizontal_flip=True, vertical_flip=True,
    )
    started = time.perf_counter()
    train = random_shapes(args.train, size=64, seed=args.seed, noise=args.noise)
    test = random_shapes(args.test, size=64, seed=args.seed + 1000, noise=args.noise)
    train_tiles, _ = center_shapes(train.images, train.masks)
    test_tiles, test_masks = center_shapes(test.images, test.masks)
    train_images = prepare_images(train_tiles, params)
    test_images = prepare_images(test_tiles, params)

    def show(event: dict) -> None:
        if event["type"] == "metric":
            values = event["values"]
            print(f"  epoch {event['epoch']:3d}  train {values['train_loss']:.4f}  "
                  f"val {values['val_loss']:.4f}  pearson {values['val_pearson']:.4f}  "
                  f"({values['seconds']:.1f} s)", flush=True)

    print(f"training on {args.train} shapes, {args.epochs} epochs", flush=True)
    model, _ = train_autoencoder(train_images, params, EventEmitter(on_event=show))
    trained = time.perf_counter()
    device = next(model.parameters()).device
    reconstructions, latents = reconstruct_and_encode(model.cpu(), test_images, 128)
    pearson = float(np.nanmean(per_image_pearson(reconstructions, test_images)))
    # The same against the noise-free shapes: noise caps the correlation with noisy inputs.
    clean = torch.from_numpy((test_masks > 0).astype(np.float32)[:, None])
    clean_pearson = float(np.nanmean(per_image_pearson(reconstructions, clean)))

    from sklearn.metrics import adjusted_rand_score

    _, clusters = cluster_latents(latents.numpy(), args.seed)
    ari = adjusted_rand_score(test.labels, clusters)
    noise_share = float((clusters == -1).mean())
    finished = time.perf_counter()

    print("\n| measure | ours | paper / target |")
    print("|---|---|---|")
    print(f"| Pearson, reconstruction vs input (new images) | {pearson:.3f} | "
          f"{PAPER_PEARSON} / >= {TARGETS['pearson']} |")
    print(f"| Pearson, reconstruction vs noise-free shape | {clean_pearson:.3f} | - |")
    found = len(set(clusters.tolist()) - {-1})
    print(f"| ARI, UMAP + HDBSCAN vs true shapes | {ari:.3f} | "
          f"clear clusters / >= {TARGETS['ari']} |")
    print(f"| clusters found (noise points) | {found} ({noise_share:.1%}) | 4 |")
    print(f"| training time | {trained - started:.0f} s | - |")
    print(f"| total time | {finished - started:.0f} s | - |")
    print(f"\nsettings: {args.train} training / {args.test} new 64x64 images, noise {args.noise}, "
          f"{args.epochs} epochs, device {device}, {args.threads} CPU threads")
    # How much the clustering depends on its two knobs (the headline uses the defaults).
    print("\nARI by UMAP n_neighbors (rows) and HDBSCAN min cluster size (columns):")
    fractions = (0.02, 0.05, 0.10)
    print("| n_neighbors | " + " | ".join(f"{f:.0%} of points" for f in fractions) + " |")
    print("|---|" + "---|" * len(fractions))
    for neighbors in (15, 30, 60):
        scores = []
        for fraction in fractions:
            _, grid_clusters = cluster_latents(latents.numpy(), args.seed, fraction, neighbors)
            scores.append(adjusted_rand_score(test.labels, grid_clusters))
        print(f"| {neighbors} | " + " | ".join(f"{score:.3f}" for score in scores) + " |")
    verdict = pearson >= TARGETS["pearson"] and ari >= TARGETS["ari"]
    print("targets met" if verdict else "targets NOT met")


if __name__ == "__main__":
    main()
