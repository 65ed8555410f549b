"""Settings: MLEX_ prefix, database URL resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.settings import ServiceSettings


def test_defaults_use_sqlite_files_under_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLEX_HOME", str(tmp_path))
    settings = ServiceSettings()
    assert settings.home == tmp_path
    assert settings.service_database_url("labels") == f"sqlite:///{tmp_path / 'labels.db'}"
    assert settings.resolved_auth_database_url() == f"sqlite:///{tmp_path / 'auth.db'}"
    assert settings.bind == "127.0.0.1"


def test_shared_database_url_applies_to_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLEX_DATABASE_URL", "postgresql+psycopg://db/mlex")
    settings = ServiceSettings()
    assert settings.service_database_url("content") == "postgresql+psycopg://db/mlex"
    assert settings.resolved_auth_database_url() == "postgresql+psycopg://db/mlex"


def test_admin_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLEX_ADMIN_API_KEY", "very-secret")
    settings = ServiceSettings()
    assert "very-secret" not in repr(settings)
    assert settings.admin_api_key is not None
    assert settings.admin_api_key.get_secret_value() == "very-secret"
