"""Settings shared by every MLEx service, read from ``MLEX_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path("~/.local/share/mlex").expanduser()

# Default ports; `mlex up --base-port N` shifts all of them by N - 8000.
DEFAULT_PORTS: dict[str, int] = {
    "tiled": 8000,
    "content": 8001,
    "compute": 8002,
    "labels": 8003,
    "frontends": 8050,
}


class ServiceSettings(BaseSettings):
    """Settings common to the three APIs; each service subclasses it with its own fields."""

    model_config = SettingsConfigDict(env_prefix="MLEX_", extra="ignore")

    home: Path = Field(DEFAULT_HOME, description="Folder for SQLite files, data, models and logs")
    bind: str = Field("127.0.0.1", description="Address the servers listen on")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL used by every service that has no URL of its own"
    )
    auth_database_url: str | None = Field(
        None, description="Database of users and API keys, shared by all services"
    )
    admin_api_key: SecretStr | None = Field(
        None, description="Bootstrap admin key accepted by every service; never stored"
    )
    log_level: str = Field("INFO", description="Python logging level")
    log_format: Literal["json", "text"] = Field("json", description="Log line format")
    migrate_on_start: bool = Field(True, description="Run Alembic migrations when a service starts")
    auth_cache_seconds: float = Field(
        5.0, ge=0, description="How long a verified API key is trusted before it is checked again"
    )
    content_url: str = Field("http://127.0.0.1:8001", description="Base URL of MLExContent")
    compute_url: str = Field("http://127.0.0.1:8002", description="Base URL of MLExCompute")
    labels_url: str = Field("http://127.0.0.1:8003", description="Base URL of Splash ML")
    tiled_url: str = Field("http://127.0.0.1:8000", description="Base URL of the Tiled server")

    def sqlite_url(self, name: str) -> str:
        """The default SQLite URL of a database called ``name`` under ``home``."""
        return f"sqlite:///{self.home / (name + '.db')}"

    def service_database_url(self, service: str) -> str:
        """The URL of a service's database: its own setting, the shared one, or SQLite."""
        own = getattr(self, f"{service}_database_url", None)
        return own or self.database_url or self.sqlite_url(service)

    def resolved_auth_database_url(self) -> str:
        """The URL of the users-and-keys database."""
        return self.auth_database_url or self.database_url or self.sqlite_url("auth")


@lru_cache
def get_settings() -> ServiceSettings:
    """The process-wide common settings (read once)."""
    return ServiceSettings()
