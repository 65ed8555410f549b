"""The built-in algorithm registry.

Each algorithm is described by an :class:`AlgorithmInfo`: its card fields plus a pydantic
parameter model. MLExContent imports this module at start-up to publish the cards, so this module
and every parameter model it names must import without torch, TensorFlow or scikit-learn: the
code that runs an algorithm is referenced by a dotted path (``runner``) and imported only when the
entry point runs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

Application = Literal[
    "segmentation", "latent_space", "classification", "dimension_reduction", "clustering"
]
Step = Literal["train", "infer", "run"]
GpuNeed = Literal["required", "optional", "none"]


@dataclass(frozen=True)
class AlgorithmInfo:
    """One algorithm as the registry and MLExContent know it."""

    name: str
    version: str
    application: Application
    description: str
    parameters: type[BaseModel]
    runner: str  # "package.module:function", called as function(spec, events)
    steps: tuple[Step, ...] = ("run",)
    authors: tuple[str, ...] = ("MLEx developers",)
    reference: str = ""
    gpu: GpuNeed = "none"
    memory_gb: float = 2.0
    cpus: int = 1
    inputs: tuple[str, ...] = ("data_uri",)
    outputs: tuple[str, ...] = ()
    framework: str = "none"
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def queue(self) -> str:
        """The Celery queue a job of this algorithm goes to."""
        return "gpu" if self.gpu == "required" else "cpu"

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON Schema (with UI hints) of the parameter model."""
        return self.parameters.model_json_schema()

    def load_runner(self) -> Callable[..., Any]:
        """Import and return the function that runs this algorithm."""
        module_name, _, function_name = self.runner.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, function_name)


class UnknownAlgorithmError(KeyError):
    """No algorithm of that name (and version) is registered."""

    def __init__(self, name: str, version: str | None = None) -> None:
        self.name = name
        self.version = version
        label = f"{name} {version}" if version else name
        super().__init__(f"unknown algorithm: {label}")

    def __str__(self) -> str:
        return self.args[0]


_REGISTRY: dict[tuple[str, str], AlgorithmInfo] = {}
_BUILTINS_LOADED = False

# Modules that register built-in algorithms when imported. Each must be importable without the
# heavy science stack (see the module docstring).
BUILTIN_MODULES: tuple[str, ...] = (
    "algorithms.networks.cards",
    "algorithms.classical.cards",
    "algorithms.latent.cards",
    "algorithms.autoencoder.cards",
    "algorithms.classification.cards",
)


def register(info: AlgorithmInfo) -> AlgorithmInfo:
    """Add an algorithm to the registry (idempotent for an identical entry)."""
    key = (info.name, info.version)
    existing = _REGISTRY.get(key)
    if existing is not None and existing != info:
        raise ValueError(f"algorithm {info.name} {info.version} is already registered")
    _REGISTRY[key] = info
    return info


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    for module_name in BUILTIN_MODULES:
        importlib.import_module(module_name)


def list_algorithms(application: str | None = None) -> list[AlgorithmInfo]:
    """All registered algorithms, optionally of one application, sorted by name and version."""
    _load_builtins()
    items = sorted(_REGISTRY.values(), key=lambda info: (info.name, _version_key(info.version)))
    if application is not None:
        items = [info for info in items if info.application == application]
    return items


def get_algorithm(name: str, version: str | None = None) -> AlgorithmInfo:
    """The algorithm of that name, at that version or the newest one."""
    _load_builtins()
    if version is not None:
        try:
            return _REGISTRY[(name, version)]
        except KeyError:
            raise UnknownAlgorithmError(name, version) from None
    versions = [info for (n, _), info in _REGISTRY.items() if n == name]
    if not versions:
        raise UnknownAlgorithmError(name)
    return max(versions, key=lambda info: _version_key(info.version))


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
