"""Synthetic data for demos and tests: shapes, a foam phantom and scattering-like patterns.

Every generator is deterministic given its ``seed`` (same seed, same arrays) and uses only
numpy, scipy and scikit-image. The shapes follow DLSIA's clustering study (64 x 64 tiles holding
one circle, triangle, rectangle or annulus of random size and rotation); the foam phantom and its
variants mimic the TomoBank foam study of the MLExchange segmentation paper (a high-quality
reconstruction plus noisy, few-angle and ring-artifact versions); the scattering patterns mimic
the classes of the MLExchange labeling paper (rings, arcs, peaks, streaks, empty, combinations)
with detector gaps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage import draw

from algorithms.errors import ParameterError
from algorithms.spec import UNLABELED, UNLABELED_STORED

SHAPE_NAMES: tuple[str, ...] = ("circle", "triangle", "rectangle", "annulus")
SCATTERING_FEATURES: tuple[str, ...] = ("rings", "arcs", "peaks", "streaks")
SCATTERING_CLASSES: tuple[str, ...] = ("empty", *SCATTERING_FEATURES)
# Feature combinations seen in the labeled ALS 7.3.3 data set (MLExchange labeling paper).
SCATTERING_COMBINATIONS: tuple[tuple[str, ...], ...] = (
    (),
    ("rings",),
    ("arcs",),
    ("peaks",),
    ("streaks",),
    ("rings", "arcs"),
    ("rings", "peaks"),
    ("rings", "streaks"),
    ("arcs", "peaks"),
    ("rings", "peaks", "streaks"),
)
FOAM_VARIANTS: tuple[str, ...] = (
    "high_quality",
    "noise_low",
    "noise_medium",
    "noise_high",
    "streaks",
    "rings",
)


@dataclass(frozen=True)
class ShapeImages:
    """Images of random shapes; unpacks as ``images, labels, class_names``.

    ``images`` (N, size, size) float32, ``labels`` (N,) int64 index into ``class_names``,
    ``masks`` (N, size, size) uint8 with 0 background and 1 + class index on the shape.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    masks: np.ndarray

    def __iter__(self) -> Iterator[object]:
        return iter((self.images, self.labels, self.class_names))


@dataclass(frozen=True)
class ScatteringImages:
    """Detector-like images with multi-label flags and a dominant class.

    ``images`` (N, size, size) float32 (counts, zeros in detector gaps), ``flags`` (N, 4) bool
    over ``feature_names`` (rings, arcs, peaks, streaks), ``dominant`` (N,) int64 index into
    ``class_names`` (empty, rings, arcs, peaks, streaks): the feature holding the most intensity,
    ``gap_mask`` (size, size) bool, True in the detector gaps.
    """

    images: np.ndarray
    flags: np.ndarray
    feature_names: tuple[str, ...]
    dominant: np.ndarray
    class_names: tuple[str, ...]
    gap_mask: np.ndarray


def _rotated_polygon(
    center: tuple[float, float], vertices: np.ndarray, angle: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of polygon vertices (relative (dy, dx)) rotated by ``angle`` radians."""
    cos, sin = np.cos(angle), np.sin(angle)
    rows = center[0] + vertices[:, 0] * cos - vertices[:, 1] * sin
    cols = center[1] + vertices[:, 0] * sin + vertices[:, 1] * cos
    return rows, cols


def _draw_shape(
    name: str, size: int, radius: float, center: tuple[float, float], angle: float, ring: float
) -> np.ndarray:
    """A boolean (size, size) mask of one shape."""
    mask = np.zeros((size, size), dtype=bool)
    if name in ("circle", "annulus"):
        rr, cc = draw.disk(center, radius, shape=mask.shape)
        mask[rr, cc] = True
        if name == "annulus":
            rr, cc = draw.disk(center, radius * ring, shape=mask.shape)
            mask[rr, cc] = False
        return mask
    if name == "triangle":
        corners = np.deg2rad([90.0, 210.0, 330.0])
        vertices = radius * np.stack([np.sin(corners), np.cos(corners)], axis=1)
    else:  # rectangle; its aspect ratio reuses the random draw "ring"
        half_h, half_w = radius, radius * (0.45 + 0.5 * ring)
        vertices = np.array(
            [[-half_h, -half_w], [-half_h, half_w], [half_h, half_w], [half_h, -half_w]]
        )
    rows, cols = _rotated_polygon(center, vertices, angle)
    rr, cc = draw.polygon(rows, cols, shape=mask.shape)
    mask[rr, cc] = True
    return mask


def random_shapes(
    n: int,
    size: int = 64,
    seed: int = 0,
    noise: float = 0.1,
    shapes: Sequence[str] = SHAPE_NAMES,
) -> ShapeImages:
    """Tiles holding one random shape each (random size, rotation and position) plus noise.

    Args:
        n: number of images.
        size: image side in pixels (>= 16).
        noise: standard deviation of the added Gaussian noise (shape 1, background 0).
        shapes: the shape classes to draw from, a subset of ``SHAPE_NAMES``.
    """
    if n < 0:
        raise ParameterError("n", "must be >= 0")
    if size < 16:
        raise ParameterError("size", "must be >= 16")
    if noise < 0:
        raise ParameterError("noise", "must be >= 0")
    class_names = tuple(shapes)
    unknown = [name for name in class_names if name not in SHAPE_NAMES]
    if not class_names or unknown or len(set(class_names)) != len(class_names):
        raise ParameterError("shapes", f"must be distinct names among {', '.join(SHAPE_NAMES)}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(class_names), size=n)
    images = np.zeros((n, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.uint8)
    for index, label in enumerate(labels):
        radius = rng.uniform(0.15, 0.35) * size
        margin = radius + 1
        center = (rng.uniform(margin, size - margin), rng.uniform(margin, size - margin))
        angle = rng.uniform(0.0, 2.0 * np.pi)
        ring = rng.uniform(0.4, 0.7)
        shape = _draw_shape(class_names[label], size, radius, center, angle, ring)
        masks[index][shape] = label + 1
        images[index][shape] = 1.0
    if noise > 0:
        images += rng.normal(0.0, noise, size=images.shape).astype(np.float32)
    return ShapeImages(images, labels.astype(np.int64), class_names, masks)


def foam_phantom(
    shape: tuple[int, int, int] = (32, 128, 128),
    seed: int = 0,
    porosity: float = 0.35,
    pore_radius: tuple[float, float] = (3.0, 9.0),
) -> tuple[np.ndarray, np.ndarray]:
    """A foam: spherical pores in a solid. Returns ``(volume float32, mask uint8)``.

    The mask is 0 for solid and 1 for pore; the volume has solid at 0.8 and pores at 0.2 with a
    slight blur (partial-volume edges). Pores are added until ``porosity`` is reached.

    Args:
        shape: (Z, Y, X) of the volume.
        porosity: target pore fraction, 0.05 to 0.8.
        pore_radius: (smallest, largest) pore radius in voxels.
    """
    if len(shape) != 3 or shape[0] < 1 or min(shape[1:]) < 4:
        raise ParameterError("shape", "must be (Z, Y, X) with Z >= 1 and Y, X >= 4")
    if not 0.05 <= porosity <= 0.8:
        raise ParameterError("porosity", "must be between 0.05 and 0.8")
    low, high = pore_radius
    if not 1.0 <= low <= high:
        raise ParameterError("pore_radius", "must be (low, high) with 1 <= low <= high")
    rng = np.random.default_rng(seed)
    pores = np.zeros(shape, dtype=bool)
    total = pores.size
    filled = 0
    dims = np.array(shape)
    while filled < porosity * total:
        radius = rng.uniform(low, high)
        # Centres may sit just outside the box so that edge slices are as porous as the rest.
        center = rng.uniform(-radius / 2, dims + radius / 2)
        lo = np.maximum(np.floor(center - radius).astype(int), 0)
        hi = np.minimum(np.ceil(center + radius).astype(int) + 1, dims)
        grid = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        distance2 = sum((axis - c) ** 2 for axis, c in zip(grid, center, strict=True))
        block = pores[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        added = (distance2 <= radius**2) & ~block
        block |= added
        filled += int(added.sum())
    volume = np.where(pores, np.float32(0.2), np.float32(0.8))
    volume = ndimage.gaussian_filter(volume, sigma=0.6).astype(np.float32)
    return volume, pores.astype(np.uint8)


def _few_angle_reconstruction(image: np.ndarray, n_angles: int) -> np.ndarray:
    """Parallel-beam forward projection at ``n_angles`` angles and filtered back projection."""
    from skimage.transform import iradon, radon

    angles = np.linspace(0.0, 180.0, n_angles, endpoint=False)
    sinogram = radon(image, theta=angles, circle=False)
    reconstruction = iradon(
        sinogram, theta=angles, circle=False, filter_name="ramp", output_size=max(image.shape)
    )
    return reconstruction[: image.shape[0], : image.shape[1]]


def _ring_pattern(shape: tuple[int, int], rng: np.random.Generator, contrast: float) -> np.ndarray:
    """Concentric rings around the rotation axis, as faulty detector columns leave them."""
    rows, cols = np.indices(shape, dtype=np.float32)
    radius = np.hypot(rows - (shape[0] - 1) / 2, cols - (shape[1] - 1) / 2)
    pattern = np.zeros(shape, dtype=np.float32)
    for _ in range(12):
        ring_radius = rng.uniform(2.0, 0.7 * max(shape))
        amplitude = rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 0.4) * contrast
        pattern += amplitude * np.exp(-((radius - ring_radius) ** 2) / (2 * 0.8**2))
    return pattern


def foam_variants(
    volume: np.ndarray,
    seed: int = 0,
    noise_levels: tuple[float, float, float] = (0.1, 0.3, 0.6),
    n_angles: int = 24,
) -> dict[str, np.ndarray]:
    """Degraded versions of a foam volume, keyed by ``FOAM_VARIANTS``.

    ``high_quality`` is the clean volume; ``noise_low/medium/high`` add Gaussian noise with the
    three ``noise_levels`` as standard deviations relative to the volume's value range;
    ``streaks`` re-reconstructs every slice from ``n_angles`` parallel-beam projections (filtered
    back projection); ``rings`` adds concentric ring artifacts, fixed across slices as in a real
    scan. All float32 with the shape of ``volume``.
    """
    volume = np.asarray(volume, dtype=np.float32)
    if volume.ndim != 3:
        raise ParameterError("volume", "must be a (Z, Y, X) array")
    if n_angles < 2:
        raise ParameterError("n_angles", "must be >= 2")
    if any(level < 0 for level in noise_levels) or len(noise_levels) != 3:
        raise ParameterError("noise_levels", "must be three values >= 0")
    rng = np.random.default_rng(seed)
    value_range = float(volume.max() - volume.min()) or 1.0
    variants = {"high_quality": volume.copy()}
    for name, level in zip(("noise_low", "noise_medium", "noise_high"), noise_levels, strict=True):
        noise = rng.normal(0.0, level * value_range, size=volume.shape).astype(np.float32)
        variants[name] = volume + noise
    variants["streaks"] = np.stack(
        [_few_angle_reconstruction(image, n_angles) for image in volume]
    ).astype(np.float32)
    rings = _ring_pattern(volume.shape[1:], rng, value_range)
    variants["rings"] = (volume + rings[None]).astype(np.float32)
    return variants


def _radial_grid(size: int, center: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.indices((size, size), dtype=np.float32)
    dy, dx = rows - center[0], cols - center[1]
    return np.hypot(dy, dx), np.arctan2(dy, dx)


def _angular_distance(theta: np.ndarray, center: float) -> np.ndarray:
    return np.abs(np.angle(np.exp(1j * (theta - center))))


def _scattering_feature(
    name: str, radius: np.ndarray, theta: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Intensity of one feature kind (before noise)."""
    image = np.zeros_like(radius)
    if name in ("rings", "arcs"):
        for _ in range(int(rng.integers(1, 4))):
            q = rng.uniform(0.1, 0.45) * size
            width = rng.uniform(0.6, 2.0)
            profile = np.exp(-((radius - q) ** 2) / (2 * width**2))
            if name == "arcs":
                middle = rng.uniform(-np.pi, np.pi)
                spread = rng.uniform(0.15, 0.5)
                window = np.exp(-(_angular_distance(theta, middle) ** 2) / (2 * spread**2))
                window += np.exp(-(_angular_distance(theta, middle + np.pi) ** 2) / (2 * spread**2))
                profile = profile * window
            image += rng.uniform(20.0, 60.0) * profile
    elif name == "peaks":
        rows, cols = np.indices((size, size), dtype=np.float32)
        for _ in range(int(rng.integers(2, 7))):
            row, col = rng.uniform(0.05, 0.95, size=2) * size
            width = rng.uniform(0.8, 2.0)
            blob = np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * width**2))
            image += rng.uniform(60.0, 150.0) * blob
    elif name == "streaks":
        direction = rng.choice([0.0, np.pi / 2]) + rng.normal(0.0, 0.05)
        distance = radius * np.sin(_angular_distance(theta, direction))
        along = np.abs(radius * np.cos(_angular_distance(theta, direction)))
        width = rng.uniform(0.8, 2.0)
        image += (
            rng.uniform(30.0, 80.0)
            * np.exp(-(distance**2) / (2 * width**2))
            / (1.0 + along / (0.1 * size))
        )
    return image


def scattering_patterns(n: int, size: int = 128, seed: int = 0) -> ScatteringImages:
    """Detector-like X-ray scattering images with rings, arcs, peaks, streaks or nothing.

    Each image draws one of ``SCATTERING_COMBINATIONS`` on a power-law background around a
    random beam centre, with Poisson counting noise and zeroed detector gaps (one horizontal
    and one vertical band, shared by all images as on a real module detector).
    """
    if n < 0:
        raise ParameterError("n", "must be >= 0")
    if size < 32:
        raise ParameterError("size", "must be >= 32")
    rng = np.random.default_rng(seed)
    gap_mask = np.zeros((size, size), dtype=bool)
    gap_width = max(2, size // 40)
    gap_row = int(rng.integers(size // 3, 2 * size // 3))
    gap_col = int(rng.integers(size // 3, 2 * size // 3))
    gap_mask[gap_row : gap_row + gap_width, :] = True
    gap_mask[:, gap_col : gap_col + gap_width] = True
    images = np.zeros((n, size, size), dtype=np.float32)
    flags = np.zeros((n, len(SCATTERING_FEATURES)), dtype=bool)
    dominant = np.zeros(n, dtype=np.int64)
    for index in range(n):
        combination = SCATTERING_COMBINATIONS[int(rng.integers(len(SCATTERING_COMBINATIONS)))]
        center = tuple(rng.uniform(0.3, 0.7, size=2) * size)
        radius, theta = _radial_grid(size, center)
        image = rng.uniform(50.0, 200.0) / (1.0 + (radius / rng.uniform(3.0, 8.0)) ** 2)
        strongest, strongest_total = 0, 0.0
        for name in combination:
            feature = _scattering_feature(name, radius, theta, size, rng)
            image += feature
            flags[index, SCATTERING_FEATURES.index(name)] = True
            total = float(feature.sum())
            if total > strongest_total:
                strongest, strongest_total = SCATTERING_CLASSES.index(name), total
        dominant[index] = strongest
        counts = rng.poisson(np.maximum(image, 0.0) + 1.0).astype(np.float32)
        counts[gap_mask] = 0.0
        images[index] = counts
    return ScatteringImages(
        images, flags, SCATTERING_FEATURES, dominant, SCATTERING_CLASSES, gap_mask
    )


def sparse_labels(
    mask: np.ndarray,
    fraction: float = 0.16,
    fg_to_bg: float = 1 / 40,
    seed: int = 0,
    blob_size: int = 40,
    min_blobs: int = 8,
    stored: bool = False,
) -> np.ndarray:
    """Scribble-like sparse labels of a ground-truth mask (2D slice or 3D volume).

    About ``fraction`` of the pixels get their true class, in compact blobs of about
    ``blob_size`` pixels (at least ``min_blobs`` blobs per class, so a rare class is still
    sampled in several places, as a person scribbling would); foreground (every class > 0,
    shared equally) and background (class 0) pixels are in the ratio ``fg_to_bg``. The rest
    is unlabeled: ``UNLABELED`` (-1, int16) or, with ``stored=True``, ``UNLABELED_STORED``
    (255, uint8).
    """
    mask = np.asarray(mask)
    if not 0.0 < fraction <= 1.0:
        raise ParameterError("fraction", "must be in (0, 1]")
    if fg_to_bg <= 0:
        raise ParameterError("fg_to_bg", "must be > 0")
    if blob_size < 1:
        raise ParameterError("blob_size", "must be >= 1")
    if min_blobs < 1:
        raise ParameterError("min_blobs", "must be >= 1")
    if mask.size == 0 or mask.min() < 0 or mask.max() >= UNLABELED_STORED:
        raise ParameterError("mask", "must be a non-empty mask of classes 0..254")
    rng = np.random.default_rng(seed)
    total = fraction * mask.size
    foreground_total = total * fg_to_bg / (1.0 + fg_to_bg)
    classes = [int(c) for c in np.unique(mask)]
    foreground = [c for c in classes if c > 0]
    targets = {c: foreground_total / max(len(foreground), 1) for c in foreground}
    if 0 in classes:
        targets[0] = total - foreground_total
    labels = np.full(mask.shape, UNLABELED, dtype=np.int16)
    for klass, target in targets.items():
        region = mask == klass
        available = int(region.sum())
        count = min(int(round(target)), available)
        if count == 0:
            continue
        # Blobs: pixels nearest to a few random seeds (with jitter so blob edges are ragged).
        positions = np.flatnonzero(region)
        n_seeds = max(min_blobs, count // blob_size)
        seeds = rng.choice(positions, size=min(n_seeds, positions.size), replace=False)
        not_seed = np.ones(mask.shape, dtype=bool)
        not_seed.flat[seeds] = False
        distance = ndimage.distance_transform_edt(not_seed)[region]
        distance += rng.uniform(0.0, 1.5, size=distance.shape)
        chosen = positions[np.argsort(distance, kind="stable")[:count]]
        labels.flat[chosen] = klass
    if stored:
        return np.where(labels == UNLABELED, UNLABELED_STORED, labels).astype(np.uint8)
    return labels
