"""Fixtures of the MLExContent tests: a real app on SQLite or PostgreSQL, its client, cards."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.content.app import create_app
from services.content.client import ContentClient
from services.content.models import ContentBase
from services.content.settings import ContentSettings
from tests.fixtures.db import (
    ADMIN_KEY,
    create_postgres_database,
    drop_postgres_database,
    key_headers,
    postgres_available,
)

# A card as a contributor would publish it over HTTP: no Python model behind it.
DEMO_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "depth": {
            "type": "integer",
            "minimum": 1,
            "maximum": 8,
            "default": 4,
            "ui": {"widget": "slider", "group": "architecture", "step": 1},
        },
        "activation": {
            "enum": ["relu", "tanh"],
            "default": "relu",
            "ui": {"widget": "dropdown", "group": "architecture"},
        },
        "learning_rate": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1,
            "default": 0.01,
            "ui": {"widget": "number", "group": "training", "step": 0.001},
        },
        "epochs": {
            "type": "integer",
            "minimum": 1,
            "default": 10,
            "ui": {"widget": "number", "group": "training"},
        },
        "augment": {
            "type": "boolean",
            "default": False,
            "ui": {"widget": "checkbox", "group": "data"},
        },
        "rotation": {
            "type": "number",
            "minimum": 0,
            "maximum": 180,
            "default": 0,
            "ui": {"widget": "slider", "group": "data", "visible_if": {"augment": True}},
        },
        "crop": {
            "anyOf": [{"type": "integer", "minimum": 8, "maximum": 1024}, {"type": "null"}],
            "default": None,
            "ui": {"widget": "number", "group": "inference"},
        },
        "tiling": {"$ref": "#/$defs/Tiling"},
    },
    "$defs": {
        "Tiling": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "window": {"type": "integer", "minimum": 16, "default": 64},
                "overlap": {"type": "integer", "minimum": 0, "default": 8},
            },
        }
    },
}

DEMO_DEFAULTS: dict[str, Any] = {
    "depth": 4,
    "activation": "relu",
    "learning_rate": 0.01,
    "epochs": 10,
    "augment": False,
    "rotation": 0,
    "crop": None,
    "tiling": {"window": 64, "overlap": 8},
}


def demo_card(**overrides: Any) -> dict[str, Any]:
    """A publishable card; keyword arguments replace its fields."""
    card: dict[str, Any] = {
        "name": "demo_unet",
        "version": "1.0.0",
        "application": "segmentation",
        "description": "A small U-Net for tests",
        "authors": ["Ada Lovelace"],
        "reference": "doi:10.0000/demo",
        "entry_point": "python -m demo_unet",
        "resources": {"gpu": "optional", "memory_gb": 4, "cpus": 2},
        "steps": ["train", "infer"],
        "inputs": ["data_uri", "labels_uri"],
        "outputs": ["mask", "model"],
        "parameters": copy.deepcopy(DEMO_PARAMETERS),
        "framework": "pytorch",
        "tags": ["unet"],
    }
    card.update(overrides)
    return card


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def content_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per backend for the whole run (creating one per test is slow on PostgreSQL);
    every test starts from empty content tables (see ``_empty_tables``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('content-db') / 'content.db'}"
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="session")
def content_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("content-home")


@pytest.fixture
def make_content_settings(content_database: str, content_home: Path) -> Callable[..., Any]:
    """Build ContentSettings on the shared test database; keyword arguments override fields."""

    def build(**overrides: Any) -> ContentSettings:
        values: dict[str, Any] = {
            "home": content_home,
            "database_url": content_database,
            "auth_database_url": content_database,
            "admin_api_key": ADMIN_KEY,
            "log_level": "WARNING",
            "register_builtins": False,
        }
        values.update(overrides)
        return ContentSettings(**values)

    return build


@pytest.fixture(scope="session")
def _running_app(content_database: str, content_home: Path) -> Iterator[tuple[FastAPI, TestClient]]:
    """The app, started once per backend (without built-in cards: their tests add them)."""
    settings = ContentSettings(
        home=content_home,
        database_url=content_database,
        auth_database_url=content_database,
        admin_api_key=ADMIN_KEY,
        log_level="WARNING",
        register_builtins=False,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield app, test_client


@pytest.fixture
def app(_running_app: tuple[FastAPI, TestClient]) -> Iterator[FastAPI]:
    """The running app, its content tables emptied first."""
    running, _ = _running_app
    empty_content_tables(running)
    running.state.validator.builtin_models.clear()
    yield running


@pytest.fixture
def client(app: FastAPI, _running_app: tuple[FastAPI, TestClient]) -> TestClient:
    """A client of the running app (after ``app`` emptied its tables)."""
    return _running_app[1]


def empty_content_tables(app: FastAPI) -> None:
    """Delete every row of the content tables (children first)."""
    models = ContentBase.metadata.tables["content_models"]
    with app.state.engine.begin() as connection:
        # Models point at their parents; unlink them so they can go in any order.
        connection.execute(models.update().values(parent_model_id=None))
        for table in reversed(ContentBase.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def contributor_headers(app: FastAPI) -> dict[str, str]:
    return key_headers(app, "carla", "contributor")


@pytest.fixture
def user_headers(app: FastAPI) -> dict[str, str]:
    return key_headers(app, "ulrich", "user")


@pytest.fixture
def worker_headers(app: FastAPI) -> dict[str, str]:
    return key_headers(app, "worker-1", "worker")


@pytest.fixture
def content(client: TestClient) -> ContentClient:
    """The typed client, as the bootstrap admin."""
    return ContentClient(api_key=ADMIN_KEY, http=client)


@pytest.fixture
def demo(client: TestClient, admin_headers: dict[str, str]) -> dict[str, Any]:
    """The demo card, published."""
    response = client.post("/api/v0/algorithms", json=demo_card(), headers=admin_headers)
    assert response.status_code == 201, response.text
    return response.json()
