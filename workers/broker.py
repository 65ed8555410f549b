"""The Celery application both sides share: the API sends tasks by name, workers run them.

This module imports Celery and pydantic only (never torch), so MLExCompute can send jobs
without the science stack. The broker is Redis in production (``MLEX_BROKER_URL``) or, by
default, kombu's ``filesystem://`` transport with folders under ``MLEX_HOME/broker``, which
needs no server.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from kombu import Queue
from pydantic import BaseModel, Field

TASK_NAME = "mlex.run_job"
QUEUES: tuple[str, ...] = ("cpu", "gpu")
MAX_PRIORITY = 9


class RunJobMessage(BaseModel):
    """The arguments of one ``mlex.run_job`` task (sent as JSON)."""

    job_id: str = Field(..., description="The MLExCompute job to run")
    attempt: int = Field(..., ge=1, description="Which attempt this message is for")


def filesystem_folders(home: Path) -> dict[str, Path]:
    """The folders of the embedded broker under MLEX_HOME."""
    root = home / "broker"
    return {
        "queue": root / "queue",
        "processed": root / "processed",
        "control": root / "control",
    }


def resolve_broker_url(broker_url: str | None) -> str:
    """The broker URL: the configured one or the embedded ``filesystem://`` broker."""
    return broker_url or "filesystem://"


def make_celery(
    broker_url: str | None, home: Path, poll_interval: float = 0.1, name: str = "mlex"
) -> Celery:
    """Build the Celery app for a broker URL (``None`` or ``filesystem://``: embedded)."""
    url = resolve_broker_url(broker_url)
    app = Celery(name, broker=url, set_as_current=False)
    options: dict[str, object] = {}
    if url.startswith("filesystem"):
        folders = filesystem_folders(home)
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        options = {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "store_processed": False,
            "polling_interval": poll_interval,
        }
    elif url.startswith(("redis", "rediss")):
        options = {
            # Higher MLEx priority means sooner; Celery on Redis runs 0 first.
            "priority_steps": list(range(MAX_PRIORITY + 1)),
            "queue_order_strategy": "priority",
            "sep": ":",
            "visibility_timeout": 3600,
        }
    app.conf.update(
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_default_queue="cpu",
        task_queues=[Queue(name, routing_key=name) for name in QUEUES],
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
        broker_heartbeat=0,
    )
    return app


def celery_priority(priority: int) -> int:
    """Map an MLEx priority (0 lowest .. 9 highest) to Celery's (0 runs first)."""
    return MAX_PRIORITY - max(0, min(MAX_PRIORITY, priority))
