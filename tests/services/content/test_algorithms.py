"""Algorithm cards over HTTP: publish, read, list, search, versions, deprecate, roles."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.services.content.conftest import demo_card

API = "/api/v0"


def publish(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/algorithms", json=demo_card(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_publish_answers_the_card_and_reading_it_back_gives_the_same(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    response = client.post(f"{API}/algorithms", json=demo_card(), headers=admin_headers)
    assert response.status_code == 201
    assert response.headers["location"] == f"{API}/algorithms/demo_unet/1.0.0"
    card = response.json()
    assert card["queue"] == "cpu"  # a GPU is optional, so the CPU queue takes it
    assert card["builtin"] is False and card["deprecated"] is False
    assert card["created_by"] == "admin"
    assert card["parameters"] == demo_card()["parameters"]
    assert card["resources"] == {"gpu": "optional", "memory_gb": 4.0, "cpus": 2}
    read = client.get(f"{API}/algorithms/demo_unet/1.0.0", headers=admin_headers)
    assert read.status_code == 200
    assert read.json() == card


def test_publishing_the_same_name_and_version_twice_is_a_conflict(
    client: TestClient, admin_headers: dict[str, str], demo: dict[str, Any]
) -> None:
    changed = demo_card(description="sneaky change")
    response = client.post(f"{API}/algorithms", json=changed, headers=admin_headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict" and error["field"] == "version"
    assert "new version" in error["message"]
    # The published version did not change.
    read = client.get(f"{API}/algorithms/demo_unet/1.0.0", headers=admin_headers).json()
    assert read["description"] == demo["description"]


def test_gpu_required_goes_to_the_gpu_queue_and_an_explicit_queue_wins(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    gpu = publish(client, admin_headers, resources={"gpu": "required"})
    assert gpu["queue"] == "gpu"
    own = publish(client, admin_headers, version="1.0.1", queue="gpu-a100")
    assert own["queue"] == "gpu-a100"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"version": "1.0"}, "version"),
        ({"name": "Bad Name"}, "name"),
        ({"application": "astrology"}, "application"),
        ({"entry_point": None}, None),  # neither an entry point nor an image
        ({"image": "ghcr.io/mlex/unet:1.0"}, "image"),  # not pinned by a digest
        ({"resources": {"gpu": "maybe"}}, "resources.gpu"),
        ({"colour": "blue"}, "colour"),
        ({"parameters": {"type": "array"}}, "parameters.type"),
        ({"parameters": {"type": "object", "properties": {"a": {"type": "nope"}}}}, None),
    ],
)
def test_bad_cards_are_refused_with_422_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], overrides: dict[str, Any], field: str | None
) -> None:
    response = client.post(f"{API}/algorithms", json=demo_card(**overrides), headers=admin_headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    if field is not None:
        assert error["field"] == field
    else:
        assert error["message"]
    assert client.get(f"{API}/algorithms", headers=admin_headers).json()["total"] == 0


def test_bad_ui_hints_are_refused_each_by_its_path(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    card = demo_card()
    properties = card["parameters"]["properties"]
    properties["depth"]["ui"]["widget"] = "knob"
    properties["epochs"]["ui"]["group"] = "misc"
    properties["rotation"]["ui"]["visible_if"] = {"augmentation": True}
    properties["learning_rate"]["ui"]["step"] = -1
    response = client.post(f"{API}/algorithms", json=card, headers=admin_headers)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {
        "parameters.properties.depth.ui.widget",
        "parameters.properties.epochs.ui.group",
        "parameters.properties.rotation.ui.visible_if.augmentation",
        "parameters.properties.learning_rate.ui.step",
    }


def test_container_cards_carry_image_digest_and_command(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    image = "ghcr.io/mlex/unet:1.0@sha256:" + "a" * 64
    card = publish(
        client, admin_headers, entry_point=None, image=image, command=["python", "run.py"]
    )
    assert card["image"] == image and card["command"] == ["python", "run.py"]
    assert card["entry_point"] is None


def test_list_filters_by_application_and_text_and_keeps_the_latest_version(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    publish(client, admin_headers)
    publish(client, admin_headers, version="1.2.0")
    publish(client, admin_headers, version="1.10.0")  # newer than 1.2.0 (not by text)
    publish(client, admin_headers, version="2.0.0-rc.1")
    publish(
        client,
        admin_headers,
        name="latent_pca",
        application="dimension_reduction",
        description="Principal component analysis of image features",
    )
    listed = client.get(f"{API}/algorithms", headers=admin_headers).json()
    assert listed["total"] == 5
    assert [(i["name"], i["version"]) for i in listed["items"]][:4] == [
        ("demo_unet", "2.0.0-rc.1"),
        ("demo_unet", "1.10.0"),
        ("demo_unet", "1.2.0"),
        ("demo_unet", "1.0.0"),
    ]
    segmentation = client.get(
        f"{API}/algorithms", params={"application": "segmentation"}, headers=admin_headers
    ).json()
    assert {i["name"] for i in segmentation["items"]} == {"demo_unet"}
    assert all(i["parameters"]["properties"] for i in segmentation["items"])
    search = client.get(f"{API}/algorithms", params={"q": "COMPONENT"}, headers=admin_headers)
    assert [i["name"] for i in search.json()["items"]] == ["latent_pca"]
    latest = client.get(f"{API}/algorithms", params={"latest": "true"}, headers=admin_headers)
    assert [(i["name"], i["version"]) for i in latest.json()["items"]] == [
        ("demo_unet", "2.0.0-rc.1"),
        ("latent_pca", "1.0.0"),
    ]
    page = client.get(f"{API}/algorithms", params={"limit": 2, "offset": 1}, headers=admin_headers)
    assert page.json()["total"] == 5 and len(page.json()["items"]) == 2
    bad = client.get(f"{API}/algorithms", params={"application": "x"}, headers=admin_headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "application"


def test_versions_latest_alias_and_not_found(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    publish(client, admin_headers)
    publish(client, admin_headers, version="1.1.0")
    versions = client.get(f"{API}/algorithms/demo_unet", headers=admin_headers).json()
    assert [i["version"] for i in versions["items"]] == ["1.1.0", "1.0.0"]
    latest = client.get(f"{API}/algorithms/demo_unet/latest", headers=admin_headers).json()
    assert latest["version"] == "1.1.0"
    missing_version = client.get(f"{API}/algorithms/demo_unet/9.9.9", headers=admin_headers)
    assert missing_version.status_code == 404
    assert missing_version.json()["error"]["field"] == "version"
    for path in ("/algorithms/nothing", "/algorithms/nothing/1.0.0"):
        missing = client.get(API + path, headers=admin_headers)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_deprecation_is_the_only_change_and_hides_the_version_from_lists(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    publish(client, admin_headers)
    publish(client, admin_headers, version="1.1.0")
    path = f"{API}/algorithms/demo_unet/1.1.0"
    change = client.patch(path, json={"description": "new"}, headers=admin_headers)
    assert change.status_code == 422
    assert "description" in {d["field"] for d in change.json()["error"]["details"]}
    deprecated = client.patch(
        path, json={"deprecated": True, "deprecation_message": "wrong skips"}, headers=admin_headers
    )
    assert deprecated.status_code == 200
    assert deprecated.json()["deprecated"] is True
    assert deprecated.json()["deprecation_message"] == "wrong skips"
    latest = client.get(f"{API}/algorithms", params={"latest": "true"}, headers=admin_headers)
    assert [i["version"] for i in latest.json()["items"]] == ["1.0.0"]
    every = client.get(
        f"{API}/algorithms", params={"include_deprecated": "true"}, headers=admin_headers
    )
    assert every.json()["total"] == 2
    versions = client.get(f"{API}/algorithms/demo_unet", headers=admin_headers).json()
    assert len(versions["items"]) == 2
    restored = client.patch(path, json={"deprecated": False}, headers=admin_headers).json()
    assert restored["deprecated"] is False and restored["deprecation_message"] is None


def test_roles_publish_and_deprecate(
    client: TestClient,
    admin_headers: dict[str, str],
    contributor_headers: dict[str, str],
    user_headers: dict[str, str],
    app: Any,
) -> None:
    assert client.get(f"{API}/algorithms").status_code == 401
    refused = client.post(f"{API}/algorithms", json=demo_card(), headers=user_headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    created = client.post(f"{API}/algorithms", json=demo_card(), headers=contributor_headers)
    assert created.status_code == 201 and created.json()["created_by"] == "carla"
    assert client.get(f"{API}/algorithms", headers=user_headers).json()["total"] == 1
    path = f"{API}/algorithms/demo_unet/1.0.0"
    from tests.fixtures.db import key_headers

    other = key_headers(app, "otto", "contributor")
    assert client.patch(path, json={"deprecated": True}, headers=other).status_code == 403
    assert client.patch(path, json={"deprecated": True}, headers=user_headers).status_code == 403
    owner = client.patch(path, json={"deprecated": True}, headers=contributor_headers)
    assert owner.status_code == 200


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/api/v0/algorithms": {"get", "post"},
        "/api/v0/algorithms/{name}": {"get"},
        "/api/v0/algorithms/{name}/{version}": {"get", "patch"},
        "/api/v0/algorithms/{name}/{version}/validate": {"post"},
        "/api/v0/models": {"get", "post"},
        "/api/v0/models/{model_id}": {"get", "delete"},
        "/api/v0/models/{model_id}/check": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            assert paths[path][method]["summary"] and paths[path][method]["description"]
