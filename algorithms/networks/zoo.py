"""timm-style network zoo: register, create, count, save and load networks by name."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from pydantic import BaseModel, ValidationError
from torch import nn

from algorithms.errors import InputDataError, ParameterError
from algorithms.networks.layers import check_ndim
from algorithms.networks.params import PARAMETER_MODELS

FILE_FORMAT = "mlex-network/1"
_ARCHITECTURE_MODULES = ("msdnet", "tunet", "tunet3plus", "smsnet", "ensemble", "autoencoder")


class Builder(Protocol):
    """Build a network: ``build(params, in_channels, out_channels, ndim, architecture)``."""

    def __call__(self, params: Any, in_channels: int, out_channels: int, ndim: int,
                 architecture: dict[str, Any] | None = None) -> nn.Module: ...


@dataclass(frozen=True)
class ModelEntry:
    """A registered network: its name, builder and parameter model."""

    name: str
    build: Builder
    parameters: type[BaseModel]


_MODELS: dict[str, ModelEntry] = {}
_LOADED = False


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering a builder under ``name`` with its model from ``PARAMETER_MODELS``."""

    def decorate(build: Builder) -> Builder:
        _MODELS[name] = ModelEntry(name, build, PARAMETER_MODELS[name])
        return build

    return decorate


def _load_builtins() -> None:
    global _LOADED
    if not _LOADED:
        for module in _ARCHITECTURE_MODULES:
            importlib.import_module(f"algorithms.networks.{module}")
        _LOADED = True


def list_models() -> list[str]:
    """Names of the registered networks, sorted."""
    _load_builtins()
    return sorted(_MODELS)


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; unknown names raise ParameterError('model')."""
    _load_builtins()
    if name not in _MODELS:
        raise ParameterError("model", f"unknown network {name!r}; known: {', '.join(_MODELS)}")
    return _MODELS[name]


def validate_params(name: str, params: BaseModel | Mapping[str, Any] | None) -> BaseModel:
    """Validate ``params`` (model, dict or None for defaults) for network ``name``.

    Pydantic errors become a ParameterError naming the first offending field.
    """
    model = get_model_entry(name).parameters
    try:
        if params is None:
            return model()
        if isinstance(params, BaseModel):
            return model.model_validate(params.model_dump())
        return model.model_validate(dict(params))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "parameters"
        raise ParameterError(field, first["msg"]) from error


def create_model(name: str, params: BaseModel | Mapping[str, Any] | None = None,
                 in_channels: int | None = None, out_channels: int | None = None,
                 ndim: int = 2, architecture: dict[str, Any] | None = None) -> nn.Module:
    """Build network ``name`` from its parameters.

    Args:
        params: a parameter model, a dict validated against it, or None for the defaults.
        in_channels: input channels (default 1; the autoencoder defaults to its own
            ``in_channels`` parameter).
        out_channels: output channels, i.e. classes (default 2; the autoencoder reconstructs
            its input and ignores this).
        ndim: 2 for images (N, C, Y, X), 3 for volumes (N, C, Z, Y, X).
        architecture: a drawn architecture (SMSNet graph) to rebuild instead of drawing one.
    """
    entry = get_model_entry(name)
    validated = validate_params(name, params)
    check_ndim(ndim)
    c_in = 1 if in_channels is None else in_channels
    c_out = 2 if out_channels is None else out_channels
    if name == "autoencoder":
        own = validated.in_channels  # type: ignore[attr-defined]
        if in_channels is not None and in_channels != own:
            raise ParameterError("in_channels", f"{in_channels} differs from parameters' {own}")
        c_in = c_out = own
    if c_in < 1:
        raise ParameterError("in_channels", "must be >= 1")
    if c_out < 1:
        raise ParameterError("out_channels", "must be >= 1")
    model = entry.build(validated, c_in, c_out, ndim, architecture)
    model.zoo_config = {  # type: ignore[assignment]
        "name": name, "in_channels": c_in, "out_channels": c_out, "ndim": ndim,
    }
    return model


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def architecture_of(model: nn.Module) -> dict[str, Any] | None:
    """The drawn architecture a model needs to be rebuilt (SMSNet graphs), or None."""
    method = getattr(model, "architecture_state", None)
    return method() if callable(method) else None


def save_model(path: str | Path, model: nn.Module, name: str, params: BaseModel | Mapping[str,
               Any] | None, extra: dict[str, Any] | None = None) -> Path:
    """Save weights, parameters, channels, ndim and drawn graph of ``model`` to one file.

    ``extra`` (metrics, class names...) must hold only plain Python values and tensors.
    """
    validated = validate_params(name, params)
    config = getattr(model, "zoo_config", None) or {}
    if not config:
        raise ParameterError("model", "was not built by create_model; channels/ndim unknown")
    payload = {
        "format": FILE_FORMAT,
        "name": name,
        "params": validated.model_dump(mode="json"),
        "in_channels": config["in_channels"],
        "out_channels": config["out_channels"],
        "ndim": config["ndim"],
        "architecture": architecture_of(model),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": extra or {},
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, target)
    return target


def load_model(path: str | Path, map_location: str | torch.device = "cpu",
               ) -> tuple[nn.Module, str, BaseModel, dict[str, Any]]:
    """Load a file written by :func:`save_model`: ``(model, name, params, extra)``."""
    try:
        payload = torch.load(Path(path), map_location=map_location, weights_only=True)
    except (OSError, RuntimeError, EOFError) as error:
        raise InputDataError(f"cannot read network file {path}: {error}", field="model") from error
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
        raise InputDataError(f"{path} is not an MLEx network file", field="model")
    name = payload["name"]
    model = create_model(name, payload["params"], in_channels=payload["in_channels"],
                         out_channels=payload["out_channels"], ndim=payload["ndim"],
                         architecture=payload["architecture"])
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, name, validate_params(name, payload["params"]), payload["extra"]
