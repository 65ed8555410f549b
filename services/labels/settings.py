"""Settings of Splash ML, the label store (``MLEX_*`` environment variables)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from services.common.settings import ServiceSettings


class LabelsSettings(ServiceSettings):
    """Splash ML settings: its own database URL and how worker keys are checked."""

    labels_database_url: str | None = Field(
        None, description="SQLAlchemy URL of the label store (else MLEX_DATABASE_URL, else SQLite)"
    )
    worker_job_check: Literal["auto", "required", "off"] = Field(
        "auto",
        description=(
            "How a worker key's job is verified when it creates an event: 'required' asks "
            "MLExCompute and refuses when it does not answer, 'auto' asks when it answers, "
            "'off' never asks"
        ),
    )
    worker_job_check_timeout: float = Field(
        3.0, gt=0, description="Seconds to wait for MLExCompute when checking a worker's job"
    )
    max_tags_per_request: int = Field(
        100_000, ge=1, description="Most tags one bulk write may carry"
    )


@lru_cache
def get_settings() -> LabelsSettings:
    """The process-wide Splash ML settings (read once)."""
    return LabelsSettings()
