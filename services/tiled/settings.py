"""Settings of the Tiled server and its clients, read from ``MLEX_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path("~/.local/share/mlex").expanduser()
API_KEY_FILENAME = "api_key"


class TiledSettings(BaseSettings):
    """Where the catalog lives, which folders are served, and how clients authenticate."""

    model_config = SettingsConfigDict(env_prefix="MLEX_", extra="ignore")

    home: Path = Field(DEFAULT_HOME, description="MLEx home; the catalog is under <home>/tiled")
    data_roots: str = Field(
        "",
        description="Folders served read-only, separated by os.pathsep; nothing outside is served",
    )
    tiled_api_key: SecretStr | None = Field(
        None, description="API key of the Tiled server (generated and kept in the home if unset)"
    )
    tiled_public: bool = Field(False, description="Allow reading without an API key")
    tiled_url: str = Field("http://127.0.0.1:8000", description="Base URL of the Tiled server")

    @field_validator("tiled_api_key")
    @classmethod
    def _alphanumeric(cls, value: SecretStr | None) -> SecretStr | None:
        # Tiled refuses to start with other characters (they are ambiguous in ?api_key=...).
        if value is not None and not value.get_secret_value().isalnum():
            raise ValueError("MLEX_TILED_API_KEY must contain only letters and digits")
        return value

    @property
    def roots(self) -> list[Path]:
        """The data roots as resolved paths (missing folders are left out)."""
        items = [item.strip() for item in self.data_roots.split(os.pathsep) if item.strip()]
        folders = [Path(item).expanduser() for item in items]
        return [folder.resolve() for folder in folders if folder.is_dir()]

    @property
    def tiled_dir(self) -> Path:
        """Folder of the SQLite catalog and the writable data."""
        return self.home.expanduser() / "tiled"

    @property
    def catalog_uri(self) -> str:
        """SQLAlchemy URI of the catalog database."""
        return f"sqlite:///{self.tiled_dir / 'catalog.db'}"

    @property
    def writable_dir(self) -> Path:
        """Where Tiled stores arrays and tables written by clients."""
        return self.tiled_dir / "data"

    def api_key(self, create: bool = False) -> str | None:
        """The API key: ``MLEX_TILED_API_KEY``, else the one kept in the home.

        With ``create`` a new random key is generated and kept (mode 0600) when there is none.
        """
        if self.tiled_api_key is not None:
            return self.tiled_api_key.get_secret_value()
        path = self.tiled_dir / API_KEY_FILENAME
        if path.exists():
            return path.read_text().strip() or None
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(24)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
        return key


@lru_cache
def get_settings() -> TiledSettings:
    """The process-wide settings (read once)."""
    return TiledSettings()
