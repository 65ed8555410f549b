"""Tiling benchmark: unstitch + stitch time and peak memory, MLEx tiling next to qlty.

Run ``python bench/tiling.py`` (2048^2 image in 256-windows, 512^3 volume in 128-windows) or
``python bench/tiling.py --quick`` (512^2 and 128^3). Each measurement runs in its own process so
peak memory (max RSS above the process's baseline after the input exists) is not shared; the best
of ``--repeats`` processes is shown. Both libraries are warmed up on a tiny case first (thread
pools, qlty's numba kernels). ``mlex-stream`` pushes the same windows through the streaming
inference path (an identity "model"), which keeps only open regions in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CASES = {
    "2d": {"shape": (1, 1, 2048, 2048), "window": 256, "step": 128, "border": 16},
    "3d": {"shape": (1, 1, 512, 512, 512), "window": 128, "step": 64, "border": 16},
    "2d-quick": {"shape": (1, 1, 512, 512), "window": 64, "step": 32, "border": 4},
    "3d-quick": {"shape": (1, 1, 128, 128, 128), "window": 32, "step": 16, "border": 4},
}
BORDER_WEIGHT = 0.1


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measure(impl: str, case: str) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(2)
    config = CASES[case]
    shape, window, step, border = (
        config["shape"],
        config["window"],
        config["step"],
        config["border"],
    )
    ndim = len(shape) - 2
    data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    if impl.startswith("mlex"):
        from algorithms.tiling import make_grid, stitch, unstitch

        small = make_grid((16,) * ndim, 8, 4, 1, BORDER_WEIGHT)  # start thread pools, as qlty's
        stitch(unstitch(np.zeros((1, 1) + (16,) * ndim, np.float32), small), small)  # warm-up
    if impl == "mlex":
        grid = make_grid(shape[2:], window, step, border, BORDER_WEIGHT)
        baseline = _current_rss_mb()
        began = time.perf_counter()
        windows = unstitch(data, grid)
        cut = time.perf_counter()
        restored = stitch(windows, grid)
        done = time.perf_counter()
        count = windows.shape[0]
    elif impl == "mlex-stream":
        from algorithms.tiling import make_grid, predict_slices, predict_volume

        grid = make_grid(shape[2:], window, step, border, BORDER_WEIGHT)
        restored = np.empty_like(data)
        baseline = _current_rss_mb()
        began = time.perf_counter()
        if ndim == 3:

            def keep(z0: int, block: np.ndarray) -> None:
                restored[0, :, z0 : z0 + block.shape[1]] = block

            predict_volume(lambda a, b: data[0, :, a:b], lambda x: x, grid, keep, batch_size=8)
        else:

            def keep_slice(i: int, block: np.ndarray) -> None:
                restored[i] = block

            predict_slices(lambda i: data[i], shape[0], lambda x: x, grid, keep_slice, 16)
        cut = done = time.perf_counter()
        count = len(grid) * shape[0]
    else:
        import qlty.qlty2D
        import qlty.qlty3D

        tensor = torch.from_numpy(data)
        if ndim == 2:
            warm = qlty.qlty2D.NCYXQuilt(64, 64, (32, 32), (16, 16), 4, BORDER_WEIGHT)
            warm.stitch(warm.unstitch(torch.zeros(1, 1, 64, 64)))  # numba compiles here
            quilt = qlty.qlty2D.NCYXQuilt(
                shape[2], shape[3], (window,) * 2, (step,) * 2, border, BORDER_WEIGHT
            )
        else:
            quilt = qlty.qlty3D.NCZYXQuilt(
                *shape[2:], (window,) * 3, (step,) * 3, border, BORDER_WEIGHT
            )
        baseline = _current_rss_mb()
        began = time.perf_counter()
        windows = quilt.unstitch(tensor)
        cut = time.perf_counter()
        restored, _ = quilt.stitch(windows)
        done = time.perf_counter()
        count = windows.shape[0]
        restored = restored.numpy()
    error = float(np.max(np.abs(np.asarray(restored) - data)))
    return {
        "impl": impl,
        "case": case,
        "windows": int(count),
        "unstitch_s": cut - began,
        "stitch_s": done - cut,
        "total_s": done - began,
        "peak_extra_mb": _rss_mb() - baseline,
        "input_mb": data.nbytes / 2**20,
        "max_abs_error": error,
    }


def _run(impl: str, case: str, repeats: int) -> dict:
    """Best of ``repeats`` fresh processes (times and peak memory vary with page faulting)."""
    runs = []
    for _ in range(repeats):
        command = [sys.executable, __file__, "--worker", impl, case]
        completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if completed.returncode != 0:
            return {"impl": impl, "case": case, "error": completed.stderr.strip().splitlines()[-1:]}
        runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda row: row["total_s"])
    best["peak_extra_mb"] = min(row["peak_extra_mb"] for row in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small cases (seconds)")
    parser.add_argument("--cases", nargs="*", help="case names to run (default: all of the size)")
    parser.add_argument("--repeats", type=int, default=3, help="processes per measurement")
    parser.add_argument("--worker", nargs=2, metavar=("IMPL", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_measure(*args.worker)))
        return
    cases = args.cases or (["2d-quick", "3d-quick"] if args.quick else ["2d", "3d"])
    header = f"{'case':9} {'impl':12} {'windows':>7} {'unstitch s':>10} {'stitch s':>9} "
    print(header + f"{'total s':>8} {'peak MB':>8} {'max err':>9}")
    for case in cases:
        rows = {impl: _run(impl, case, args.repeats) for impl in ("mlex", "mlex-stream", "qlty")}
        for impl, row in rows.items():
            if "error" in row:
                print(f"{case:9} {impl:12} failed: {row['error']}")
                continue
            print(
                f"{case:9} {impl:12} {row['windows']:7d} {row['unstitch_s']:10.3f} "
                f"{row['stitch_s']:9.3f} {row['total_s']:8.3f} {row['peak_extra_mb']:8.0f} "
                f"{row['max_abs_error']:9.1e}"
            )
        ours, theirs = rows["mlex"], rows["qlty"]
        if "error" not in ours and "error" not in theirs:
            print(
                f"{case:9} qlty/mlex time ratio {theirs['total_s'] / ours['total_s']:.2f}, "
                f"peak memory ratio {theirs['peak_extra_mb'] / max(ours['peak_extra_mb'], 1):.2f}"
            )


if __name__ == "__main__":
    main()
