"""The container runner's argument list (no engine runs here)."""

from __future__ import annotations

from pathlib import Path

from workers.container import container_command, stop_command

IMAGE = "ghcr.io/mlex/seg:1.0@sha256:" + "a" * 64


def test_docker_gpu_run_mounts_work_dir_and_passes_the_spec() -> None:
    work = Path("/srv/mlex/jobs/job1/attempt-1")
    arguments = container_command(
        "docker",
        IMAGE,
        "train",
        work / "spec.json",
        work,
        name="mlex-job1-1",
        gpu="required",
        command=["python", "-m", "seg"],
        volumes={"/data": "/data"},
        env={"B": "2", "A": "1"},
    )
    assert arguments[:6] == ["docker", "run", "--rm", "--name", "mlex-job1-1", "--init"]
    assert arguments[arguments.index("--gpus") + 1] == "all"
    assert f"{work}:{work}" in arguments and "/data:/data" in arguments
    assert arguments[arguments.index("--env") + 1] == "A=1"  # sorted, one argument each
    tail = [IMAGE, "python", "-m", "seg", "train", "--spec", str(work / "spec.json")]
    assert arguments[-7:] == tail
    assert all(isinstance(a, str) for a in arguments)


def test_podman_uses_cdi_devices_and_cpu_cards_get_none() -> None:
    work = Path("/w")
    gpu = container_command(
        "/usr/bin/podman", IMAGE, "infer", work / "s.json", work, name="n", gpu="optional"
    )
    assert gpu[gpu.index("--device") + 1] == "nvidia.com/gpu=all"
    assert "--gpus" not in gpu
    cpu = container_command("docker", IMAGE, "run", work / "s.json", work, name="n")
    assert "--gpus" not in cpu and "--device" not in cpu
    assert cpu[-4:] == [IMAGE, "run", "--spec", "/w/s.json"]


def test_chosen_gpu_devices_and_stop() -> None:
    work = Path("/w")
    podman = container_command(
        "podman",
        IMAGE,
        "run",
        work / "s",
        work,
        name="n",
        gpu="required",
        gpu_devices=["nvidia.com/gpu=0", "nvidia.com/gpu=1"],
    )
    assert podman.count("--device") == 2
    assert stop_command("docker", "mlex-x-1") == ["docker", "kill", "mlex-x-1"]
