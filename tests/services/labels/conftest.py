"""Fixtures for Splash ML tests: a real app on SQLite or PostgreSQL, and typed clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.labels.app import create_app
from services.labels.client import LabelsClient
from services.labels.schemas import DatasetPublic
from services.labels.settings import LabelsSettings
from tests.fixtures.db import ADMIN_KEY


@pytest.fixture
def labels_settings(make_settings: Callable[..., Any]) -> LabelsSettings:
    return make_settings(LabelsSettings, worker_job_check="off")


@pytest.fixture
def app(labels_settings: LabelsSettings) -> Iterator[FastAPI]:
    application = create_app(labels_settings)
    yield application
    application.state.engine.dispose()
    application.state.auth.engine.dispose()


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def admin(http: TestClient) -> LabelsClient:
    return LabelsClient(http=http, api_key=ADMIN_KEY)


def new_key(app: FastAPI, user: str, role: str) -> str:
    """A fresh API key for ``user`` (created with ``role`` if new)."""
    app.state.auth.ensure_user(user, role)
    key, _ = app.state.auth.create_key(user)
    return key


@pytest.fixture
def client_for(app: FastAPI, http: TestClient) -> Callable[[str, str], LabelsClient]:
    """``client_for("alice", "user")``: a typed client with alice's own key."""

    def build(user: str, role: str = "user") -> LabelsClient:
        return LabelsClient(http=http, api_key=new_key(app, user, role))

    return build


@dataclass
class Labeling:
    """A project with classes cat, dog, bird and a data set of 10 items, owned by alice."""

    client: LabelsClient
    dataset: DatasetPublic
    project: str = "beamline"


@pytest.fixture
def labeling(client_for: Callable[[str, str], LabelsClient]) -> Labeling:
    alice = client_for("alice", "user")
    alice.create_project("beamline")
    for name, key in (("cat", "c"), ("dog", "d"), ("bird", "b")):
        alice.create_class("beamline", name, hotkey=key)
    dataset = alice.create_dataset("beamline", "shapes", "/data/shapes", item_count=10)
    return Labeling(client=alice, dataset=dataset)


def shared_error(response: Any) -> dict[str, Any]:
    """The ``error`` object of a response in the shared shape (asserting the shape)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "request_id"} <= set(body["error"]), body
    return body["error"]


@pytest.fixture
def error_of() -> Callable[[Any], dict[str, Any]]:
    """``error_of(response)``: the error object, checked to be in the shared shape."""
    return shared_error
