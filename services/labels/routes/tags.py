"""Querying stored tag rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.common.db import read_only
from services.common.deps import CurrentUser, SessionDep
from services.common.pagination import PageDep
from services.labels import tagging
from services.labels.schemas import Page, TagPublic

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get(
    "",
    response_model=Page[TagPublic],
    summary="Query tags",
    description=(
        "Raw tag rows, oldest first, including 'unlabel' rows (`removed: true`; filter with "
        "`removed=false`). For what items carry now, use `/datasets/{id}/labels`."
    ),
)
def list_tags(
    session: SessionDep,
    principal: CurrentUser,
    page: PageDep,
    dataset: Annotated[int | None, Query(description="Data set id")] = None,
    event: Annotated[int | None, Query(description="Event id")] = None,
    tagger: Annotated[str | None, Query(description="Tagger id of the event")] = None,
    label: Annotated[str | None, Query(description="Class name")] = None,
    item: Annotated[int | None, Query(ge=0, description="Item index")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    since: Annotated[datetime | None, Query(description="Events run at or after this time")] = None,
    removed: Annotated[bool | None, Query(description="Only unlabel (true) or label rows")] = None,
) -> dict:
    read_only(session)
    return tagging.list_tags(
        session,
        principal,
        page.offset,
        page.limit,
        dataset=dataset,
        event=event,
        tagger=tagger,
        label=label,
        item=item,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        since=since,
        removed=removed,
    )
