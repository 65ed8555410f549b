"""MLExContent tables: algorithm cards, trained models and the links that record lineage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class ContentBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Algorithm(ContentBase):
    """One published version of an algorithm card; immutable except for its deprecation."""

    __tablename__ = "content_algorithms"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_content_algorithms_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(64))
    # Semantic version parts, so that SQL can order versions and pick the newest.
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)
    patch: Mapped[int] = mapped_column(Integer)
    prerelease: Mapped[str] = mapped_column(String(64), default="")
    application: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reference: Mapped[str] = mapped_column(String(512), default="")
    entry_point: Mapped[str | None] = mapped_column(String(512), nullable=True)
    image: Mapped[str | None] = mapped_column(String(512), nullable=True)
    command: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    gpu: Mapped[str] = mapped_column(String(16), default="none")
    memory_gb: Mapped[float] = mapped_column(Float, default=2.0)
    cpus: Mapped[int] = mapped_column(Integer, default=1)
    queue: Mapped[str] = mapped_column(String(64))
    steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    inputs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    outputs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    framework: Mapped[str] = mapped_column(String(64), default="none")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    deprecation_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrainedModel(ContentBase):
    """A trained model: its weights, how it was trained, and where it came from (lineage)."""

    __tablename__ = "content_models"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    algorithm_id: Mapped[int] = mapped_column(
        ForeignKey("content_algorithms.id", ondelete="RESTRICT"), index=True
    )
    framework: Mapped[str] = mapped_column(String(64))
    weights_uri: Mapped[str] = mapped_column(String(2048))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    parent_model_id: Mapped[str | None] = mapped_column(
        ForeignKey("content_models.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    created_by: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(128), nullable=True)

    algorithm: Mapped[Algorithm] = relationship(lazy="joined")
    links: Mapped[list[ModelLink]] = relationship(
        back_populates="model",
        cascade="all, delete-orphan",
        order_by="ModelLink.id",
        lazy="selectin",
    )

    def linked(self, kind: str) -> list[str]:
        """The values of one kind of link (``dataset``, ``tagging_event`` or ``tag``)."""
        return [link.value for link in self.links if link.kind == kind]


# Kinds of ModelLink rows: each is a searchable fact about a model.
LINK_KINDS = ("dataset", "tagging_event", "tag")


class ModelLink(ContentBase):
    """One searchable fact about a model: a data set URI, a tagging event id or a tag."""

    __tablename__ = "content_model_links"
    __table_args__ = (Index("ix_content_model_links_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(
        ForeignKey("content_models.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2048))

    model: Mapped[TrainedModel] = relationship(back_populates="links")
