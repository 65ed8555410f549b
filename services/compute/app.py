"""The MLExCompute app factory (``mlex api compute`` runs it with uvicorn)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.common.app import ServiceDefinition, create_service_app
from services.common.client import BaseClient
from services.compute.cards import ContentCards
from services.compute.queue import Dispatcher, Reaper
from services.compute.routes import jobs, workers, workflows
from services.compute.settings import ComputeSettings, get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_compute"


def _start(app: FastAPI) -> None:
    settings: ComputeSettings = app.state.settings
    if settings.reaper_enabled:
        app.state.reaper.start()


def _stop(app: FastAPI) -> None:
    app.state.reaper.stop()
    app.state.dispatcher.close()


def create_app(
    settings: ComputeSettings | None = None, content_client: BaseClient | None = None
) -> FastAPI:
    """Build MLExCompute.

    Args:
        settings: the service's settings (default: read from the environment).
        content_client: a client for MLExContent (tests pass one on the content app's
            TestClient); default: HTTP to ``settings.content_url``.
    """
    settings = settings or get_settings()
    definition = ServiceDefinition(
        name="compute",
        title="MLExCompute",
        description="Jobs and workflows on Celery workers: submit, follow, cancel, retry.",
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        routers=[jobs.router, workflows.router, workers.router],
        on_startup=[_start],
        on_shutdown=[_stop],
    )
    app = create_service_app(definition, settings)
    content = content_client or BaseClient(settings.content_url, settings.content_key())
    app.state.cards = ContentCards(content)
    app.state.dispatcher = Dispatcher(settings, app.state.sessions)
    dispatcher = app.state.dispatcher
    app.state.reaper = Reaper(settings, app.state.sessions, dispatcher.send, dispatcher.waiting)
    return app
