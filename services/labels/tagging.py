"""Writing tags in bulk and reading them back: raw rows, current labels, unlabeled items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.auth.store import Principal
from services.common.errors import Conflict, ErrorDetail, Forbidden, Invalid
from services.labels.access import visible_projects_clause
from services.labels.current import current_labels
from services.labels.models import Dataset, LabelClass, Project, Tag, TaggingEvent
from services.labels.schemas import TagCreate, TagPublic, TagRemove, TagWriteResult
from services.labels.store import to_utc

MAX_ERROR_DETAILS = 20
ANALYZE_AFTER_ROWS = 10_000
TAG_COLUMNS = (
    "event_id",
    "dataset_id",
    "item_index",
    "item_uri",
    "class_id",
    "confidence",
    "removed",
    "locator",
)


class DuplicateTag(Exception):
    """The event already has one of the (item, class) pairs being written."""


def check_event_writer(principal: Principal, event: TaggingEvent) -> None:
    """Only the caller who opened an event (or an admin) adds tags to it."""
    if not principal.is_admin and event.created_by != principal.name:
        raise Forbidden(f"event {event.id} belongs to {event.created_by!r}")


def class_ids(session: Session, dataset: Dataset) -> dict[str, int]:
    """The project's classes by name, share-locked until commit (PostgreSQL) so that a class
    cannot be deleted while tags that use it are being written."""
    statement = (
        select(LabelClass.name, LabelClass.id)
        .where(LabelClass.project_id == dataset.project_id)
        .with_for_update(read=True)
    )
    return {name: class_id for name, class_id in session.execute(statement)}


def _validate_rows(
    rows: Sequence[TagCreate | TagRemove], dataset: Dataset, classes: dict[str, int]
) -> np.ndarray:
    """Check every row against the data set and the project's classes; return class ids.

    Item ranges and duplicates are checked on whole columns; only when something is wrong are
    the bad rows named: one 422 for the first, with up to 20 problems in ``details``.
    """
    count = len(rows)
    items = np.fromiter((row["item"] for row in rows), dtype=np.int64, count=count)
    resolved = np.fromiter(
        (classes.get(row["label"], -1) for row in rows), dtype=np.int64, count=count
    )
    out_of_range = items >= dataset.item_count
    unknown = resolved < 0
    known = np.flatnonzero(~unknown)
    keys = items[known] * (max(classes.values(), default=0) + 1) + resolved[known]
    _, first_seen = np.unique(keys, return_index=True)
    repeated = np.zeros(count, dtype=bool)
    repeated[known] = True
    repeated[known[first_seen]] = False
    bad = np.flatnonzero(out_of_range | unknown | repeated)
    if bad.size == 0:
        return resolved
    problems: list[ErrorDetail] = []
    known = ", ".join(sorted(classes)) or "none yet"
    for position in bad[:MAX_ERROR_DETAILS].tolist():
        row = rows[position]
        if unknown[position]:
            message = f"unknown class {row['label']!r}; known: {known}"
            problems.append(ErrorDetail(field=f"tags.{position}.label", message=message))
        if out_of_range[position]:
            message = (
                f"item {row['item']} is out of range: the data set has {dataset.item_count} items"
            )
            problems.append(ErrorDetail(field=f"tags.{position}.item", message=message))
        if repeated[position]:
            message = f"item {row['item']} has label {row['label']!r} twice in this request"
            problems.append(ErrorDetail(field=f"tags.{position}.label", message=message))
    first = problems[0]
    raise Invalid(f"{first.field}: {first.message}", field=first.field, details=problems)


def bulk_insert_tags(session: Session, records: list[tuple[Any, ...]]) -> None:
    """Insert tag rows (tuples in TAG_COLUMNS order) in the session's transaction, fast.

    SQLite gets one ``executemany`` on the driver, PostgreSQL (psycopg) a ``COPY``; other
    drivers a Core executemany. Raises DuplicateTag on the unique (event, item, class).
    """
    connection = session.connection()
    columns = ", ".join(TAG_COLUMNS)
    driver = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        import sqlite3

        marks = ", ".join("?" * len(TAG_COLUMNS))
        try:
            driver.executemany(f"INSERT INTO labels_tags ({columns}) VALUES ({marks})", records)
        except sqlite3.IntegrityError as error:
            raise DuplicateTag(str(error)) from None
        return
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        import psycopg

        try:
            copy_sql = f"COPY labels_tags ({columns}) FROM STDIN"
            with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for record in records:
                    copy.write_row(record)
        except psycopg.IntegrityError as error:
            raise DuplicateTag(str(error)) from None
        return
    try:
        connection.execute(
            insert(Tag.__table__), [dict(zip(TAG_COLUMNS, r, strict=True)) for r in records]
        )
    except IntegrityError as error:
        raise DuplicateTag(str(error)) from None


def _store(session: Session, event: TaggingEvent, records: list[tuple[Any, ...]]) -> None:
    """Insert and commit, all or nothing; an (item, class) the event already has → 409."""
    try:
        if records:
            bulk_insert_tags(session, records)
        session.commit()
    except (DuplicateTag, IntegrityError):
        session.rollback()
        raise Conflict(
            f"event {event.id} already has some of these (item, label) pairs; "
            "events are never rewritten: write the change in a new event",
            field="tags",
        ) from None
    if len(records) >= ANALYZE_AFTER_ROWS and session.get_bind().dialect.name == "postgresql":
        # Fresh statistics now rather than at autovacuum's next pass: without them PostgreSQL
        # plans a 100,000-row data set as a few hundred rows, and pages of GET /tags crawl.
        session.execute(text("ANALYZE labels_tags"))
        session.commit()


def write_tags(
    session: Session, event: TaggingEvent, rows: Sequence[TagCreate], replace: bool
) -> TagWriteResult:
    """Store labels for one event, all or nothing."""
    dataset = session.get_one(Dataset, event.dataset_id)
    resolved = _validate_rows(rows, dataset, class_ids(session, dataset)).tolist()
    event_id, dataset_id = event.id, dataset.id
    records: list[tuple[Any, ...]] = [
        (
            event_id,
            dataset_id,
            row["item"],
            row.get("uri"),
            class_id,
            row.get("confidence", 1.0),
            False,
            row.get("locator"),
        )
        for row, class_id in zip(rows, resolved, strict=True)
    ]
    unlabeled = 0
    if replace and rows:
        wanted = {(row["item"], class_id) for row, class_id in zip(rows, resolved, strict=True)}
        items = {row["item"] for row in rows}
        for current in current_labels(session, dataset_id).rows():
            if current.item in items and (current.item, current.class_id) not in wanted:
                records.append(
                    (
                        event_id,
                        dataset_id,
                        current.item,
                        current.uri,
                        current.class_id,
                        1.0,
                        True,
                        None,
                    )
                )
                unlabeled += 1
    _store(session, event, records)
    return TagWriteResult(event_id=event_id, labeled=len(rows), unlabeled=unlabeled)


def remove_tags(session: Session, event: TaggingEvent, rows: Sequence[TagRemove]) -> TagWriteResult:
    """Record that labels were taken off items, as 'unlabel' rows of this event."""
    dataset = session.get_one(Dataset, event.dataset_id)
    resolved = _validate_rows(rows, dataset, class_ids(session, dataset)).tolist()
    records: list[tuple[Any, ...]] = [
        (event.id, dataset.id, row["item"], row.get("uri"), class_id, 1.0, True, None)
        for row, class_id in zip(rows, resolved, strict=True)
    ]
    _store(session, event, records)
    return TagWriteResult(event_id=event.id, labeled=0, unlabeled=len(records))


# reading ----
def list_tags(
    session: Session,
    principal: Principal,
    offset: int,
    limit: int,
    dataset: int | None = None,
    event: int | None = None,
    tagger: str | None = None,
    label: str | None = None,
    item: int | None = None,
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    since: datetime | None = None,
    removed: bool | None = None,
) -> dict[str, Any]:
    """One page of tag rows matching the filters, oldest first, in projects the caller reads.

    The page's ids are found first, joining only the tables the filters need, so a page deep
    into 100,000 rows costs an index walk rather than a sort of joined rows.
    """
    ids = select(Tag.id)
    if tagger is not None or since is not None:
        ids = ids.join(TaggingEvent, Tag.event_id == TaggingEvent.id)
    if label is not None:
        ids = ids.join(LabelClass, Tag.class_id == LabelClass.id)
    if principal.role not in ("admin", "worker"):
        ids = ids.join(Dataset, Tag.dataset_id == Dataset.id).join(
            Project, Dataset.project_id == Project.id
        )
        ids = ids.where(visible_projects_clause(principal))
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
    if filters:
        ids = ids.where(and_(*filters))
    total = session.scalar(select(func.count()).select_from(ids.subquery()))
    page_ids = ids.order_by(Tag.id).offset(offset).limit(limit).subquery()
    rows = session.execute(
        select(Tag, LabelClass.name, TaggingEvent.tagger_id, TaggingEvent.run_time)
        .join(TaggingEvent, Tag.event_id == TaggingEvent.id)
        .join(LabelClass, Tag.class_id == LabelClass.id)
        .where(Tag.id.in_(select(page_ids.c.id)))
        .order_by(Tag.id)
    ).all()
    return {
        "items": [tag_public(row) for row in rows],
        "total": int(total or 0),
        "offset": offset,
        "limit": limit,
    }


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
