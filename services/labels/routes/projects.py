"""Projects: who owns a project's data sets and classes, and who they are shared with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from services.common.auth.store import Principal
from services.common.db import read_only
from services.common.deps import CurrentUser, RequireRole, SessionDep
from services.common.pagination import PageDep, paginate
from services.labels import store
from services.labels.schemas import MemberAdd, Page, ProjectCreate, ProjectPublic

router = APIRouter(prefix="/projects", tags=["projects"])

Writer = Annotated[Principal, RequireRole("user", "contributor")]
ProjectName = Annotated[str, Path(description="Project name")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectPublic,
    summary="Create a project",
    description="The caller becomes the owner; `members` share it. 409 if the name is taken.",
)
def create_project(body: ProjectCreate, session: SessionDep, principal: Writer) -> ProjectPublic:
    return store.create_project(session, principal, body)


@router.get(
    "",
    response_model=Page[ProjectPublic],
    summary="List projects",
    description="Projects you own or that are shared with you (admins and workers see all).",
)
def list_projects(session: SessionDep, principal: CurrentUser, page: PageDep) -> dict:
    read_only(session)
    return paginate(
        session,
        store.list_projects_statement(principal),
        page,
        lambda project: store.project_public(session, project),
    )


@router.get(
    "/{project}",
    response_model=ProjectPublic,
    summary="Get a project",
    description="404 if it does not exist, 403 if it is not shared with you.",
)
def get_project(project: ProjectName, session: SessionDep, principal: CurrentUser) -> ProjectPublic:
    read_only(session)
    return store.project_public(session, store.readable_project(session, principal, project))


@router.post(
    "/{project}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectPublic,
    summary="Share a project with a user",
    description="Only the owner (or an admin) may share. Adding a member twice changes nothing.",
)
def add_member(
    project: ProjectName, body: MemberAdd, session: SessionDep, principal: Writer
) -> ProjectPublic:
    return store.add_member(session, principal, project, body.user)


@router.delete(
    "/{project}/members/{user}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop sharing a project with a user",
    description="Only the owner (or an admin) may do this; 404 if the user is not a member.",
)
def remove_member(project: ProjectName, user: str, session: SessionDep, principal: Writer) -> None:
    store.remove_member(session, principal, project, user)
