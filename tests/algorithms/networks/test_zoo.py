"""Every registered network: forward/backward in 2D and 3D, shapes, save/load round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from algorithms.errors import InputDataError, ParameterError
from algorithms.networks import (
    count_parameters,
    create_model,
    list_models,
    load_model,
    save_model,
)
from algorithms.networks.params import PARAMETER_MODELS

MODELS = ["autoencoder", "msdnet", "smsnet", "smsnet_ensemble", "tunet", "tunet3plus"]


def test_registry_lists_every_network() -> None:
    assert list_models() == MODELS
    assert set(PARAMETER_MODELS) == set(MODELS)


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("name", MODELS)
def test_forward_backward_shapes(name: str, ndim: int, tiny: dict, make_input: Any) -> None:
    model = create_model(name, tiny[name], in_channels=1, out_channels=3, ndim=ndim)
    x = make_input(name, ndim).requires_grad_(True)
    out = model(x)
    expected_channels = 1 if name == "autoencoder" else 3
    assert out.shape == (x.shape[0], expected_channels, *x.shape[2:])
    out.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", MODELS)
def test_save_load_round_trip_is_exact(name: str, tmp_path: Path, tiny: dict,
                                       make_input: Any) -> None:
    model = create_model(name, tiny[name], in_channels=1, out_channels=3, ndim=2)
    x = make_input(name, 2)
    model.train()
    model(x).sum().backward()  # batch-norm running statistics move away from their defaults
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.01)
    model.eval()
    path = save_model(tmp_path / "net.pt", model, name, tiny[name], extra={"epochs": 3})
    loaded, loaded_name, params, extra = load_model(path)
    assert loaded_name == name
    assert params == PARAMETER_MODELS[name](**tiny[name])
    assert extra == {"epochs": 3}
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert count_parameters(loaded) == count_parameters(model)


@pytest.mark.parametrize("name", MODELS)
def test_defaults_build(name: str) -> None:
    model = create_model(name)
    assert count_parameters(model) > 0


def test_autoencoder_latent_features(tiny: dict, make_input: Any) -> None:
    model = create_model("autoencoder", tiny["autoencoder"]).eval()
    x = make_input("autoencoder", 2)
    z = model.forward_features(x)
    assert z.shape == (2, 8)
    with torch.no_grad():
        assert torch.equal(model.decode(model.encode(x)), model(x))


@pytest.mark.parametrize("name", ["msdnet", "tunet", "tunet3plus"])
def test_forward_features_feed_the_head(name: str, tiny: dict, make_input: Any) -> None:
    model = create_model(name, tiny[name], in_channels=2, out_channels=3).eval()
    x = make_input(name, 2, channels=2)
    features = model.forward_features(x)
    assert features.shape[0] == 2 and features.shape[2:] == x.shape[2:]
    with torch.no_grad():
        head = model.final if name == "msdnet" else model.head
        torch.testing.assert_close(head(features), model(x))


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("msdnet", {"layers": 0}, "layers"),
        ("msdnet", {"dilations": [1, 0]}, "dilations"),
        ("msdnet", {"max_dilation": 0}, "max_dilation"),
        ("tunet", {"depth": 0}, "depth"),
        ("tunet3plus", {"base_channels": 0}, "base_channels"),
        ("smsnet", {"k_min": 4, "k_max": 2}, "k_max"),
        ("smsnet", {"dilation_choices": [0]}, "dilation_choices"),
        ("autoencoder", {"input_size": 16, "depth": 5}, "depth"),
        ("autoencoder", {"input_size": 24, "depth": 4}, "depth"),
        ("tunet", {"depth": 2, "unknown": 1}, "unknown"),
    ],
)
def test_bad_parameters_name_the_field(name: str, params: dict, field: str) -> None:
    with pytest.raises(ParameterError) as error:
        create_model(name, params)
    assert error.value.field == field


def test_unknown_model_and_bad_ndim(tiny: dict) -> None:
    with pytest.raises(ParameterError) as error:
        create_model("resnet")
    assert error.value.field == "model"
    with pytest.raises(ParameterError) as error:
        create_model("msdnet", tiny["msdnet"], ndim=4)
    assert error.value.field == "ndim"


def test_autoencoder_channels_come_from_its_parameters(tiny: dict, make_input: Any) -> None:
    model = create_model("autoencoder", {**tiny["autoencoder"], "in_channels": 2})
    assert model(make_input("autoencoder", 2, channels=2)).shape[1] == 2
    with pytest.raises(ParameterError) as error:
        create_model("autoencoder", tiny["autoencoder"], in_channels=3)
    assert error.value.field == "in_channels"


def test_load_rejects_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(InputDataError):
        load_model(path)
    with pytest.raises(InputDataError):
        load_model(tmp_path / "missing.pt")
