"""The MLExContent app factory: algorithm registry and trained-model registry."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from services.common.app import ServiceDefinition, create_service_app
from services.content.builtins import load_builtin_algorithms, register_builtins
from services.content.routes import algorithms, models
from services.content.settings import ContentSettings, get_settings
from services.content.validation import ParameterValidator

if TYPE_CHECKING:
    from algorithms.registry import AlgorithmInfo

logger = logging.getLogger("mlex.content")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_content"

DESCRIPTION = """\
MLExContent publishes **algorithm cards** (what can run, its parameters as JSON Schema with UI
hints, what it needs) and registers **trained models** with their lineage (algorithm and
parameters, data sets, tagging events, training job, parent model, metrics).

Every request but `/health` needs `Authorization: Bearer <API key>`.
"""


def register_builtin_cards(app: FastAPI, infos: list[AlgorithmInfo] | None = None) -> None:
    """Start-up hook: publish the registry's cards and let the validator use their models.

    Args:
        infos: the cards to publish (default: every card of ``algorithms.registry``).
    """
    infos = load_builtin_algorithms() if infos is None else infos
    with app.state.sessions() as session:
        report = register_builtins(session, infos)
    app.state.validator.builtin_models.update(report.models)
    logger.info(
        "built-in algorithm cards ready",
        extra={
            "added": len(report.added),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
            "skipped": report.skipped,
        },
    )


def create_app(settings: ContentSettings | None = None) -> FastAPI:
    """Build the MLExContent API (`mlex api content` serves it on port 8001)."""
    settings = settings or get_settings()
    definition = ServiceDefinition(
        name="content",
        title="MLExContent",
        description=DESCRIPTION,
        migrations_dir=MIGRATIONS_DIR,
        version_table=VERSION_TABLE,
        routers=[algorithms.router, models.router],
        on_startup=[register_builtin_cards] if settings.register_builtins else [],
    )
    app = create_service_app(definition, settings)
    app.state.validator = ParameterValidator()
    return app
