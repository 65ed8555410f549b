"""Ten clients labeling one data set at once lose no tag and store no duplicate."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from services.labels.client import LabelsClient

CLIENTS = 10
BATCHES = 4
BATCH = 50


def test_concurrent_writers(app, labeling) -> None:
    alice = labeling.client
    dataset = alice.create_dataset("beamline", "big", "/data/big", item_count=3000)
    shared = alice.create_event(dataset.id, description="one session, ten browser tabs")
    start = threading.Barrier(CLIENTS)
    labels = ("cat", "dog", "bird")

    def label(number: int) -> dict[str, object]:
        with TestClient(app) as http:
            client = LabelsClient(http=http, api_key=alice.api_key)
            start.wait()
            own = client.create_event(dataset.id, tagger_id=f"tab-{number}")
            statuses = []
            for batch in range(BATCHES):
                first = batch * BATCH
                rows = [
                    {"item": item, "label": labels[(item + number) % 3]}
                    for item in range(first, first + BATCH)
                ]
                client.add_tags(own.id, rows)
                # Disjoint items in the shared event: every batch must land.
                base = 200 + number * BATCHES * BATCH + first
                disjoint = [{"item": base + k, "label": "dog"} for k in range(BATCH)]
                client.add_tags(shared.id, disjoint)
                # The same (item, label) raced by every client: exactly one may win.
                response = http.post(
                    f"/api/v0/events/{shared.id}/tags",
                    json={"tags": [{"item": batch, "label": "cat"}]},
                    headers={"Authorization": f"Bearer {alice.api_key}"},
                )
                statuses.append(response.status_code)
            return {"event": own.id, "statuses": statuses}

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(label, range(CLIENTS)))

    raced = Counter(status for result in results for status in result["statuses"])
    assert raced == {201: BATCHES, 409: BATCHES * (CLIENTS - 1)}
    rows = list(alice.iter_tags(dataset=dataset.id, page_size=1000))
    keys = [(row.event_id, row.item, row.label) for row in rows]
    assert len(keys) == len(set(keys))  # no duplicate
    per_event = Counter(row.event_id for row in rows)
    for result in results:
        assert per_event[result["event"]] == BATCHES * BATCH  # no tag lost
    assert per_event[shared.id] == CLIENTS * BATCHES * BATCH + BATCHES
    current = alice.current_labels(dataset.id, limit=10)
    assert current.total == 200 + CLIENTS * BATCHES * BATCH
