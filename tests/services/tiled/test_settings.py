"""Tiled settings: environment, data roots, the API key kept in the home."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.tiled.settings import TiledSettings


def test_settings_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("MLEX_HOME", str(tmp_path / "home"))
    roots = os.pathsep.join(
        [str(tmp_path / "a"), "", str(tmp_path / "missing"), str(tmp_path / "b")]
    )
    monkeypatch.setenv("MLEX_DATA_ROOTS", roots)
    monkeypatch.setenv("MLEX_TILED_PUBLIC", "true")
    monkeypatch.setenv("MLEX_TILED_URL", "http://tiled:9000")

    settings = TiledSettings()

    assert settings.roots == [(tmp_path / "a").resolve(), (tmp_path / "b").resolve()]
    assert settings.tiled_public is True
    assert settings.tiled_url == "http://tiled:9000"
    assert settings.catalog_uri == f"sqlite:///{tmp_path / 'home' / 'tiled' / 'catalog.db'}"
    assert settings.writable_dir == tmp_path / "home" / "tiled" / "data"


def test_no_roots_means_none_served(tmp_path: Path) -> None:
    assert TiledSettings(home=tmp_path).roots == []


def test_api_key_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = TiledSettings(home=tmp_path)

    assert settings.api_key() is None
    key = settings.api_key(create=True)

    assert key is not None and key.isalnum() and len(key) >= 32
    assert TiledSettings(home=tmp_path).api_key() == key
    mode = (tmp_path / "tiled" / "api_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_configured_api_key_wins_and_must_be_alphanumeric(tmp_path: Path) -> None:
    assert TiledSettings(home=tmp_path, tiled_api_key="abc123").api_key(create=True) == "abc123"
    with pytest.raises(ValidationError, match="letters and digits"):
        TiledSettings(home=tmp_path, tiled_api_key="not-url-safe_key")
