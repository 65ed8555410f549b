"""Data layer benchmark: a page of 100 thumbnails, and reading a volume from Tiled vs a file.

    python -m bench.data            # 100 thumbnails of 512x512 uint16 images; 512^3 uint16 volume
    python -m bench.data --quick    # 100 thumbnails of 256x256 images; 128^3 volume

Thumbnails: the real front-end server (threaded Flask) on a free port, 100 requests from 6
concurrent connections (what a browser opens), cold (no cache) and warm (memory cache).
Target: a warm page under 1 s. Volume: a Tiled server subprocess; the volume is written one
chunk per slice, then read slice by slice over HTTP, beside the same slices read from a TIFF
stack and a memory-mapped .npy file; the ratio file / Tiled is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

CONNECTIONS = 6


def make_images(folder: Path, count: int, size: int) -> None:
    """``count`` uint16 TIFF images of noise over a gradient."""
    import tifffile

    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 30000, size, dtype=np.float32)[np.newaxis, :]
    for index in range(count):
        image = (ramp + rng.normal(0, 2000, (size, size))).clip(0, 65535).astype(np.uint16)
        tifffile.imwrite(folder / f"image{index:04d}.tif", image)


def page_of_thumbnails(base_url: str, uri: str, count: int, size: int) -> float:
    """Seconds to fetch ``count`` thumbnails over ``CONNECTIONS`` parallel connections."""
    import httpx

    local = threading.local()

    def fetch(index: int) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60)
        params = {"uri": uri, "index": index, "size": size, "transform": "percentile"}
        response = local.client.get(f"{base_url}/thumbnails", params=params)
        response.raise_for_status()
        return len(response.content)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        sizes = list(pool.map(fetch, range(count)))
    elapsed = time.perf_counter() - started
    assert len(sizes) == count and min(sizes) > 0
    return elapsed


def bench_thumbnails(work: Path, image_size: int, count: int = 100) -> None:
    import logging

    from werkzeug.serving import make_server

    from tests.fixtures.env import free_port

    folder = work / "images"
    folder.mkdir()
    make_images(folder, count, image_size)
    os.environ["MLEX_HOME"] = str(work / "home")
    os.environ["MLEX_DATA_ROOTS"] = str(folder)
    from frontends.server import create_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = make_server("127.0.0.1", port, create_server(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        cold = page_of_thumbnails(base, str(folder), count, 128)
        warm = page_of_thumbnails(base, str(folder), count, 128)
    finally:
        server.shutdown()
    print(
        f"thumbnails: {count} x 128 px of {image_size}x{image_size} uint16 TIFFs, "
        f"{CONNECTIONS} connections"
    )
    print(f"  cold page  {cold:6.2f} s  ({count / cold:6.0f} thumbnails/s)")
    print(
        f"  warm page  {warm:6.2f} s  ({count / warm:6.0f} thumbnails/s)  target < 1 s: "
        f"{'met' if warm < 1.0 else 'NOT met'}"
    )


def read_slices(dataset: object, count: int) -> float:
    """Seconds to read every slice one by one."""
    started = time.perf_counter()
    total = 0
    for index in range(count):
        total += int(np.asarray(dataset[index]).nbytes)  # type: ignore[index]
    return time.perf_counter() - started


def bench_volume(work: Path, side: int) -> None:
    import tifffile

    from algorithms.data import open_dataset
    from algorithms.data.tiled_results import new_slice_chunked_array
    from algorithms.data.tiled_source import tiled_node
    from tests.fixtures.tiled import start_tiled_server

    rng = np.random.default_rng(1)
    volume = rng.integers(0, 65535, (side, side, side), dtype=np.uint16)
    megabytes = volume.nbytes / 2**20
    np.save(work / "volume.npy", volume)
    tifffile.imwrite(work / "volume.tif", volume, photometric="minisblack")

    server = start_tiled_server(work / "tiled")
    try:
        demo = tiled_node(f"{server.uri}/demo", server.api_key)
        started = time.perf_counter()
        node = new_slice_chunked_array(demo, "bench_volume", volume.shape, volume.dtype, {})
        for index in range(side):
            node.write_block(volume[index : index + 1], block=(index, 0, 0))
        write_s = time.perf_counter() - started
        remote = open_dataset(f"{server.uri}/demo/bench_volume", server.api_key)
        assert np.array_equal(remote[side // 2], volume[side // 2])
        tiled_s = read_slices(remote, side)
    finally:
        server.stop()
    tiff_s = read_slices(open_dataset(str(work / "volume.tif"), roots=[work]), side)
    npy_s = read_slices(open_dataset(str(work / "volume.npy"), roots=[work]), side)

    print(f"volume {side}^3 uint16 ({megabytes:.0f} MB), read slice by slice:")
    print(
        f"  Tiled (HTTP)     {tiled_s:7.3f} s  {megabytes / tiled_s:8.1f} MB/s"
        f"   (written in {write_s:.1f} s, {megabytes / write_s:.1f} MB/s)"
    )
    print(f"  TIFF file        {tiff_s:7.3f} s  {megabytes / tiff_s:8.1f} MB/s")
    print(f"  .npy (mmap)      {npy_s:7.3f} s  {megabytes / npy_s:8.1f} MB/s")
    print(
        f"  ratio TIFF file / Tiled: {tiled_s / tiff_s:.1f}x faster from the file; "
        f".npy / Tiled: {tiled_s / npy_s:.0f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.data", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small images and volume")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        bench_thumbnails(work, image_size=256 if args.quick else 512)
        bench_volume(work, side=128 if args.quick else 512)
    return 0


if __name__ == "__main__":
    sys.exit(main())
