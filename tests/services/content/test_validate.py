"""Validating parameter sets against a card published over HTTP (JSON Schema only)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.services.content.conftest import DEMO_DEFAULTS, demo_card

VALIDATE = "/api/v0/algorithms/demo_unet/1.0.0/validate"


def validate(client: TestClient, headers: dict[str, str], parameters: Any) -> Any:
    return client.post(VALIDATE, json={"parameters": parameters}, headers=headers)


def test_validate_fills_every_default(
    client: TestClient, user_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    response = validate(client, user_headers, {})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "algorithm": "demo_unet",
        "version": "1.0.0",
        "parameters": DEMO_DEFAULTS,
        "deprecated": False,
        "model_id": None,
    }


def test_validate_keeps_given_values_and_fills_the_rest_nested_too(
    client: TestClient, user_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    given = {"depth": 6, "crop": 256, "tiling": {"window": 128}}
    response = validate(client, user_headers, given)
    assert response.status_code == 200
    assert response.json()["parameters"] == {
        **DEMO_DEFAULTS,
        "depth": 6,
        "crop": 256,
        "tiling": {"window": 128, "overlap": 8},
    }


@pytest.mark.parametrize(
    ("parameters", "field", "words"),
    [
        ({"depth": 9}, "parameters.depth", "maximum"),  # out of range
        ({"learning_rate": 0}, "parameters.learning_rate", "minimum"),  # exclusive bound
        ({"crop": 4}, "parameters.crop", "minimum"),  # optional field, out of range
        ({"epochs": "ten"}, "parameters.epochs", "not of type"),  # wrong type
        ({"augment": 1}, "parameters.augment", "not of type"),
        ({"tiling": {"window": 8}}, "parameters.tiling.window", "minimum"),  # nested
        ({"depht": 3}, "parameters.depht", "unknown field"),  # unknown field
        ({"tiling": {"size": 3}}, "parameters.tiling.size", "unknown field"),
        ({"activation": "gelu"}, "parameters.activation", "is not one of"),  # enum
    ],
)
def test_each_kind_of_bad_value_is_a_422_naming_the_field(
    client: TestClient,
    user_headers: dict[str, str],
    demo: dict[str, Any],
    parameters: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = validate(client, user_headers, parameters)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == field
    assert [d["field"] for d in error["details"]] == [field]
    assert words in error["details"][0]["message"]
    assert field in error["message"]


def test_every_bad_field_is_reported_at_once(
    client: TestClient, user_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    bad = {
        "depth": 0,
        "activation": "swish",
        "learning_rate": "fast",
        "epochs": 2.5,
        "colour": "red",
        "tiling": {"overlap": -1},
    }
    response = validate(client, user_headers, bad)
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [d["field"] for d in details] == [
        "parameters.activation",
        "parameters.colour",
        "parameters.depth",
        "parameters.epochs",
        "parameters.learning_rate",
        "parameters.tiling.overlap",
    ]
    assert all(d["message"] for d in details)


def test_validate_refuses_a_parameter_set_that_is_not_an_object_and_unknown_cards(
    client: TestClient, user_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    response = validate(client, user_headers, [1, 2])
    assert response.status_code == 422 and response.json()["error"]["field"] == "parameters"
    unknown = client.post(
        "/api/v0/algorithms/demo_unet/7.0.0/validate", json={}, headers=user_headers
    )
    assert unknown.status_code == 404
    body_field = client.post(VALIDATE, json={"params": {}}, headers=user_headers)
    assert body_field.status_code == 422 and body_field.json()["error"]["field"] == "params"


def test_validate_reports_deprecation(
    client: TestClient, admin_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    client.patch(
        "/api/v0/algorithms/demo_unet/1.0.0", json={"deprecated": True}, headers=admin_headers
    )
    response = validate(client, admin_headers, {})
    assert response.status_code == 200 and response.json()["deprecated"] is True


def test_a_required_field_without_default_is_named_when_missing(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    parameters = {
        "type": "object",
        "required": ["threshold"],
        "properties": {
            "threshold": {"type": "number", "ui": {"widget": "number"}},
            "invert": {"type": "boolean", "default": False},
        },
    }
    card = demo_card(name="needs_threshold", parameters=parameters)
    assert client.post("/api/v0/algorithms", json=card, headers=admin_headers).status_code == 201
    path = "/api/v0/algorithms/needs_threshold/1.0.0/validate"
    missing = client.post(path, json={"parameters": {}}, headers=admin_headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"] == [
        {"field": "parameters.threshold", "message": "field required"}
    ]
    given = client.post(path, json={"parameters": {"threshold": 0.5}}, headers=admin_headers)
    assert given.json()["parameters"] == {"threshold": 0.5, "invert": False}
