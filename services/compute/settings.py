"""MLExCompute settings (``MLEX_*`` environment variables)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr

from services.common.settings import ServiceSettings


class ComputeSettings(ServiceSettings):
    """Settings of the compute API: database, broker, retry and reaper timings."""

    compute_database_url: str | None = Field(
        None, description="Database of jobs and workflows (default: the shared one or SQLite)"
    )
    broker_url: str | None = Field(
        None, description="Celery broker (redis://...); default: embedded filesystem broker"
    )
    broker_poll_interval: float = Field(
        0.1, gt=0, description="Polling interval of the embedded broker, seconds"
    )
    content_api_key: SecretStr | None = Field(
        None, description="Key for MLExContent calls (default: the admin key)"
    )
    job_max_attempts: int = Field(
        3, ge=1, description="Attempts before a job whose worker is lost is failed"
    )
    job_heartbeat_timeout: float = Field(
        30.0, gt=0, description="Seconds without a heartbeat before a running job's worker is lost"
    )
    job_reaper_interval: float = Field(
        5.0, gt=0, description="Seconds between sweeps for lost workers and lost messages"
    )
    job_resend_after: float = Field(
        120.0, gt=0, description="Seconds a queued job may wait unclaimed before it is re-sent"
    )
    job_time_limit: float = Field(
        86400.0, gt=0, description="Default wall-clock limit of a job, seconds"
    )
    job_log_lines: int = Field(2000, ge=10, description="Log lines kept per job (oldest dropped)")
    worker_stale_after: float = Field(
        30.0, gt=0, description="Seconds without a heartbeat before a worker is not listed"
    )
    reaper_enabled: bool = Field(True, description="Run the lost-worker reaper thread")

    def content_key(self) -> str | None:
        """The API key used for MLExContent."""
        key = self.content_api_key or self.admin_api_key
        return key.get_secret_value() if key else None


@lru_cache
def get_settings() -> ComputeSettings:
    """The process-wide compute settings (read once)."""
    return ComputeSettings()
