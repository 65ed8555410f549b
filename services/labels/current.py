"""The labels items carry now, resolved from every event in one scan and a numpy sort.

For each (item, class) the newest event that touched it decides, newest meaning latest run
time, then highest event id: a label row keeps the class, an unlabel row drops it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.labels.models import Tag, TaggingEvent


@dataclass(frozen=True)
class CurrentRow:
    """One label an item carries now."""

    item: int
    uri: str | None
    class_id: int
    confidence: float
    event_id: int
    tagger_id: str
    locator: str | None


def _empty() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class CurrentLabels:
    """Current labels as columns, sorted by item then class id."""

    item: np.ndarray = field(default_factory=_empty)
    class_id: np.ndarray = field(default_factory=_empty)
    event_id: np.ndarray = field(default_factory=_empty)
    confidence: np.ndarray = field(default_factory=lambda: np.empty(0))
    uri: list[str | None] = field(default_factory=list)
    locator: list[str | None] = field(default_factory=list)
    taggers: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.item.size)

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[CurrentRow]:
        """Rows ``start`` to ``stop`` as objects."""
        stop = len(self) if stop is None else stop
        items = self.item[start:stop].tolist()
        classes = self.class_id[start:stop].tolist()
        events = self.event_id[start:stop].tolist()
        confidences = self.confidence[start:stop].tolist()
        for offset, item in enumerate(items):
            position = start + offset
            yield CurrentRow(
                item=item,
                uri=self.uri[position],
                class_id=classes[offset],
                confidence=confidences[offset],
                event_id=events[offset],
                tagger_id=self.taggers[events[offset]],
                locator=self.locator[position],
            )

    def tuples(
        self, names: dict[int, str], start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, str | None, str, float, int, str, str | None]]:
        """Rows as (item, uri, label, confidence, event_id, tagger_id, locator), cheaply."""
        stop = len(self) if stop is None else stop
        events = self.event_id[start:stop].tolist()
        return zip(
            self.item[start:stop].tolist(),
            self.uri[start:stop],
            [names[class_id] for class_id in self.class_id[start:stop].tolist()],
            self.confidence[start:stop].tolist(),
            events,
            [self.taggers[event] for event in events],
            self.locator[start:stop],
            strict=True,
        )

    def labeled_items(self) -> np.ndarray:
        """Sorted indices of the items that carry at least one label."""
        return np.unique(self.item)

    def item_page(self, offset: int, limit: int) -> tuple[int, int, int]:
        """(number of labeled items, first row, end row) of items ``offset``..``offset+limit``."""
        _, starts = np.unique(self.item, return_index=True)
        total = int(starts.size)
        if offset >= total:
            return total, len(self), len(self)
        end = offset + limit
        return total, int(starts[offset]), int(starts[end]) if end < total else len(self)

    def counts(self) -> dict[int, int]:
        """Labeled items per class id."""
        ids, numbers = np.unique(self.class_id, return_counts=True)
        return dict(zip(ids.tolist(), numbers.tolist(), strict=True))


def current_labels(
    session: Session,
    dataset_id: int,
    taggers: Sequence[str] | None = None,
    events: Sequence[int] | None = None,
) -> CurrentLabels:
    """Resolve the labels of every item of a data set; ``taggers``/``events`` restrict the
    events taken into account."""
    event_query = (
        select(TaggingEvent.id, TaggingEvent.tagger_id)
        .where(TaggingEvent.dataset_id == dataset_id)
        .order_by(TaggingEvent.run_time, TaggingEvent.id)
    )
    if taggers:
        event_query = event_query.where(TaggingEvent.tagger_id.in_(list(taggers)))
    if events:
        event_query = event_query.where(TaggingEvent.id.in_(list(events)))
    chosen = session.execute(event_query).all()
    if not chosen:
        return CurrentLabels()
    event_ids = np.fromiter((row[0] for row in chosen), dtype=np.int64, count=len(chosen))
    rank_of = np.full(int(event_ids.max()) + 2, -1, dtype=np.int64)
    rank_of[event_ids] = np.arange(event_ids.size)

    rows = _tag_rows(session, dataset_id)
    if not rows:
        return CurrentLabels()
    count = len(rows)

    def column(index: int, dtype: Any) -> np.ndarray:
        return np.fromiter((row[index] for row in rows), dtype=dtype, count=count)

    item = column(0, np.int64)
    class_id = column(1, np.int64)
    event_id = column(2, np.int64)
    rank = rank_of[np.minimum(event_id, rank_of.size - 1)]
    considered = np.flatnonzero(rank >= 0)
    # Sort by item, class, newest event first; the first row of each (item, class) decides.
    order = considered[np.lexsort((-rank[considered], class_id[considered], item[considered]))]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (item[order][1:] != item[order][:-1]) | (
        class_id[order][1:] != class_id[order][:-1]
    )
    deciding = order[first]
    removed = np.fromiter((rows[i][3] for i in deciding.tolist()), dtype=bool, count=deciding.size)
    chosen_rows = deciding[~removed]
    winners = chosen_rows.tolist()
    return CurrentLabels(
        item=item[chosen_rows],
        class_id=class_id[chosen_rows],
        event_id=event_id[chosen_rows],
        confidence=np.fromiter((rows[i][4] for i in winners), dtype=np.float64),
        uri=[rows[i][5] for i in winners],
        locator=[rows[i][6] for i in winners],
        taggers={int(row[0]): row[1] for row in chosen},
    )


class CurrentLabelsCache:
    """The last few resolved data sets, so paging through 100,000 items resolves them once.

    An entry is keyed by what could change the answer: the data set, the filters, the newest
    tag id and the number of tags (tags are only appended) and the project's class ids
    (deleting a class deletes its tags). Events never change once written.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], CurrentLabels] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(
        self,
        session: Session,
        dataset_id: int,
        class_ids: Sequence[int],
        taggers: Sequence[str] | None = None,
        events: Sequence[int] | None = None,
    ) -> CurrentLabels:
        """Current labels of a data set, from the cache when nothing was written since."""
        # The count as well as the newest id: on PostgreSQL a writer holding lower ids may
        # commit after one holding higher ids.
        newest, count = session.execute(
            select(func.max(Tag.id), func.count()).where(Tag.dataset_id == dataset_id)
        ).one()
        key = (
            dataset_id,
            tuple(sorted(taggers or ())),
            tuple(sorted(events or ())),
            newest,
            count,
            tuple(sorted(class_ids)),
        )
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        current = current_labels(session, dataset_id, taggers, events)
        with self._lock:
            self._entries[key] = current
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return current


def _tag_rows(session: Session, dataset_id: int) -> list[tuple[Any, ...]]:
    """Every tag row of a data set as plain tuples, straight from the driver's cursor.

    SQLAlchemy's row objects cost more than the query itself at 100,000 rows.
    """
    connection = session.connection()
    columns = "item_index, class_id, event_id, removed, confidence, item_uri, locator"
    sql = f"SELECT {columns} FROM labels_tags WHERE dataset_id = {int(dataset_id)}"
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def unlabeled_items(item_count: int, current: CurrentLabels) -> np.ndarray:
    """Indices of the items that carry no label now."""
    return np.setdiff1d(np.arange(item_count, dtype=np.int64), current.labeled_items())
