"""The shared plumbing, through a small real service on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.app import create_service_app
from services.common.client import ApiClientError, BaseClient
from services.common.settings import ServiceSettings
from tests.fixtures.db import key_headers
from tests.services.common.sample_service.service import DEFINITION, ItemPublic


@pytest.fixture
def app(make_settings: Any) -> Any:
    return create_service_app(DEFINITION, make_settings(ServiceSettings))


@pytest.fixture
def client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def assert_error_shape(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["request_id"]


def test_health_needs_no_key_and_reports_database(client: TestClient, database_url: str) -> None:
    response = client.get("/api/v0/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["service"] == "sample"
    assert body["database"]["status"] == "ok"
    assert body["database"]["backend"] == (
        "sqlite" if database_url.startswith("sqlite") else "postgresql"
    )


def test_missing_and_wrong_keys_get_401(client: TestClient) -> None:
    missing = client.get("/api/v0/items")
    assert missing.status_code == 401
    assert_error_shape(missing.json(), "unauthorized")
    wrong = client.get("/api/v0/items", headers={"Authorization": "Bearer mlex_not_a_key"})
    assert wrong.status_code == 401
    assert_error_shape(wrong.json(), "unauthorized")


def test_wrong_role_gets_403(app: Any, client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/api/v0/items", json={"name": "a"}, headers=admin_headers)
    assert created.status_code == 201
    user = key_headers(app, "alice", "user")
    denied = client.delete(f"/api/v0/items/{created.json()['id']}", headers=user)
    assert denied.status_code == 403
    assert_error_shape(denied.json(), "forbidden")
    allowed = client.delete(f"/api/v0/items/{created.json()['id']}", headers=admin_headers)
    assert allowed.status_code == 204


def test_revoked_key_is_refused(app: Any, client: TestClient) -> None:
    app.state.auth.cache_seconds = 0
    app.state.auth.ensure_user("bob", "user")
    key, info = app.state.auth.create_key("bob")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v0/items", headers=headers).status_code == 200
    app.state.auth.revoke_key(str(info.id))
    assert client.get("/api/v0/items", headers=headers).status_code == 401


def test_keys_are_stored_hashed_and_never_logged(
    app: Any, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.state.auth.ensure_user("carol", "user")
    key, _ = app.state.auth.create_key("carol")
    logger = logging.getLogger("mlex")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="mlex"):
            client.get("/api/v0/items", headers={"Authorization": f"Bearer {key}"})
    finally:
        logger.removeHandler(caplog.handler)
    assert caplog.records, "the request should have been logged"
    assert key not in caplog.text
    with app.state.auth.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT key_hash, prefix FROM mlex_api_keys").all()
    assert rows and all(key not in (row[0] + row[1]) for row in rows)


def test_validation_errors_name_every_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post("/api/v0/items", json={"name": "", "size": 99}, headers=admin_headers)
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "validation_error")
    fields = {detail["field"] for detail in body["error"]["details"]}
    assert fields == {"name", "size"}
    assert body["error"]["field"] in fields


def test_404_409_and_500_share_the_shape(client: TestClient, admin_headers: dict[str, str]) -> None:
    missing = client.get("/api/v0/items/999", headers=admin_headers)
    assert missing.status_code == 404
    assert_error_shape(missing.json(), "not_found")
    client.post("/api/v0/items", json={"name": "dup"}, headers=admin_headers)
    dup = client.post("/api/v0/items", json={"name": "dup"}, headers=admin_headers)
    assert dup.status_code == 409
    assert_error_shape(dup.json(), "conflict")
    assert dup.json()["error"]["field"] == "name"
    boom = client.get("/api/v0/boom", headers=admin_headers)
    assert boom.status_code == 500
    assert_error_shape(boom.json(), "internal_error")
    assert "secret internal detail" not in boom.text
    unknown_route = client.get("/api/v0/nowhere", headers=admin_headers)
    assert unknown_route.status_code == 404
    assert_error_shape(unknown_route.json(), "not_found")


def test_pagination_and_client_iteration(client: TestClient, admin_headers: dict[str, str]) -> None:
    for index in range(7):
        client.post("/api/v0/items", json={"name": f"item-{index}"}, headers=admin_headers)
    page = client.get("/api/v0/items?offset=2&limit=3", headers=admin_headers).json()
    assert page["total"] == 7 and page["offset"] == 2 and page["limit"] == 3
    assert [item["name"] for item in page["items"]] == ["item-2", "item-3", "item-4"]
    bad = client.get("/api/v0/items?limit=0", headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "limit"
    typed = BaseClient(api_key=admin_headers["Authorization"].split()[1], http=client)
    names = [item.name for item in typed.iterate("/items", ItemPublic, page_size=2)]
    assert names == [f"item-{i}" for i in range(7)]
    with pytest.raises(ApiClientError) as error:
        typed.get_json("/items/12345")
    assert error.value.status_code == 404 and error.value.code == "not_found"


def test_request_id_is_returned_and_echoed(client: TestClient) -> None:
    response = client.get("/api/v0/health", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert client.get("/api/v0/health").headers["x-request-id"]


def test_migrations_run_twice_are_a_no_op(make_settings: Any) -> None:
    settings = make_settings(ServiceSettings)
    first = create_service_app(DEFINITION, settings)
    second = create_service_app(DEFINITION, settings)
    assert TestClient(second).get("/api/v0/health").json()["database"]["status"] == "ok"
    first.state.engine.dispose()
