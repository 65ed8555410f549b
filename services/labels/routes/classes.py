"""Label classes of a project: name, colour, hot key, order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from services.common.auth.store import Principal
from services.common.db import read_only
from services.common.deps import CurrentUser, RequireRole, SessionDep
from services.common.pagination import PageDep, paginate
from services.labels import store
from services.labels.schemas import LabelClassCreate, LabelClassPublic, LabelClassUpdate, Page

router = APIRouter(prefix="/projects/{project}/classes", tags=["classes"])

Writer = Annotated[Principal, RequireRole("user", "contributor")]
ProjectName = Annotated[str, Path(description="Project name")]
ClassName = Annotated[str, Path(description="Class name")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LabelClassPublic,
    summary="Add a label class",
    description=(
        "Creates the project (owned by you) if it does not exist. 409 if the name or hot key "
        "is taken in the project."
    ),
)
def create_class(
    project: ProjectName, body: LabelClassCreate, session: SessionDep, principal: Writer
) -> LabelClassPublic:
    return store.create_class(session, principal, project, body)


@router.get(
    "",
    response_model=Page[LabelClassPublic],
    summary="List a project's label classes",
    description="In display order.",
)
def list_classes(
    project: ProjectName, session: SessionDep, principal: CurrentUser, page: PageDep
) -> dict:
    read_only(session)
    found = store.readable_project(session, principal, project)
    statement = store.classes_statement(found.id)
    return paginate(session, statement, page, lambda row: store.class_public(row, found.name))


@router.patch(
    "/{name}",
    response_model=LabelClassPublic,
    summary="Rename, recolour, re-key or reorder a class",
    description="Tags refer to classes by id, so they follow the change.",
)
def update_class(
    project: ProjectName,
    name: ClassName,
    body: LabelClassUpdate,
    session: SessionDep,
    principal: Writer,
) -> LabelClassPublic:
    return store.update_class(session, principal, project, name, body)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a class",
    description="409 while tags use it, unless `cascade=true`, which deletes those tags too.",
)
def delete_class(
    project: ProjectName,
    name: ClassName,
    session: SessionDep,
    principal: Writer,
    cascade: Annotated[bool, Query(description="Also delete the tags using it")] = False,
) -> None:
    store.delete_class(session, principal, project, name, cascade)
