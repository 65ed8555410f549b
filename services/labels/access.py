"""Who may see and change what: project ownership, membership and roles."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from services.common.auth.store import Principal
from services.common.errors import Forbidden, NotFound
from services.labels.models import Dataset, Project, ProjectMember

# Workers run jobs for every user, so they read every project (they write only their jobs' events).
READ_ALL_ROLES = ("admin", "worker")


def is_member(session: Session, project: Project, user: str) -> bool:
    """True when ``user`` owns the project or it is shared with them."""
    if project.owner == user:
        return True
    found = session.scalar(
        select(ProjectMember.user).where(
            ProjectMember.project_id == project.id, ProjectMember.user == user
        )
    )
    return found is not None


def visible_projects_clause(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on ``Project.id`` keeping the projects the caller may read."""
    if principal.role in READ_ALL_ROLES:
        return true()
    shared = select(ProjectMember.project_id).where(ProjectMember.user == principal.name)
    return or_(Project.owner == principal.name, Project.id.in_(shared))


def check_read(session: Session, principal: Principal, project: Project) -> None:
    """Raise 403 unless the caller may read the project."""
    if principal.role in READ_ALL_ROLES or is_member(session, project, principal.name):
        return
    raise Forbidden(f"project {project.name!r} is not shared with {principal.name!r}")


def check_write(session: Session, principal: Principal, project: Project) -> None:
    """Raise 403 unless the caller may change the project's data sets and classes."""
    if principal.is_admin:
        return
    if principal.role == "worker":
        raise Forbidden("a worker key may only write tagging events of its own jobs")
    if not is_member(session, project, principal.name):
        raise Forbidden(f"project {project.name!r} is not shared with {principal.name!r}")


def check_owner(principal: Principal, project: Project) -> None:
    """Raise 403 unless the caller owns the project (or is an admin)."""
    if not principal.is_admin and project.owner != principal.name:
        raise Forbidden(f"only {project.owner!r}, the owner, may share project {project.name!r}")


def readable_dataset(session: Session, principal: Principal, dataset_id: int) -> Dataset:
    """The data set with this id if the caller may read it; 404 or 403 otherwise."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no data set {dataset_id}", field="dataset_id")
    check_read(session, principal, session.get_one(Project, dataset.project_id))
    return dataset
