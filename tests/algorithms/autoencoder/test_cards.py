"""The autoencoder card: DLSIA defaults, UI hints, feasibility checks, no torch at import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from algorithms.autoencoder.cards import AUTOENCODER, AutoencoderJobParameters


def test_card_fields() -> None:
    assert (AUTOENCODER.name, AUTOENCODER.version) == ("autoencoder", "1.0.0")
    assert AUTOENCODER.application == "latent_space"
    assert AUTOENCODER.steps == ("train", "infer")
    assert AUTOENCODER.gpu == "optional"
    assert AUTOENCODER.runner == "algorithms.autoencoder.runner:run"


def test_defaults_follow_the_paper_and_every_field_has_a_ui_hint() -> None:
    params = AutoencoderJobParameters()
    assert (params.depth, params.base_channels, params.latent_dim, params.input_size) == (
        4, 16, 16, 64,
    )
    assert set(params.network_parameters()) >= {"depth", "base_channels", "latent_dim"}
    assert "epochs" not in params.network_parameters()
    schema = AutoencoderJobParameters.model_json_schema()
    assert all("ui" in field for field in schema["properties"].values())


def test_infeasible_depth_and_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError) as error:
        AutoencoderJobParameters(input_size=48, depth=5)
    assert error.value.errors()[0]["loc"] == ("depth",)
    with pytest.raises(ValidationError):
        AutoencoderJobParameters(latent=3)


def test_card_module_imports_without_torch() -> None:
    code = "import sys, algorithms.autoencoder.cards; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
