"""Request and response models of Splash ML (no SQLAlchemy here: clients import this module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, NotRequired

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, with_config
from typing_extensions import TypedDict

from services.common.page import Page as Page

DatasetType = Literal["tiled", "file"]
ExportFormat = Literal["csv", "json", "zip"]

# Names travel in URL paths and become folder names in exports: no slashes or control characters.
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[^/\\\x00-\x1f]+$"
    ),
]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Confidence = Annotated[float, Field(ge=0.0, le=1.0, description="0 to 1; 1.0 for people")]
ItemIndex = Annotated[int, Field(ge=0, description="Index of the item within its data set")]


def as_utc(value: datetime) -> datetime:
    """Times are stored in UTC; SQLite returns them without a zone, so add it back."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


# projects ----
class ProjectCreate(BaseModel):
    """A new project; the caller becomes its owner."""

    name: Name
    members: list[Name] = Field(default_factory=list, description="Users it is shared with")


class MemberAdd(BaseModel):
    """A user to share a project with."""

    user: Name


class ProjectPublic(BaseModel):
    """A project, its owner and the users it is shared with."""

    name: str
    owner: str
    members: list[str]
    created_at: UtcDatetime


# data sets ----
class DatasetCreate(BaseModel):
    """A data set to label: a Tiled node or a folder of images."""

    project: Name = Field(description="Project it belongs to; created (owned by you) if new")
    name: Name
    uri: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
    type: DatasetType | None = Field(
        None, description="'tiled' or 'file'; guessed from the URI when left out"
    )
    item_count: int | None = Field(
        None, ge=0, description="Number of items; read from the data when left out"
    )


class DatasetPublic(BaseModel):
    id: int
    project: str
    name: str
    uri: str
    type: DatasetType
    item_count: int
    created_by: str
    created_at: UtcDatetime


# label classes ----
class LabelClassCreate(BaseModel):
    """A label class of a project."""

    name: Name
    color: Color | None = Field(None, description="#rrggbb; picked from a palette if left out")
    hotkey: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    order: int | None = Field(None, description="Display position; appended if left out")


class LabelClassUpdate(BaseModel):
    """Rename, recolour, re-key or reorder a class; existing tags follow it."""

    name: Name | None = None
    color: Color | None = None
    hotkey: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = None
    order: int | None = None


class LabelClassPublic(BaseModel):
    project: str
    name: str
    color: str
    hotkey: str | None
    order: int


# tagging events ----
class EventCreate(BaseModel):
    """A tagging event: one labeling pass by a person or a model job over one data set."""

    dataset_id: int
    tagger_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        None, description="Person or model/job id; your user name (or the job id) if left out"
    )
    run_time: datetime | None = Field(None, description="When the tagging ran; now if left out")
    description: str = Field("", max_length=10_000)
    accuracy: float | None = Field(None, ge=0.0)
    job_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        None, description="The MLExCompute job that produced machine labels (required for workers)"
    )


class EventPublic(BaseModel):
    id: int
    dataset_id: int
    tagger_id: str
    run_time: UtcDatetime
    description: str
    accuracy: float | None
    job_id: str | None
    created_by: str
    created_at: UtcDatetime


# tags ----
# Rows of bulk writes are TypedDicts, not models: pydantic checks 100,000 of them several times
# faster when it need not build an object per row.
@with_config(ConfigDict(extra="forbid"))
class TagCreate(TypedDict):
    """One label of one item (``confidence`` defaults to 1.0)."""

    item: ItemIndex
    label: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    confidence: NotRequired[Confidence]
    uri: NotRequired[Annotated[str, Field(max_length=4096, description="The item's URI")] | None]
    locator: NotRequired[
        Annotated[str, Field(max_length=4096, description="E.g. the Tiled URI of a mask")] | None
    ]


class TagBatch(BaseModel):
    """Tags written by one event, all or nothing (up to 100,000)."""

    tags: list[TagCreate]
    replace: bool = Field(
        False,
        description=(
            "Make these the only labels of their items: labels an item has now and that are "
            "not in the batch are recorded as removed by this event"
        ),
    )


@with_config(ConfigDict(extra="forbid"))
class TagRemove(TypedDict):
    """One label to remove from one item (recorded as an 'unlabel' tag)."""

    item: ItemIndex
    label: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    uri: NotRequired[Annotated[str, Field(max_length=4096)] | None]


class UntagBatch(BaseModel):
    """Labels removed by one event, all or nothing."""

    tags: list[TagRemove]


class TagWriteResult(BaseModel):
    """What a bulk write stored."""

    event_id: int
    labeled: int = Field(description="Label rows written")
    unlabeled: int = Field(description="Unlabel rows written")


class TagPublic(BaseModel):
    """One stored tag row; ``removed`` rows record that a label was taken off."""

    id: int
    dataset_id: int
    event_id: int
    item: int
    uri: str | None
    label: str
    confidence: float
    removed: bool
    locator: str | None
    tagger_id: str
    run_time: UtcDatetime


class CurrentLabel(BaseModel):
    """One label an item has now, and the event that gave it."""

    label: str
    confidence: float
    event_id: int
    tagger_id: str
    locator: str | None


class ItemLabels(BaseModel):
    item: int
    uri: str | None
    labels: list[CurrentLabel]


class LabelsPage(BaseModel):
    """Current labels, one entry per labeled item, and the number of items per class."""

    items: list[ItemLabels]
    total: int
    offset: int
    limit: int
    counts: dict[str, int] = Field(description="Items carrying each class (all pages)")
