"""Write the synthetic demo data sets into the ``demo/`` container of a Tiled server.

``demo/shapes`` (+ ``shapes_labels``, ``shapes_masks``), ``demo/scattering`` (+ the table
``scattering_labels``, kept aside for evaluation), ``demo/foam/<variant>`` volumes and
``demo/foam/ground_truth``. Idempotent: what exists is skipped unless ``force``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from algorithms.data.tiled_results import write_slice_chunked
from services.tiled.settings import get_settings

DEMO_CONTAINER = "demo"


@dataclass(frozen=True)
class DemoSizes:
    """How much demo data to generate."""

    shapes: int = 1000
    shape_size: int = 64
    scattering: int = 2000
    scattering_size: int = 64
    foam_shape: tuple[int, int, int] = (32, 128, 128)


SMALL = DemoSizes(shapes=40, scattering=40, foam_shape=(8, 64, 64))


def _connect(client_or_uri: Any, api_key: str | None) -> Any:
    if not isinstance(client_or_uri, str):
        return client_or_uri
    from algorithms.data.tiled_source import tiled_node

    return tiled_node(client_or_uri, api_key or get_settings().api_key())


def _container(parent: Any, key: str, metadata: dict[str, Any] | None = None) -> Any:
    if key not in parent:
        try:
            parent.create_container(key, metadata=metadata or {})
        except Exception:
            if key not in parent:  # someone else made it in the meantime: fine
                raise
    return parent[key]


def write_demo_data(
    client_or_uri: Any,
    api_key: str | None = None,
    force: bool = False,
    sizes: DemoSizes = DemoSizes(),
    log: Callable[[str], None] = print,
) -> list[str]:
    """Write the demo data sets; returns the keys written (skipped ones are left out).

    Args:
        client_or_uri: a Tiled client node or a server URI.
        force: rewrite data sets that already exist.
    """
    from algorithms.data import synthetic

    root = _connect(client_or_uri, api_key)
    demo = _container(root, DEMO_CONTAINER, {"description": "MLEx synthetic demo data"})
    written: list[str] = []

    def wanted(container: Any, key: str) -> bool:
        if key in container:
            if not force:
                log(f"demo/{key}: exists, skipped")
                return False
            container.delete_contents(key, recursive=True, external_only=False)
        return True

    def put(
        container: Any, key: str, array: np.ndarray, metadata: dict[str, Any], where: str = ""
    ) -> None:
        write_slice_chunked(container, key, array, metadata)
        written.append(where + key)
        log(f"demo/{where}{key}: wrote {array.shape} {array.dtype}")

    if wanted(demo, "shapes"):
        shapes = synthetic.random_shapes(sizes.shapes, size=sizes.shape_size, seed=0)
        classes = list(shapes.class_names)
        info = {"description": "random shapes (DLSIA clustering study)", "class_names": classes}
        for key in ("shapes_labels", "shapes_masks"):
            if key in demo:
                demo.delete_contents(key, recursive=True, external_only=False)
        put(demo, "shapes_labels", shapes.labels.astype(np.int64), info)
        put(demo, "shapes_masks", shapes.masks, {**info, "mask_values": "0 background, 1+class"})
        put(demo, "shapes", shapes.images, {**info, "labels": "demo/shapes_labels"})

    if wanted(demo, "scattering"):
        import pandas as pd

        patterns = synthetic.scattering_patterns(
            sizes.scattering, size=sizes.scattering_size, seed=0
        )
        table = pd.DataFrame(
            {
                "index": np.arange(len(patterns.images)),
                "label": [patterns.class_names[i] for i in patterns.dominant],
                **{
                    name: patterns.flags[:, column]
                    for column, name in enumerate(patterns.feature_names)
                },
            }
        )
        if "scattering_labels" in demo:
            demo.delete_contents("scattering_labels", recursive=True, external_only=False)
        demo.write_table(
            table,
            key="scattering_labels",
            metadata={"class_names": list(patterns.class_names), "for": "demo/scattering"},
        )
        written.append("scattering_labels")
        put(
            demo,
            "scattering",
            patterns.images,
            {
                "description": "scattering-like patterns (rings, arcs, peaks, streaks)",
                "class_names": list(patterns.class_names),
                "labels": "demo/scattering_labels (kept aside for evaluation)",
                "transform": "log",
            },
        )

    foam = _container(demo, "foam", {"description": "foam phantom: variants and ground truth"})
    needed = [v for v in (*synthetic.FOAM_VARIANTS, "ground_truth") if force or v not in foam]
    if needed:
        volume, mask = synthetic.foam_phantom(sizes.foam_shape, seed=0)
        variants = synthetic.foam_variants(volume, seed=0)
        for key in needed:
            if key in foam:
                foam.delete_contents(key, recursive=True, external_only=False)
            if key == "ground_truth":
                put(foam, key, mask.astype(np.uint8), {"classes": ["solid", "pore"]}, "foam/")
            else:
                put(foam, key, variants[key].astype(np.float32), {"variant": key}, "foam/")
    else:
        log("demo/foam: exists, skipped")
    return written


def main(argv: list[str] | None = None) -> int:
    """``mlex demo-data [--uri URI] [--api-key KEY] [--force] [--small]``."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="mlex demo-data", description=__doc__)
    parser.add_argument("--uri", default=settings.tiled_url, help="Tiled server URL")
    parser.add_argument("--api-key", default=None, help="Tiled API key (default: MLEx's)")
    parser.add_argument("--force", action="store_true", help="rewrite existing data sets")
    parser.add_argument("--small", action="store_true", help="a few images only (tests)")
    args = parser.parse_args(argv)
    try:
        write_demo_data(
            args.uri,
            api_key=args.api_key,
            force=args.force,
            sizes=SMALL if args.small else DemoSizes(),
        )
    except Exception as error:
        print(f"mlex demo-data: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
