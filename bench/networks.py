"""Throughput and peak memory of the zoo networks on CPU: training steps and inference.

Run ``python -m bench.networks`` (or ``--quick`` for a small smoke run). Each configuration runs
in its own child process so that its peak resident memory (``ru_maxrss``) is its own; the
figure printed is that peak, and the resident memory right after importing torch and building
the network is printed beside it, so the difference is what the step itself needs.
Training step = forward, loss (cross-entropy; MSE for the autoencoder), backward, Adam step.
Images/s = batch size / median step time over the timed repetitions (one warm-up first).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

CONFIGS: dict[str, dict[str, Any]] = {
    "msdnet-20": {"model": "msdnet", "params": {"layers": 20}},
    "msdnet-50": {"model": "msdnet", "params": {"layers": 50}},
    "msdnet-50-plain": {"model": "msdnet", "params": {"layers": 50}, "plain": True},
    "tunet-d4-b32": {"model": "tunet", "params": {"depth": 4, "base_channels": 32}},
    "smsnet-20": {"model": "smsnet", "params": {"depth": 20}},
    "autoencoder-64": {"model": "autoencoder", "params": {}},
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, batch: int, size: int, reps: int, threads: int) -> dict[str, Any]:
    """Time training steps and inference of one configuration in this process."""
    import torch

    from algorithms.networks import count_parameters, create_model

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = CONFIGS[name]
    model = create_model(config["model"], config["params"], in_channels=1, out_channels=2)
    if config.get("plain"):
        model.implementation = "plain"
    autoencoder = config["model"] == "autoencoder"
    side = model.input_size if autoencoder else size
    x = torch.randn(batch, 1, side, side)
    target = x if autoencoder else torch.randint(0, 2, (batch, side, side))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    baseline = _rss_mb()

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        if autoencoder:
            loss = torch.nn.functional.mse_loss(out, target)
        else:
            loss = torch.nn.functional.cross_entropy(out, target)
        loss.backward()
        optimizer.step()

    def timed(function: Any) -> tuple[float, float]:
        function()  # warm-up
        walls, cpus = [], []
        for _ in range(reps):
            start, cpu = time.perf_counter(), time.process_time()
            function()
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        return statistics.median(walls), statistics.median(cpus)

    model.train()
    train, train_cpu = timed(train_step)
    model.eval()
    with torch.no_grad():
        infer, infer_cpu = timed(lambda: model(x))
    return {
        "name": name, "parameters": count_parameters(model), "input": list(x.shape),
        "train_images_per_s": batch / train, "infer_images_per_s": batch / infer,
        "train_cpu_s_per_image": train_cpu / batch, "infer_cpu_s_per_image": infer_cpu / batch,
        "rss_baseline_mb": baseline, "rss_peak_mb": _rss_mb(),
    }


def count_table() -> str:
    """Markdown table of parameter counts of the standard configurations (1 in, 2 out, 2D)."""
    from algorithms.networks import count_parameters, create_model

    rows = []
    for name in ("tunet", "tunet3plus"):
        for depth in (3, 4):
            for base in (16, 32, 64):
                model = create_model(name, {"depth": depth, "base_channels": base})
                rows.append((name, f"depth {depth}, base {base}", count_parameters(model)))
    for layers in (50, 100, 200):
        model = create_model("msdnet", {"layers": layers})
        rows.append(("msdnet", f"{layers} layers, width 1, max dilation 10",
                     count_parameters(model)))
    single = create_model("msdnet", {"layers": 200}, out_channels=1)
    rows.append(("msdnet", "200 layers, 1 output channel", count_parameters(single)))
    counts = [count_parameters(create_model("smsnet", {"seed": seed})) for seed in range(5)]
    rows.append(("smsnet", "defaults (d 20, 10 channels), seeds 0-4",
                 " / ".join(f"{c:,}" for c in counts)))
    rows.append(("smsnet_ensemble", "defaults (5 members)",
                 count_parameters(create_model("smsnet_ensemble"))))
    for depth in (3, 4):
        for base in (16, 32):
            for latent in (16, 300):
                model = create_model("autoencoder", {"input_size": 64, "depth": depth,
                                                     "base_channels": base,
                                                     "latent_dim": latent})
                rows.append(("autoencoder", f"64x64, depth {depth}, base {base}, "
                                            f"latent {latent}", count_parameters(model)))
    lines = ["| network | configuration | parameters |", "| --- | --- | ---: |"]
    for name, configuration, count in rows:
        shown = f"{count:,}" if isinstance(count, int) else count
        lines.append(f"| {name} | {configuration} | {shown} |")
    return "\n".join(lines)


def main() -> None:
    """Run every configuration in a child process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small smoke run (1 x 64 x 64)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), default=None)
    parser.add_argument("--counts", action="store_true",
                        help="print the parameter-count table of the docs and exit")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.counts:
        print(count_table())
        return
    batch, size = (1, 64) if args.quick else (4, 256)
    reps = args.reps or (2 if args.quick else 5)
    if args.child:
        print(json.dumps(measure(args.child, batch, size, reps, args.threads)))
        return
    names = args.only or list(CONFIGS)
    # Idle OpenMP threads sleep instead of spinning: on a shared CPU spinning threads burn the
    # time slices the working ones need (x10 slower steps seen on a loaded 2-core machine).
    environment = {**os.environ}
    environment.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"CPU ({os.cpu_count()} cores, load average {load}), {args.threads} threads, "
          f"batch {batch} x 1 x {size} x {size} (autoencoder at its input size), "
          f"median of {reps}, OMP_WAIT_POLICY={environment['OMP_WAIT_POLICY']}")
    print(f"{'network':<18}{'params':>10}{'train img/s':>13}{'infer img/s':>13}"
          f"{'train CPU s/img':>17}{'infer CPU s/img':>17}{'peak RSS MB':>13}{'(base MB)':>11}")
    results = {}
    for name in names:
        command = [sys.executable, "-m", "bench.networks", "--child", name,
                   "--threads", str(args.threads), "--reps", str(reps)]
        if args.quick:
            command.append("--quick")
        completed = subprocess.run(command, capture_output=True, text=True, check=False,
                                   env=environment)
        if completed.returncode != 0:
            print(f"{name:<18} failed: {completed.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        results[name] = result
        print(f"{name:<18}{result['parameters']:>10,}{result['train_images_per_s']:>13.2f}"
              f"{result['infer_images_per_s']:>13.2f}{result['train_cpu_s_per_image']:>17.3f}"
              f"{result['infer_cpu_s_per_image']:>17.3f}{result['rss_peak_mb']:>13.0f}"
              f"{result['rss_baseline_mb']:>11.0f}")
    fast, plain = results.get("msdnet-50"), results.get("msdnet-50-plain")
    if fast and plain:
        train_ratio = fast["train_images_per_s"] / plain["train_images_per_s"]
        infer_ratio = fast["infer_images_per_s"] / plain["infer_images_per_s"]
        cpu_ratio = plain["train_cpu_s_per_image"] / fast["train_cpu_s_per_image"]
        print(f"MSDNet-50 fast / plain: training x{train_ratio:.1f} (CPU time x{cpu_ratio:.1f}), "
              f"inference x{infer_ratio:.1f}, peak RSS {fast['rss_peak_mb']:.0f} MB vs "
              f"{plain['rss_peak_mb']:.0f} MB")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end: {load}. CPU s/img is the process CPU time (all threads); "
          "wall-clock img/s drops when the machine is shared.")


if __name__ == "__main__":
    main()
