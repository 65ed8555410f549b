"""Built-in algorithm cards: registered at start-up, idempotently, with schemas that round-trip."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from algorithms.registry import AlgorithmInfo
from algorithms.ui import ui
from services.content.app import create_app, register_builtin_cards
from services.content.builtins import builtin_schema, load_builtin_algorithms
from services.content.parameters import normalise
from tests.services.content.conftest import demo_card

API = "/api/v0"

# The built-in algorithms the platform ships, by application. Clustering and dimension
# reduction names are matched by the method they contain (k-means is also a segmentation card).
EXPECTED_SEGMENTATION = {
    "random_forest",
    "kmeans",
    "threshold",
    "msdnet",
    "tunet",
    "tunet3plus",
    "smsnet_ensemble",
}
EXPECTED_METHODS = {
    "latent_space": ["autoencoder"],
    "classification": ["keras_classifier"],
    "dimension_reduction": ["pca", "umap"],
    "clustering": ["kmeans", "hdbscan", "dbscan"],
}


class RangeParameters(BaseModel):
    """A parameter model with a check a JSON Schema cannot say (high >= low)."""

    low: int = Field(1, ge=0, le=100, json_schema_extra=ui("number", group="architecture"))
    high: int = Field(5, ge=0, le=100, json_schema_extra=ui("number", group="architecture"))
    rate: float = Field(0.5, gt=0, le=1, json_schema_extra=ui("slider", group="training"))

    @field_validator("high")
    @classmethod
    def _ordered(cls, value: int, info: ValidationInfo) -> int:
        if value < info.data.get("low", 0):
            raise ValueError("must be >= low")
        return value


RANGE_CARD = AlgorithmInfo(
    name="range_test",
    version="0.1.0",
    application="clustering",
    description="A built-in card defined by the tests",
    parameters=RangeParameters,
    runner="tests.nowhere:run",
    gpu="required",
)


def builtin_app(make_content_settings: Callable[..., Any]) -> FastAPI:
    """A new app on the test database that registers the built-in cards when it starts."""
    return create_app(make_content_settings(register_builtins=True))


def snapshot(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    page = client.get(
        f"{API}/algorithms", params={"include_deprecated": "true", "limit": 1000}, headers=headers
    )
    return page.json()["items"]


def test_builtin_registration_twice_is_a_no_op(
    app: FastAPI, make_content_settings: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    # Start-up registers the registry's cards ...
    with TestClient(builtin_app(make_content_settings)) as client:
        register_builtin_cards(client.app, [RANGE_CARD])  # type: ignore[arg-type]
        first = snapshot(client, admin_headers)
        register_builtin_cards(client.app)  # type: ignore[arg-type]
        register_builtin_cards(client.app, [RANGE_CARD])  # type: ignore[arg-type]
        assert snapshot(client, admin_headers) == first
    # ... and a restart on the same database registers nothing new.
    with TestClient(builtin_app(make_content_settings)) as client:
        restarted = snapshot(client, admin_headers)
    assert restarted == first
    assert len([card for card in first if card["builtin"]]) == len(load_builtin_algorithms()) + 1
    card = next(card for card in first if card["name"] == "range_test")
    assert card["queue"] == "gpu" and card["created_by"] == "mlex"
    assert card["entry_point"] == "python -m algorithms run range_test"


def test_a_builtin_changed_without_a_new_version_is_brought_up_to_date(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    register_builtin_cards(app, [RANGE_CARD])
    changed = dataclasses.replace(RANGE_CARD, description="Better words")
    register_builtin_cards(app, [changed])
    card = client.get(f"{API}/algorithms/range_test/0.1.0", headers=admin_headers).json()
    assert card["description"] == "Better words"


def test_a_version_published_over_http_is_not_replaced_by_a_builtin(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    mine = demo_card(name="range_test", version="0.1.0")
    assert client.post(f"{API}/algorithms", json=mine, headers=admin_headers).status_code == 201
    register_builtin_cards(app, [RANGE_CARD])
    card = client.get(f"{API}/algorithms/range_test/0.1.0", headers=admin_headers).json()
    assert card["builtin"] is False and card["description"] == mine["description"]


def test_only_admins_deprecate_a_builtin_card(
    app: FastAPI,
    client: TestClient,
    admin_headers: dict[str, str],
    contributor_headers: dict[str, str],
) -> None:
    register_builtin_cards(app, [RANGE_CARD])
    path = f"{API}/algorithms/range_test/0.1.0"
    refused = client.patch(path, json={"deprecated": True}, headers=contributor_headers)
    assert refused.status_code == 403
    accepted = client.patch(path, json={"deprecated": True}, headers=admin_headers)
    assert accepted.status_code == 200 and accepted.json()["deprecated"] is True
    # Registering the built-ins again leaves the deprecation alone.
    register_builtin_cards(app, [RANGE_CARD])
    assert client.get(path, headers=admin_headers).json()["deprecated"] is True


def test_builtin_cards_also_run_their_pydantic_checks(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    register_builtin_cards(app, [RANGE_CARD])
    path = f"{API}/algorithms/range_test/0.1.0/validate"
    crossed = client.post(path, json={"parameters": {"low": 9, "high": 2}}, headers=admin_headers)
    assert crossed.status_code == 422
    assert crossed.json()["error"]["field"] == "parameters.high"
    assert "must be >= low" in crossed.json()["error"]["message"]
    both = client.post(path, json={"parameters": {"low": -1, "rate": 2}}, headers=admin_headers)
    assert [d["field"] for d in both.json()["error"]["details"]] == [
        "parameters.low",
        "parameters.rate",
    ]
    accepted = client.post(path, json={"parameters": {"rate": 1}}, headers=admin_headers)
    assert accepted.json()["parameters"] == {"low": 1, "high": 5, "rate": 1.0}


def test_every_builtin_schema_round_trips(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    infos = [*load_builtin_algorithms(), RANGE_CARD]
    register_builtin_cards(app, infos)
    for info in infos:
        label = f"{info.name} {info.version}"
        served = client.get(f"{API}/algorithms/{info.name}/{info.version}", headers=admin_headers)
        assert served.status_code == 200, label
        schema = served.json()["parameters"]
        assert schema == builtin_schema(info), label
        own_defaults = info.parameters().model_dump(mode="json")
        # Every field shows its default in the form, default_factory ones included.
        assert {k for k, p in schema["properties"].items() if "default" in p} == set(own_defaults)
        # The served schema alone fills the same defaults the model has ...
        from_schema = normalise(schema, {})
        assert from_schema == own_defaults, label
        # ... the model accepts them back unchanged ...
        back = info.parameters.model_validate(from_schema).model_dump(mode="json")
        assert back == own_defaults, label
        # ... and the validate endpoint answers them for an empty parameter set.
        answer = client.post(
            f"{API}/algorithms/{info.name}/{info.version}/validate",
            json={"parameters": {}},
            headers=admin_headers,
        )
        assert answer.status_code == 200, (label, answer.text)
        assert answer.json()["parameters"] == own_defaults, label
        for name, prop in schema["properties"].items():
            assert "ui" in prop and prop["ui"]["widget"], f"{label}: {name} has no UI hint"


def test_all_expected_builtin_algorithms_are_served(
    app: FastAPI, make_content_settings: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    """Passes once every algorithm module has landed in the registry."""
    with TestClient(builtin_app(make_content_settings)) as client:
        segmentation = client.get(
            f"{API}/algorithms",
            params={"application": "segmentation", "latest": "true"},
            headers=admin_headers,
        ).json()["items"]
        assert len(segmentation) >= 7
        assert {card["name"] for card in segmentation} >= EXPECTED_SEGMENTATION
        assert all(card["parameters"]["properties"] for card in segmentation)
        for application, methods in EXPECTED_METHODS.items():
            cards = client.get(
                f"{API}/algorithms", params={"application": application}, headers=admin_headers
            ).json()["items"]
            names = [card["name"] for card in cards]
            remaining = list(names)
            for method in methods:  # longest first, so "dbscan" does not take "hdbscan"
                match = next((n for n in remaining if method in n), None)
                assert match is not None, f"no {method} card among {application}: {names}"
                remaining.remove(match)
