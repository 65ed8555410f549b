"""The app factory every MLEx API builds on: errors, logging, auth, database, health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from services.common.auth.store import AuthStore
from services.common.db import (
    check_database,
    make_engine,
    make_session_factory,
    upgrade_database,
)
from services.common.errors import ERROR_RESPONSES, install_error_handlers
from services.common.logs import RequestContextMiddleware, configure_logging
from services.common.settings import ServiceSettings
from services.common.version import __version__

API_PREFIX = "/api/v0"


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes one service: its name, its tables' migrations and its routers."""

    name: str
    title: str
    description: str
    migrations_dir: Path
    version_table: str
    routers: Sequence[APIRouter]
    on_startup: Sequence[Callable[[FastAPI], None]] = ()
    on_shutdown: Sequence[Callable[[FastAPI], None]] = ()


class DatabaseHealth(BaseModel):
    status: str
    backend: str


class Health(BaseModel):
    """The answer of ``GET /api/v0/health``."""

    status: str
    service: str
    version: str
    database: DatabaseHealth


def create_service_app(definition: ServiceDefinition, settings: ServiceSettings) -> FastAPI:
    """Build one API: engine and migrations, auth, middleware, error shape, health, routers."""
    configure_logging(settings.log_level, settings.log_format)
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.service_database_url(definition.name))
    if settings.migrate_on_start:
        upgrade_database(engine, definition.migrations_dir, definition.version_table)
    auth = AuthStore.from_url(
        settings.resolved_auth_database_url(),
        cache_seconds=settings.auth_cache_seconds,
        migrate=settings.migrate_on_start,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in definition.on_startup:
            hook(app)
        yield
        for hook in definition.on_shutdown:
            hook(app)
        engine.dispose()
        auth.engine.dispose()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.auth = auth
    app.state.service = definition.name
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, service=definition.name)

    @app.get(f"{API_PREFIX}/health", tags=["health"], response_model=Health)
    def health() -> Health:
        """Liveness and database state; needs no API key."""
        state = check_database(engine)
        return Health(
            status="ok" if state == "ok" else "degraded",
            service=definition.name,
            version=__version__,
            database=DatabaseHealth(status=state, backend=engine.dialect.name),
        )

    for router in definition.routers:
        app.include_router(router, prefix=API_PREFIX)
    return app

