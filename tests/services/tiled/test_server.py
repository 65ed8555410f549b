"""The MLEx catalog served by the real Tiled app (in memory)."""

from __future__ import annotations

import numpy as np

from services.tiled.server import CONTAINERS, prepare_catalog
from tests.fixtures.tiled import InProcessTiled


def test_catalog_has_the_standard_containers(tiled_in_process: InProcessTiled) -> None:
    keys = set(tiled_in_process.client)

    assert set(CONTAINERS) <= keys


def test_data_root_registered_without_links_out(tiled_in_process: InProcessTiled) -> None:
    root = tiled_in_process.client["data/root"]

    assert "escape" not in root  # a symlink to a file outside the root
    assert root["image0"].shape == (48, 64)  # PNG, read through Pillow
    assert root["stack"].shape == (5, 48, 64)


def test_registered_files_are_served_not_copied(tiled_in_process: InProcessTiled) -> None:
    tiled = tiled_in_process
    writable = tiled.settings.writable_dir
    before = sorted(p.name for p in writable.rglob("*"))

    image = tiled.client["data/root/image2"].read()

    assert image.dtype == np.uint8
    assert sorted(p.name for p in writable.rglob("*")) == before
    assert (tiled.data_root / "image2.png").exists()


def test_preparing_again_keeps_results(tiled_in_process: InProcessTiled) -> None:
    tiled = tiled_in_process
    results = tiled.client["results"]
    if "kept" not in results:
        results.create_container("kept")

    prepare_catalog(tiled.client, tiled.settings)

    assert "kept" in tiled.client["results"]
    assert sorted(tiled.client["data/root"]) == ["image0", "image1", "image2", "stack"]
