"""Worker settings (``MLEX_*`` environment variables)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr

from services.common.settings import ServiceSettings


class WorkerSettings(ServiceSettings):
    """Where a worker finds the broker and the APIs, and how it runs jobs."""

    broker_url: str | None = Field(
        None, description="Celery broker (redis://...); default: embedded filesystem broker"
    )
    broker_poll_interval: float = Field(0.1, gt=0, description="Embedded broker polling, s")
    worker_api_key: SecretStr | None = Field(
        None, description="Key of a user with role worker (default: the admin key)"
    )
    worker_report_interval: float = Field(
        0.5, gt=0, description="Seconds between event batches / job heartbeats (cancel checks)"
    )
    worker_beat_interval: float = Field(
        5.0, gt=0, description="Seconds between the worker's own heartbeats (GET /workers)"
    )
    worker_work_dir: Path | None = Field(None, description="Scratch root (default: home/work)")
    worker_kill_grace: float = Field(
        2.0, ge=0, description="Seconds between SIGTERM and SIGKILL when a run is stopped"
    )
    worker_container_engine: str = Field(
        "docker", description="docker or podman, for cards that name an image"
    )
    job_time_limit: float = Field(86400.0, gt=0, description="Longest a run may take, seconds")
    results_uri: str | None = Field(
        None, description="Results container or folder (default: Tiled's `results` container)"
    )
    tiled_api_key: SecretStr | None = Field(None, description="Key for the Tiled server")

    def api_key(self) -> str | None:
        key = self.worker_api_key or self.admin_api_key
        return key.get_secret_value() if key else None

    def resolved_results_uri(self) -> str:
        return self.results_uri or f"{self.tiled_url.rstrip('/')}/api/v1/metadata/results"

    def work_root(self) -> Path:
        return self.worker_work_dir or self.home / "work"

    def model_dir(self, job_id: str) -> Path:
        return self.home / "models" / job_id


@lru_cache
def get_settings() -> WorkerSettings:
    """The process-wide worker settings (read once)."""
    return WorkerSettings()
