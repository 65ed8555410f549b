"""Tables of Splash ML: projects, data sets, label classes, tagging events and tags.

Every table is prefixed ``labels_`` so the service can share one PostgreSQL database.
Tags point at classes by id, so renaming or recolouring a class never touches a tag.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
TagId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class LabelsBase(DeclarativeBase):
    pass


class Project(LabelsBase):
    """A named group of data sets and label classes, with an owner and members."""

    __tablename__ = "labels_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    owner: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProjectMember(LabelsBase):
    """A user a project is shared with."""

    __tablename__ = "labels_project_members"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("labels_projects.id", ondelete="CASCADE"), primary_key=True
    )
    user: Mapped[str] = mapped_column(String(128), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Dataset(LabelsBase):
    """A Tiled node or a folder whose items (images) are addressed by index."""

    __tablename__ = "labels_datasets"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_labels_datasets_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("labels_projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(256))
    uri: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    item_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LabelClass(LabelsBase):
    """One label of a project: name, colour, hot key and display order."""

    __tablename__ = "labels_classes"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="uq_labels_classes_name"),
        UniqueConstraint("project_id", "hotkey", name="uq_labels_classes_hotkey"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("labels_projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    color: Mapped[str] = mapped_column(String(7))
    hotkey: Mapped[str | None] = mapped_column(String(16), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TaggingEvent(LabelsBase):
    """One labeling pass over a data set by a person or a model job; never rewritten."""

    __tablename__ = "labels_events"
    __table_args__ = (Index("ix_labels_events_dataset_time", "dataset_id", "run_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("labels_datasets.id", ondelete="CASCADE"))
    tagger_id: Mapped[str] = mapped_column(String(256), index=True)
    run_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    description: Mapped[str] = mapped_column(Text, default="")
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Tag(LabelsBase):
    """One label (or, with ``removed``, one unlabel) of one item, written by one event."""

    __tablename__ = "labels_tags"
    # Few indexes, because every one slows bulk writes: the unique key (also the event filter),
    # (data set, item) for item queries, (data set, id) for current labels and for pages of
    # GET /tags in id order. Deleting a class scans, which is rare.
    __table_args__ = (
        UniqueConstraint("event_id", "item_index", "class_id", name="uq_labels_tags_event_item"),
        Index("ix_labels_tags_dataset_item", "dataset_id", "item_index"),
        Index("ix_labels_tags_dataset_order", "dataset_id", "id"),
    )

    id: Mapped[int] = mapped_column(TagId, primary_key=True, autoincrement=True)
    # No foreign keys on this table: PostgreSQL checks one per row and per key, which made a
    # 100,000-row write several times slower. The service validates events, data sets and
    # classes before writing, locks the classes it writes against, and deletes a class's tags
    # with the class.
    event_id: Mapped[int] = mapped_column(Integer)
    dataset_id: Mapped[int] = mapped_column(Integer)
    item_index: Mapped[int] = mapped_column(Integer)
    item_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    class_id: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    locator: Mapped[str | None] = mapped_column(Text, nullable=True)
