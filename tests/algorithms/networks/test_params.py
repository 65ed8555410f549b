"""Parameter models: torch-free import, defaults valid, UI hints on every field."""

from __future__ import annotations

import subprocess
import sys

import pytest

from algorithms.networks.params import PARAMETER_MODELS


@pytest.mark.parametrize("name", sorted(PARAMETER_MODELS))
def test_defaults_valid_and_every_field_has_a_ui_hint(name: str) -> None:
    model = PARAMETER_MODELS[name]
    assert model().model_dump() == model.model_validate(model().model_dump()).model_dump()
    schema = model.model_json_schema()
    for field, spec in schema["properties"].items():
        assert "ui" in spec, f"{name}.{field} has no UI hint"
        assert "default" in spec


def test_paper_defaults() -> None:
    msd = PARAMETER_MODELS["msdnet"]()
    assert (msd.layers, msd.width, msd.max_dilation) == (100, 1, 10)
    tunet = PARAMETER_MODELS["tunet"]()
    assert (tunet.depth, tunet.base_channels, tunet.growth_rate, tunet.hidden_rate) == (
        4, 64, 2.0, 1.0)
    sms = PARAMETER_MODELS["smsnet"]()
    assert (sms.depth, sms.k_min, sms.k_max, sms.ll_gamma, sms.ll_alpha) == (
        20, 1, 5, (0.0, 0.5), (0.75, 1.0))
    assert (sms.p_il, sms.p_lo, sms.p_io) == (1.0, 1.0, True)
    auto = PARAMETER_MODELS["autoencoder"]()
    assert (auto.input_size, auto.depth, auto.base_channels, auto.latent_dim) == (64, 4, 16, 16)


@pytest.mark.slow
def test_params_and_package_import_without_torch() -> None:
    code = ("import sys, algorithms.networks, algorithms.networks.params; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
