"""Sample files in every format the data layer reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """``img1.png, img2.png, img10.png`` (16x24 uint8, value = number) and ``stack.tif``
    (3 pages of 16x24 uint16, values 100, 101, 102)."""
    import tifffile
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for number in (10, 2, 1):
        Image.fromarray(np.full((16, 24), number, dtype=np.uint8)).save(folder / f"img{number}.png")
    stack = np.stack([np.full((16, 24), 100 + i, dtype=np.uint16) for i in range(3)])
    tifffile.imwrite(folder / "stack.tif", stack, photometric="minisblack")
    (folder / "notes.txt").write_text("not an image, ignored in folders")
    return folder


@pytest.fixture
def volume() -> np.ndarray:
    """A (6, 20, 30) float32 volume whose slice k holds values k*1000 + pixel index."""
    return (np.arange(6 * 20 * 30, dtype=np.float32).reshape(6, 20, 30) % 600) + np.repeat(
        np.arange(6, dtype=np.float32) * 1000, 600
    ).reshape(6, 20, 30)
