"""The argument list that runs an algorithm card's container image (docker or podman)."""

from __future__ import annotations

from pathlib import Path


def container_command(
    engine: str,
    image: str,
    step: str,
    spec_path: Path,
    work_dir: Path,
    *,
    name: str,
    gpu: str = "none",
    command: list[str] | None = None,
    volumes: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    gpu_devices: list[str] | None = None,
) -> list[str]:
    """``docker|podman run`` arguments for one run; no shell, every value its own argument.

    The work dir (with the spec) is mounted at the same path inside, as are ``volumes``
    (host path -> container path), so URIs in the spec stay valid. A card that needs or can
    use a GPU gets ``--gpus all`` on docker or the CDI device ``nvidia.com/gpu=all`` on podman
    (or the listed ``gpu_devices``).
    """
    engine_name = Path(engine).name
    arguments = [engine, "run", "--rm", "--name", name, "--init"]
    if gpu in ("required", "optional"):
        if engine_name == "podman":
            for device in gpu_devices or ["nvidia.com/gpu=all"]:
                arguments += ["--device", device]
        else:
            devices = ",".join(gpu_devices) if gpu_devices else "all"
            arguments += ["--gpus", devices if devices == "all" else f'"device={devices}"']
    mounts = {str(work_dir): str(work_dir), **(volumes or {})}
    for host, inside in mounts.items():
        arguments += ["--volume", f"{host}:{inside}"]
    for key, value in sorted((env or {}).items()):
        arguments += ["--env", f"{key}={value}"]
    arguments += ["--workdir", str(work_dir), image]
    arguments += [*(command or []), step, "--spec", str(spec_path)]
    return arguments


def stop_command(engine: str, name: str) -> list[str]:
    """Arguments that stop a named run (the engine's client dying does not stop it)."""
    return [engine, "kill", name]
