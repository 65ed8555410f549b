"""Projects and data sets: creation, listing, sharing, and who may see what."""

from __future__ import annotations

import pytest

from services.common.client import ApiClientError


def test_dataset_round_trip_and_listing(labeling, admin) -> None:
    alice = labeling.client
    dataset = labeling.dataset
    assert (dataset.project, dataset.name, dataset.type, dataset.item_count) == (
        "beamline",
        "shapes",
        "file",
        10,
    )
    assert dataset.created_by == "alice"
    assert alice.get_dataset(dataset.id) == dataset
    tiled = alice.create_dataset(
        "beamline", "foam", "http://tiled:8000/api/v1/metadata/foam", item_count=5
    )
    assert tiled.type == "tiled"
    # A new project is created on the fly and owned by the caller.
    other = alice.create_dataset("side", "rings", "/data/rings", item_count=3)
    assert alice.get_project("side").owner == "alice"
    assert [d.name for d in alice.list_datasets()] == ["shapes", "foam", "rings"]
    assert [d.id for d in alice.list_datasets(project="side")] == [other.id]
    assert {d.name for d in admin.list_datasets()} == {"shapes", "foam", "rings"}


def test_dataset_errors_in_shared_shape(labeling, http, error_of, tmp_path) -> None:
    headers = {"Authorization": f"Bearer {labeling.client.api_key}"}
    duplicate = http.post(
        "/api/v0/datasets",
        json={"project": "beamline", "name": "shapes", "uri": "/x", "item_count": 1},
        headers=headers,
    )
    assert duplicate.status_code == 409
    assert error_of(duplicate)["field"] == "name"
    bad = http.post(
        "/api/v0/datasets",
        json={"project": "beamline", "name": "x", "uri": "/x", "type": "s3", "item_count": -1},
        headers=headers,
    )
    assert bad.status_code == 422
    error = error_of(bad)
    assert {d["field"] for d in error["details"]} == {"type", "item_count"}
    missing = http.get("/api/v0/datasets/999", headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    anonymous = http.get("/api/v0/datasets")
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "unauthorized"
    wrong_key = http.get("/api/v0/datasets", headers={"Authorization": "Bearer nope"})
    assert wrong_key.status_code == 401
    with pytest.raises(ApiClientError) as raised:
        labeling.client.create_dataset("beamline", "ghost", str(tmp_path / "missing"))
    assert raised.value.status_code == 422
    assert raised.value.field == "uri"
    assert [d.name for d in labeling.client.list_datasets()] == ["shapes"]


def test_projects_are_private_until_shared(labeling, client_for, admin) -> None:
    bob = client_for("bob", "user")
    dataset_id = labeling.dataset.id
    assert bob.list_datasets() == []
    assert bob.list_projects() == []
    with pytest.raises(ApiClientError) as raised:
        bob.get_dataset(dataset_id)
    assert raised.value.status_code == 403
    with pytest.raises(ApiClientError) as raised:
        bob.create_class("beamline", "fish")
    assert raised.value.status_code == 403
    # Only the owner shares.
    with pytest.raises(ApiClientError) as raised:
        bob.add_member("beamline", "bob")
    assert raised.value.status_code == 403
    project = labeling.client.add_member("beamline", "bob")
    assert project.members == ["bob"]
    assert bob.get_dataset(dataset_id).name == "shapes"
    assert [p.name for p in bob.list_projects()] == ["beamline"]
    bob.create_class("beamline", "fish")
    labeling.client.remove_member("beamline", "bob")
    with pytest.raises(ApiClientError) as raised:
        bob.get_dataset(dataset_id)
    assert raised.value.status_code == 403
    with pytest.raises(ApiClientError) as raised:
        labeling.client.remove_member("beamline", "bob")
    assert raised.value.status_code == 404
    # Admins see every project.
    assert [p.name for p in admin.list_projects()] == ["beamline"]
    worker = client_for("gpu-1", "worker")
    assert worker.get_dataset(labeling.dataset.id).name == "shapes"
    with pytest.raises(ApiClientError) as raised:
        worker.create_dataset("beamline", "mine", "/x", item_count=1)
    assert raised.value.status_code == 403
    assert raised.value.code == "forbidden"


def test_project_creation_conflict_and_members(client_for) -> None:
    carol = client_for("carol", "contributor")
    project = carol.create_project("xpcs", members=["dave", "erin"])
    assert (project.owner, project.members) == ("carol", ["dave", "erin"])
    with pytest.raises(ApiClientError) as raised:
        carol.create_project("xpcs")
    assert raised.value.status_code == 409
    dave = client_for("dave", "user")
    assert dave.get_project("xpcs").owner == "carol"
    with pytest.raises(ApiClientError) as raised:
        dave.get_project("nothing")
    assert raised.value.status_code == 404


def test_openapi_documents_every_endpoint(http) -> None:
    spec = http.get("/api/v0/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) == 22
    for path, method, operation in operations:
        assert operation.get("summary"), (method, path)
        if path != "/api/v0/health":
            assert {"401", "403", "404", "422"} <= set(operation["responses"]), (method, path)
    tag_rows = spec["components"]["schemas"]["TagCreate"]
    assert set(tag_rows["required"]) == {"item", "label"}
