"""Writing tags in bulk and reading them back: raw rows, current labels, unlabeled items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, false, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.auth.store import Principal
from services.common.errors import Conflict, ErrorDetail, Forbidden, Invalid
from services.labels.access import visible_projects_clause
from services.labels.models import Dataset, LabelClass, Project, Tag, TaggingEvent
from services.labels.schemas import TagCreate, TagPublic, TagRemove, TagWriteResult
from services.labels.store import to_utc

MAX_ERROR_DETAILS = 20


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


def check_event_writer(principal: Principal, event: TaggingEvent) -> None:
    """Only the caller who opened an event (or an admin) adds tags to it."""
    if not principal.is_admin and event.created_by != principal.name:
        raise Forbidden(f"event {event.id} belongs to {event.created_by!r}")


def class_ids(session: Session, dataset: Dataset) -> dict[str, int]:
    statement = select(LabelClass.name, LabelClass.id).where(
        LabelClass.project_id == dataset.project_id
    )
    return {name: class_id for name, class_id in session.execute(statement)}


def _validate_rows(
    rows: Sequence[TagCreate | TagRemove], dataset: Dataset, classes: dict[str, int]
) -> list[int]:
    """Check every row against the data set and the project's classes; return class ids.

    Raises one 422 naming the first bad row and field, with up to 20 problems in details.
    """
    problems: list[ErrorDetail] = []
    resolved: list[int] = []
    seen: set[tuple[int, int]] = set()
    size = dataset.item_count
    for position, row in enumerate(rows):
        class_id = classes.get(row.label)
        if class_id is None:
            problems.append(
                ErrorDetail(
                    field=f"tags.{position}.label",
                    message=f"unknown class {row.label!r}; known: {', '.join(sorted(classes))}",
                )
            )
            class_id = -1
        if row.item >= size:
            problems.append(
                ErrorDetail(
                    field=f"tags.{position}.item",
                    message=f"item {row.item} is out of range: the data set has {size} items",
                )
            )
        key = (row.item, class_id)
        if class_id >= 0 and key in seen:
            problems.append(
                ErrorDetail(
                    field=f"tags.{position}.label",
                    message=f"item {row.item} has label {row.label!r} twice in this request",
                )
            )
        seen.add(key)
        resolved.append(class_id)
        if len(problems) >= MAX_ERROR_DETAILS:
            break
    if problems:
        first = problems[0]
        raise Invalid(f"{first.field}: {first.message}", field=first.field, details=problems)
    return resolved


def _insert(session: Session, event: TaggingEvent, records: list[dict[str, Any]]) -> None:
    """Insert all rows in one transaction; an already tagged (item, class) of the event → 409."""
    try:
        if records:
            session.execute(insert(Tag), records)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            f"event {event.id} already has some of these (item, label) pairs; "
            "events are never rewritten: write the change in a new event",
            field="tags",
        ) from None


def write_tags(
    session: Session, event: TaggingEvent, rows: Sequence[TagCreate], replace: bool
) -> TagWriteResult:
    """Store labels for one event, all or nothing."""
    dataset = session.get_one(Dataset, event.dataset_id)
    resolved = _validate_rows(rows, dataset, class_ids(session, dataset))
    records = [
        {
            "event_id": event.id,
            "dataset_id": dataset.id,
            "item_index": row.item,
            "item_uri": row.uri,
            "class_id": class_id,
            "confidence": row.confidence,
            "removed": False,
            "locator": row.locator,
        }
        for row, class_id in zip(rows, resolved, strict=True)
    ]
    unlabeled = 0
    if replace and rows:
        wanted = {(row.item, class_id) for row, class_id in zip(rows, resolved, strict=True)}
        items = {row.item for row in rows}
        for current in current_label_rows(session, dataset.id):
            if current.item in items and (current.item, current.class_id) not in wanted:
                records.append(
                    {
                        "event_id": event.id,
                        "dataset_id": dataset.id,
                        "item_index": current.item,
                        "item_uri": current.uri,
                        "class_id": current.class_id,
                        "confidence": 1.0,
                        "removed": True,
                        "locator": None,
                    }
                )
                unlabeled += 1
    _insert(session, event, records)
    return TagWriteResult(event_id=event.id, labeled=len(rows), unlabeled=unlabeled)


def remove_tags(session: Session, event: TaggingEvent, rows: Sequence[TagRemove]) -> TagWriteResult:
    """Record that labels were taken off items, as 'unlabel' rows of this event."""
    dataset = session.get_one(Dataset, event.dataset_id)
    resolved = _validate_rows(rows, dataset, class_ids(session, dataset))
    records = [
        {
            "event_id": event.id,
            "dataset_id": dataset.id,
            "item_index": row.item,
            "item_uri": row.uri,
            "class_id": class_id,
            "confidence": 1.0,
            "removed": True,
            "locator": None,
        }
        for row, class_id in zip(rows, resolved, strict=True)
    ]
    _insert(session, event, records)
    return TagWriteResult(event_id=event.id, labeled=0, unlabeled=len(records))


# reading ----
def current_label_rows(
    session: Session,
    dataset_id: int,
    taggers: Sequence[str] | None = None,
    events: Sequence[int] | None = None,
) -> list[CurrentRow]:
    """The labels every item carries now, ordered by item then class.

    For each (item, class) the newest event that touched it decides (run time, then event id):
    a label row keeps the class, an unlabel row drops it. ``taggers``/``events`` restrict which
    events are taken into account.
    """
    newest_first = func.row_number().over(
        partition_by=(Tag.item_index, Tag.class_id),
        order_by=(TaggingEvent.run_time.desc(), TaggingEvent.id.desc()),
    )
    ranked = (
        select(
            Tag.item_index,
            Tag.item_uri,
            Tag.class_id,
            Tag.confidence,
            Tag.removed,
            Tag.event_id,
            Tag.locator,
            TaggingEvent.tagger_id,
            newest_first.label("rank"),
        )
        .join(TaggingEvent, Tag.event_id == TaggingEvent.id)
        .where(Tag.dataset_id == dataset_id)
    )
    if taggers:
        ranked = ranked.where(TaggingEvent.tagger_id.in_(list(taggers)))
    if events:
        ranked = ranked.where(Tag.event_id.in_(list(events)))
    sub = ranked.subquery()
    statement = (
        select(
            sub.c.item_index,
            sub.c.item_uri,
            sub.c.class_id,
            sub.c.confidence,
            sub.c.event_id,
            sub.c.tagger_id,
            sub.c.locator,
        )
        .where(sub.c.rank == 1, sub.c.removed == false())
        .order_by(sub.c.item_index, sub.c.class_id)
    )
    return [CurrentRow(*row) for row in session.execute(statement)]


def unlabeled_items(item_count: int, rows: Sequence[CurrentRow]) -> np.ndarray:
    """Indices of the items that carry no label now."""
    labeled = np.fromiter((row.item for row in rows), dtype=np.int64, count=len(rows))
    return np.setdiff1d(np.arange(item_count, dtype=np.int64), labeled, assume_unique=False)


def tags_statement(
    principal: Principal,
    dataset: int | None = None,
    event: int | None = None,
    tagger: str | None = None,
    label: str | None = None,
    item: int | None = None,
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    since: datetime | None = None,
    removed: bool | None = None,
) -> Select[Any]:
    """Tag rows matching the filters, oldest first, in projects the caller may read."""
    statement = (
        select(Tag, LabelClass.name, TaggingEvent.tagger_id, TaggingEvent.run_time)
        .join(TaggingEvent, Tag.event_id == TaggingEvent.id)
        .join(LabelClass, Tag.class_id == LabelClass.id)
        .order_by(Tag.id)
    )
    if principal.role not in ("admin", "worker"):
        statement = statement.join(Dataset, Tag.dataset_id == Dataset.id).join(
            Project, Dataset.project_id == Project.id
        )
        statement = statement.where(visible_projects_clause(principal))
    filters = []
    if dataset is not None:
        filters.append(Tag.dataset_id == dataset)
    if event is not None:
        filters.append(Tag.event_id == event)
    if tagger is not None:
        filters.append(TaggingEvent.tagger_id == tagger)
    if label is not None:
        filters.append(LabelClass.name == label)
    if item is not None:
        filters.append(Tag.item_index == item)
    if min_confidence is not None:
        filters.append(Tag.confidence >= min_confidence)
    if max_confidence is not None:
        filters.append(Tag.confidence <= max_confidence)
    if since is not None:
        filters.append(TaggingEvent.run_time >= to_utc(since))
    if removed is not None:
        filters.append(Tag.removed == removed)
    return statement.where(and_(*filters)) if filters else statement


def tag_public(row: Any) -> TagPublic:
    tag, label, tagger_id, run_time = row
    return TagPublic(
        id=tag.id,
        dataset_id=tag.dataset_id,
        event_id=tag.event_id,
        item=tag.item_index,
        uri=tag.item_uri,
        label=label,
        confidence=tag.confidence,
        removed=tag.removed,
        locator=tag.locator,
        tagger_id=tagger_id,
        run_time=run_time,
    )
