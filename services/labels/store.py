"""Queries on projects, data sets, label classes and events (no HTTP here)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.auth.store import Principal
from services.common.errors import Conflict, Invalid, NotFound
from services.labels.access import (
    check_owner,
    check_read,
    check_write,
    readable_dataset,
    visible_projects_clause,
)
from services.labels.models import (
    Dataset,
    LabelClass,
    Project,
    ProjectMember,
    Tag,
    TaggingEvent,
)
from services.labels.schemas import (
    DatasetCreate,
    DatasetPublic,
    EventCreate,
    EventPublic,
    LabelClassCreate,
    LabelClassPublic,
    LabelClassUpdate,
    ProjectCreate,
    ProjectPublic,
)

R = TypeVar("R")

# Matplotlib's tab10: distinct colours for the first classes of a project.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def to_utc(value: datetime | None) -> datetime:
    """A timezone-aware UTC time (naive times are taken as UTC); now when None."""
    if value is None:
        return datetime.now(UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def commit_or_conflict(session: Session, message: str, field: str | None = None) -> None:
    """Commit; a unique constraint that fails (a racing writer) becomes a 409."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(message, field=field) from None


# projects ----
def project_by_name(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise NotFound(f"no project {name!r}", field="project")
    return project


def project_members(session: Session, project: Project) -> list[str]:
    statement = select(ProjectMember.user).where(ProjectMember.project_id == project.id)
    return list(session.scalars(statement.order_by(ProjectMember.user)))


def project_public(session: Session, project: Project) -> ProjectPublic:
    return ProjectPublic(
        name=project.name,
        owner=project.owner,
        members=project_members(session, project),
        created_at=project.created_at,
    )


def create_project(session: Session, principal: Principal, body: ProjectCreate) -> ProjectPublic:
    if session.scalar(select(Project.id).where(Project.name == body.name)) is not None:
        raise Conflict(f"project {body.name!r} already exists", field="name")
    project = Project(name=body.name, owner=principal.name)
    session.add(project)
    session.flush()
    for user in sorted(set(body.members) - {principal.name}):
        session.add(ProjectMember(project_id=project.id, user=user))
    commit_or_conflict(session, f"project {body.name!r} already exists", "name")
    return project_public(session, project)


def ensure_project(session: Session, principal: Principal, name: str) -> Project:
    """The project called ``name``, created and owned by the caller when it does not exist."""
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        project = Project(name=name, owner=principal.name)
        session.add(project)
        session.flush()
    check_write(session, principal, project)
    return project


def readable_project(session: Session, principal: Principal, name: str) -> Project:
    project = project_by_name(session, name)
    check_read(session, principal, project)
    return project


def list_projects_statement(principal: Principal) -> Select[Any]:
    return select(Project).where(visible_projects_clause(principal)).order_by(Project.name)


def add_member(session: Session, principal: Principal, name: str, user: str) -> ProjectPublic:
    project = project_by_name(session, name)
    check_owner(principal, project)
    if user != project.owner and user not in project_members(session, project):
        session.add(ProjectMember(project_id=project.id, user=user))
        commit_or_conflict(session, f"{user!r} is already a member of {name!r}", "user")
    return project_public(session, project)


def remove_member(session: Session, principal: Principal, name: str, user: str) -> None:
    project = project_by_name(session, name)
    check_owner(principal, project)
    removed = session.execute(
        delete(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.user == user
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"{user!r} is not a member of project {name!r}", field="user")
    session.commit()


# data sets ----
def dataset_public(dataset: Dataset, project_name: str) -> DatasetPublic:
    return DatasetPublic(
        id=dataset.id,
        project=project_name,
        name=dataset.name,
        uri=dataset.uri,
        type=dataset.type,  # type: ignore[arg-type]
        item_count=dataset.item_count,
        created_by=dataset.created_by,
        created_at=dataset.created_at,
    )


def create_dataset(
    session: Session,
    principal: Principal,
    body: DatasetCreate,
    count_items: Callable[[str], int],
) -> DatasetPublic:
    """Register a data set; ``count_items(uri)`` is asked when no item count is given."""
    project = ensure_project(session, principal, body.project)
    taken = select(Dataset.id).where(Dataset.project_id == project.id, Dataset.name == body.name)
    if session.scalar(taken) is not None:
        raise Conflict(
            f"project {body.project!r} already has a data set {body.name!r}", field="name"
        )
    kind = body.type or ("tiled" if body.uri.startswith(("http://", "https://")) else "file")
    item_count = body.item_count
    if item_count is None:
        session.rollback()  # release the write lock while the data is read
        item_count = count_items(body.uri)
        project = ensure_project(session, principal, body.project)
    dataset = Dataset(
        project_id=project.id,
        name=body.name,
        uri=body.uri,
        type=kind,
        item_count=item_count,
        created_by=principal.name,
    )
    session.add(dataset)
    commit_or_conflict(
        session, f"project {body.project!r} already has a data set {body.name!r}", "name"
    )
    return dataset_public(dataset, project.name)


def get_dataset(session: Session, principal: Principal, dataset_id: int) -> DatasetPublic:
    dataset = readable_dataset(session, principal, dataset_id)
    return dataset_public(dataset, project_name(session, dataset.project_id))


def list_datasets_statement(principal: Principal, project: str | None) -> Select[Any]:
    statement = (
        select(Dataset, Project.name)
        .join(Project, Dataset.project_id == Project.id)
        .where(visible_projects_clause(principal))
        .order_by(Dataset.id)
    )
    if project is not None:
        statement = statement.where(Project.name == project)
    return statement


# label classes ----
def class_public(label_class: LabelClass, project_name: str) -> LabelClassPublic:
    return LabelClassPublic(
        project=project_name,
        name=label_class.name,
        color=label_class.color,
        hotkey=label_class.hotkey,
        order=label_class.position,
    )


def classes_statement(project_id: int) -> Select[Any]:
    """A project's classes in display order."""
    statement = select(LabelClass).where(LabelClass.project_id == project_id)
    return statement.order_by(LabelClass.position, LabelClass.id)


def project_classes(session: Session, project_id: int) -> list[LabelClass]:
    return list(session.scalars(classes_statement(project_id)))


def class_by_name(session: Session, project: Project, name: str) -> LabelClass:
    found = session.scalar(
        select(LabelClass).where(LabelClass.project_id == project.id, LabelClass.name == name)
    )
    if found is None:
        raise NotFound(f"project {project.name!r} has no class {name!r}", field="name")
    return found


def _check_free(session: Session, project: Project, field: str, value: Any, own_id: int) -> None:
    column = LabelClass.name if field == "name" else LabelClass.hotkey
    statement = select(LabelClass.id).where(
        LabelClass.project_id == project.id, column == value, LabelClass.id != own_id
    )
    if value is not None and session.scalar(statement) is not None:
        raise Conflict(
            f"project {project.name!r} already has a class with {field} {value!r}", field=field
        )


def create_class(
    session: Session, principal: Principal, project_name: str, body: LabelClassCreate
) -> LabelClassPublic:
    project = ensure_project(session, principal, project_name)
    _check_free(session, project, "name", body.name, -1)
    _check_free(session, project, "hotkey", body.hotkey, -1)
    existing = project_classes(session, project.id)
    label_class = LabelClass(
        project_id=project.id,
        name=body.name,
        color=body.color or PALETTE[len(existing) % len(PALETTE)],
        hotkey=body.hotkey,
        position=body.order if body.order is not None else len(existing),
    )
    session.add(label_class)
    commit_or_conflict(
        session, f"project {project_name!r} already has a class {body.name!r}", "name"
    )
    return class_public(label_class, project.name)


def update_class(
    session: Session, principal: Principal, project_name: str, name: str, body: LabelClassUpdate
) -> LabelClassPublic:
    project = project_by_name(session, project_name)
    check_write(session, principal, project)
    label_class = class_by_name(session, project, name)
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes:
        if changes["name"] is None:
            raise Invalid("a class name cannot be empty", field="name")
        _check_free(session, project, "name", changes["name"], label_class.id)
        label_class.name = changes["name"]
    if "color" in changes:
        if changes["color"] is None:
            raise Invalid("a class needs a colour", field="color")
        label_class.color = changes["color"]
    if "hotkey" in changes:
        _check_free(session, project, "hotkey", changes["hotkey"], label_class.id)
        label_class.hotkey = changes["hotkey"]
    if "order" in changes:
        if changes["order"] is None:
            raise Invalid("order must be an integer", field="order")
        label_class.position = changes["order"]
    commit_or_conflict(session, f"class {name!r} clashes with another class", "name")
    return class_public(label_class, project.name)


def delete_class(
    session: Session, principal: Principal, project_name: str, name: str, cascade: bool
) -> None:
    """Delete a class; refused (409) while tags use it, unless ``cascade`` removes them too."""
    project = project_by_name(session, project_name)
    check_write(session, principal, project)
    label_class = class_by_name(session, project, name)
    # Wait for writers holding the class (they share-lock it), so no tag of it is left behind.
    session.execute(select(LabelClass.id).where(LabelClass.id == label_class.id).with_for_update())
    in_use = session.scalar(select(exists().where(Tag.class_id == label_class.id)))
    if in_use and not cascade:
        count = session.scalar(select(func.count()).where(Tag.class_id == label_class.id))
        raise Conflict(
            f"class {name!r} is used by {count} tag(s); pass cascade=true to delete them too",
            field="name",
        )
    session.execute(delete(Tag).where(Tag.class_id == label_class.id))
    session.delete(label_class)
    session.commit()


# events ----
def event_public(event: TaggingEvent) -> EventPublic:
    return EventPublic.model_validate(event, from_attributes=True)


def create_event(session: Session, principal: Principal, body: EventCreate) -> EventPublic:
    """Open a tagging event on a data set (the caller's job check is done before)."""
    dataset = readable_dataset(session, principal, body.dataset_id)
    if principal.role != "worker":
        check_write(session, principal, session.get_one(Project, dataset.project_id))
    tagger = body.tagger_id or (body.job_id if principal.role == "worker" else principal.name)
    event = TaggingEvent(
        dataset_id=dataset.id,
        tagger_id=tagger,
        run_time=to_utc(body.run_time),
        description=body.description,
        accuracy=body.accuracy,
        job_id=body.job_id,
        created_by=principal.name,
    )
    session.add(event)
    session.commit()
    return event_public(event)


def readable_event(session: Session, principal: Principal, event_id: int) -> TaggingEvent:
    event = session.get(TaggingEvent, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}", field="event_id")
    readable_dataset(session, principal, event.dataset_id)
    return event


def list_events_statement(
    principal: Principal,
    dataset_id: int | None,
    tagger: str | None,
    job_id: str | None,
) -> Select[Any]:
    statement = (
        select(TaggingEvent)
        .join(Dataset, TaggingEvent.dataset_id == Dataset.id)
        .join(Project, Dataset.project_id == Project.id)
        .where(visible_projects_clause(principal))
        .order_by(TaggingEvent.run_time.desc(), TaggingEvent.id.desc())
    )
    if dataset_id is not None:
        statement = statement.where(TaggingEvent.dataset_id == dataset_id)
    if tagger is not None:
        statement = statement.where(TaggingEvent.tagger_id == tagger)
    if job_id is not None:
        statement = statement.where(TaggingEvent.job_id == job_id)
    return statement


def project_name(session: Session, project_id: int) -> str:
    return session.get_one(Project, project_id).name
