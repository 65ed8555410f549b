"""Label classes: create, list, rename/recolour without touching tags, delete rules."""

from __future__ import annotations

import pytest

from services.common.client import ApiClientError


def test_classes_in_order_with_palette_colours(labeling) -> None:
    alice = labeling.client
    classes = alice.list_classes("beamline")
    assert [(c.name, c.hotkey, c.order) for c in classes] == [
        ("cat", "c", 0),
        ("dog", "d", 1),
        ("bird", "b", 2),
    ]
    assert len({c.color for c in classes}) == 3
    first = alice.create_class("beamline", "fish", color="#00ff00", order=-1)
    assert (first.color, first.order) == ("#00ff00", -1)
    assert alice.list_classes("beamline")[0].name == "fish"


def test_rename_and_recolour_keep_tags(labeling) -> None:
    alice = labeling.client
    event = alice.create_event(labeling.dataset.id)
    alice.add_tags(event.id, [{"item": 0, "label": "cat"}, {"item": 1, "label": "cat"}])
    renamed = alice.update_class("beamline", "cat", name="feline", color="#123456", hotkey="f")
    assert (renamed.name, renamed.color, renamed.hotkey) == ("feline", "#123456", "f")
    labels = alice.current_labels(labeling.dataset.id)
    assert [[label.label for label in item.labels] for item in labels.items] == [
        ["feline"],
        ["feline"],
    ]
    assert labels.counts == {"feline": 2, "dog": 0, "bird": 0}
    assert {tag.label for tag in alice.iter_tags(dataset=labeling.dataset.id)} == {"feline"}


def test_class_conflicts_and_validation(labeling, http, error_of) -> None:
    alice = labeling.client
    headers = {"Authorization": f"Bearer {alice.api_key}"}
    with pytest.raises(ApiClientError) as raised:
        alice.create_class("beamline", "cat")
    assert (raised.value.status_code, raised.value.field) == (409, "name")
    with pytest.raises(ApiClientError) as raised:
        alice.create_class("beamline", "fish", hotkey="c")
    assert (raised.value.status_code, raised.value.field) == (409, "hotkey")
    with pytest.raises(ApiClientError) as raised:
        alice.update_class("beamline", "dog", name="cat")
    assert raised.value.status_code == 409
    bad = http.post(
        "/api/v0/projects/beamline/classes",
        json={"name": "a/b", "color": "red"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert {d["field"] for d in error_of(bad)["details"]} == {"name", "color"}
    missing = http.patch("/api/v0/projects/beamline/classes/zebra", json={}, headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_delete_class_in_use_needs_cascade(labeling, http, error_of) -> None:
    alice = labeling.client
    event = alice.create_event(labeling.dataset.id)
    alice.add_tags(event.id, [{"item": 3, "label": "dog"}, {"item": 3, "label": "cat"}])
    alice.delete_class("beamline", "bird")
    refused = http.delete(
        "/api/v0/projects/beamline/classes/dog",
        headers={"Authorization": f"Bearer {alice.api_key}"},
    )
    assert refused.status_code == 409
    assert "cascade" in error_of(refused)["message"]
    assert [c.name for c in alice.list_classes("beamline")] == ["cat", "dog"]
    alice.delete_class("beamline", "dog", cascade=True)
    assert [c.name for c in alice.list_classes("beamline")] == ["cat"]
    assert [t.label for t in alice.iter_tags(dataset=labeling.dataset.id)] == ["cat"]
