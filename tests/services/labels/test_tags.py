"""Tags: bulk writes (all or nothing), unlabels, current labels across events, queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.client import ApiClientError


def labels_by_item(page) -> dict[int, list[str]]:
    return {item.item: sorted(label.label for label in item.labels) for item in page.items}


def test_multi_label_items(labeling) -> None:
    alice = labeling.client
    event = alice.create_event(labeling.dataset.id)
    result = alice.add_tags(
        event.id,
        [
            {"item": 0, "label": "cat"},
            {"item": 0, "label": "dog", "uri": "/data/shapes/0.png"},
            {"item": 4, "label": "bird", "locator": "http://tiled/api/v1/metadata/masks/4"},
        ],
    )
    assert (result.labeled, result.unlabeled) == (3, 0)
    page = alice.current_labels(labeling.dataset.id)
    assert labels_by_item(page) == {0: ["cat", "dog"], 4: ["bird"]}
    assert page.items[0].uri == "/data/shapes/0.png"
    assert page.items[1].labels[0].locator == "http://tiled/api/v1/metadata/masks/4"
    assert page.counts == {"cat": 1, "dog": 1, "bird": 1}
    assert page.total == 2
    second = alice.current_labels(labeling.dataset.id, offset=1, limit=1)
    assert labels_by_item(second) == {4: ["bird"]} and second.total == 2
    assert second.counts == page.counts  # counts cover every page
    assert alice.current_labels(labeling.dataset.id, offset=5).items == []
    assert alice.unlabeled(labeling.dataset.id).items == [1, 2, 3, 5, 6, 7, 8, 9]
    later = alice.unlabeled(labeling.dataset.id, offset=6, limit=5)
    assert (later.items, later.total) == ([8, 9], 8)
    # A write after a read shows at once (resolved labels are cached between writes).
    alice.add_tags(alice.create_event(labeling.dataset.id).id, [{"item": 9, "label": "cat"}])
    assert labels_by_item(alice.current_labels(labeling.dataset.id))[9] == ["cat"]
    alice.delete_class("beamline", "bird", cascade=True)
    assert 4 not in labels_by_item(alice.current_labels(labeling.dataset.id))


def test_current_label_after_three_events(labeling) -> None:
    """Label, relabel and unlabel the same items over three events; the newest decides."""
    alice = labeling.client
    dataset_id = labeling.dataset.id
    first = alice.create_event(dataset_id, description="first pass")
    alice.add_tags(first.id, [{"item": i, "label": "cat"} for i in range(4)])
    second = alice.create_event(dataset_id, tagger_id="bob")
    # Relabel 0 and 1 as dog, replacing cat; 2 gets a second label.
    result = alice.add_tags(
        second.id,
        [{"item": 0, "label": "dog"}, {"item": 1, "label": "dog"}],
        replace=True,
    )
    assert (result.labeled, result.unlabeled) == (2, 2)
    alice.add_tags(second.id, [{"item": 2, "label": "bird"}])
    third = alice.create_event(dataset_id)
    alice.remove_tags(third.id, [{"item": 0, "label": "dog"}, {"item": 2, "label": "cat"}])
    alice.add_tags(third.id, [{"item": 3, "label": "dog"}])

    page = alice.current_labels(dataset_id)
    assert labels_by_item(page) == {1: ["dog"], 2: ["bird"], 3: ["cat", "dog"]}
    assert page.counts == {"cat": 1, "dog": 2, "bird": 1}
    assert alice.unlabeled(dataset_id).items == [0, *range(4, 10)]
    by_event = {label.label: label.event_id for label in page.items[2].labels}
    assert by_event == {"cat": first.id, "dog": third.id}
    # Restricted to the first two events, the third never happened.
    before = alice.current_labels(dataset_id, event=[first.id, second.id])
    assert labels_by_item(before) == {0: ["dog"], 1: ["dog"], 2: ["bird", "cat"], 3: ["cat"]}
    only_bob = alice.current_labels(dataset_id, tagger=["bob"])
    assert labels_by_item(only_bob) == {0: ["dog"], 1: ["dog"], 2: ["bird"]}
    # Nothing was rewritten: every row is still there, unlabels included.
    rows = list(alice.iter_tags(dataset=dataset_id))
    assert len(rows) == 4 + 2 + 2 + 1 + 2 + 1
    assert sum(row.removed for row in rows) == 4
    assert [r.item for r in alice.iter_tags(dataset=dataset_id, removed=True, event=third.id)] == [
        0,
        2,
    ]


def test_event_order_follows_run_time(labeling) -> None:
    alice = labeling.client
    now = datetime.now(UTC)
    late = alice.create_event(labeling.dataset.id, run_time=now)
    alice.add_tags(late.id, [{"item": 0, "label": "dog"}])
    early = alice.create_event(labeling.dataset.id, run_time=now - timedelta(hours=1))
    alice.remove_tags(early.id, [{"item": 0, "label": "dog"}])
    assert labels_by_item(alice.current_labels(labeling.dataset.id)) == {0: ["dog"]}


BAD_ROWS = [
    ({"item": 1, "label": "zebra"}, "tags.17.label", "unknown class"),
    ({"item": 10, "label": "cat"}, "tags.17.item", "out of range"),
    ({"item": 1, "label": "cat", "confidence": 1.5}, "tags.17.confidence", "less than"),
    ({"item": -1, "label": "cat"}, "tags.17.item", "greater than"),
    ({"item": 0, "label": "cat"}, "tags.17.label", "twice"),
]


def test_one_bad_row_rejects_the_whole_batch(labeling, http, error_of) -> None:
    event = labeling.client.create_event(labeling.dataset.id)
    headers = {"Authorization": f"Bearer {labeling.client.api_key}"}
    for bad_row, field, words in BAD_ROWS:
        rows = [{"item": i % 10, "label": ("cat", "dog")[i // 10]} for i in range(20)]
        rows[17] = bad_row
        for method in ("POST", "DELETE"):
            if method == "DELETE":
                rows = [{k: v for k, v in row.items() if k != "confidence"} for row in rows]
                if "confidence" in bad_row:
                    continue
            response = http.request(
                method, f"/api/v0/events/{event.id}/tags", json={"tags": rows}, headers=headers
            )
            assert response.status_code == 422, (bad_row, method)
            error = error_of(response)
            assert error["field"] == field
            assert words in error["details"][0]["message"]
    assert labeling.client.tags_page(dataset=labeling.dataset.id).total == 0


def test_event_tags_are_never_rewritten(labeling, http, error_of) -> None:
    alice = labeling.client
    event = alice.create_event(labeling.dataset.id)
    alice.add_tags(event.id, [{"item": 0, "label": "cat"}])
    with pytest.raises(ApiClientError) as raised:
        alice.add_tags(event.id, [{"item": 1, "label": "cat"}, {"item": 0, "label": "cat"}])
    assert raised.value.status_code == 409
    with pytest.raises(ApiClientError) as raised:
        alice.remove_tags(event.id, [{"item": 0, "label": "cat"}])
    assert raised.value.status_code == 409
    assert [(t.item, t.removed) for t in alice.iter_tags(event=event.id)] == [(0, False)]
    with pytest.raises(ApiClientError) as raised:
        alice.add_tags(9999, [{"item": 1, "label": "cat"}])
    assert raised.value.status_code == 404
    http.app.state.settings.max_tags_per_request = 5
    event = labeling.client.create_event(labeling.dataset.id)
    response = http.post(
        f"/api/v0/events/{event.id}/tags",
        json={"tags": [{"item": i, "label": "cat"} for i in range(6)]},
        headers={"Authorization": f"Bearer {labeling.client.api_key}"},
    )
    assert response.status_code == 422 and error_of(response)["field"] == "tags"


def test_tag_queries(labeling, client_for, http, error_of) -> None:
    alice = labeling.client
    dataset_id = labeling.dataset.id
    old = alice.create_event(dataset_id, run_time=datetime(2026, 1, 1, tzinfo=UTC))
    alice.add_tags(old.id, [{"item": i, "label": "cat", "confidence": 1.0} for i in range(3)])
    model = alice.create_event(dataset_id, tagger_id="unet-3", run_time=datetime(2026, 6, 1))
    alice.add_tags(
        model.id,
        [{"item": i, "label": "dog", "confidence": c} for i, c in enumerate((0.2, 0.5, 0.9))],
    )

    def items(**filters) -> list[tuple[int, str]]:
        return [(t.item, t.label) for t in alice.iter_tags(**filters)]

    assert items(min_confidence=0.5, max_confidence=0.95) == [(1, "dog"), (2, "dog")]
    assert items(max_confidence=0.4) == [(0, "dog")]
    assert items(min_confidence=0.5, label="cat") == [(0, "cat"), (1, "cat"), (2, "cat")]
    assert items(tagger="unet-3", item=2) == [(2, "dog")]
    assert items(event=old.id, item=1) == [(1, "cat")]
    assert items(since=datetime(2026, 3, 1, tzinfo=UTC)) == [(0, "dog"), (1, "dog"), (2, "dog")]
    assert items(dataset=dataset_id + 1) == []
    page = alice.tags_page(offset=2, limit=2, dataset=dataset_id)
    assert (page.total, page.offset, page.limit, len(page.items)) == (6, 2, 2, 2)
    assert page.items[0].tagger_id == "alice" and page.items[1].tagger_id == "unet-3"
    # Someone the project is not shared with sees no tag.
    assert client_for("mallory", "user").tags_page().total == 0

    headers = {"Authorization": f"Bearer {labeling.client.api_key}"}
    response = http.get("/api/v0/tags?min_confidence=2&item=-3&limit=0", headers=headers)
    assert response.status_code == 422
    fields = {d["field"] for d in error_of(response)["details"]}
    assert fields == {"min_confidence", "item", "limit"}
