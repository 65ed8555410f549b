"""Settings of MLExContent, read from ``MLEX_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from services.common.settings import ServiceSettings


class ContentSettings(ServiceSettings):
    """MLExContent settings: its own database URL and whether built-in cards are published."""

    content_database_url: str | None = Field(
        None, description="SQLAlchemy URL of the content database (MLEX_CONTENT_DATABASE_URL)"
    )
    register_builtins: bool = Field(
        True, description="Publish the built-in algorithm cards at start-up"
    )


@lru_cache
def get_settings() -> ContentSettings:
    """The process-wide content settings (read once)."""
    return ContentSettings()
