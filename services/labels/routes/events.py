"""Tagging events, and the bulk writes of tags that belong to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from services.common.auth.store import Principal
from services.common.db import read_only
from services.common.deps import CurrentUser, RequireRole, SessionDep
from services.common.errors import Invalid
from services.common.pagination import PageDep, paginate
from services.labels import store, tagging
from services.labels.jobs import check_worker_job
from services.labels.schemas import (
    EventCreate,
    EventPublic,
    Page,
    TagBatch,
    TagWriteResult,
    UntagBatch,
)

router = APIRouter(prefix="/events", tags=["events"])

WORKER_HEADER = "X-MLEx-Worker"
Tagger = Annotated[Principal, RequireRole("user", "contributor", "worker")]
EventId = Annotated[int, Path(description="Event id")]


def _api_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EventPublic,
    summary="Open a tagging event",
    description=(
        "Every write of tags belongs to an event, so labeling is versioned. A worker key must "
        "give the `job_id` of a job MLExCompute reports `running` on that worker: the key's "
        "user name, or the worker name sent in the `X-MLEx-Worker` header (403 otherwise)."
    ),
)
def create_event(
    body: EventCreate, request: Request, session: SessionDep, principal: Tagger
) -> EventPublic:
    settings = request.app.state.settings
    check_worker_job(
        principal,
        body.job_id,
        settings.worker_job_check,
        settings.compute_url,
        _api_key(request),
        timeout=settings.worker_job_check_timeout,
        http=getattr(request.app.state, "compute_http", None),
        worker_name=request.headers.get(WORKER_HEADER),
    )
    return store.create_event(session, principal, body)


@router.get(
    "",
    response_model=Page[EventPublic],
    summary="List tagging events",
    description="Newest first, in the projects you can see.",
)
def list_events(
    session: SessionDep,
    principal: CurrentUser,
    page: PageDep,
    dataset: Annotated[int | None, Query(description="Only this data set's")] = None,
    tagger: Annotated[str | None, Query(description="Only this tagger's")] = None,
    job_id: Annotated[str | None, Query(description="Only this job's")] = None,
) -> dict:
    read_only(session)
    statement = store.list_events_statement(principal, dataset, tagger, job_id)
    return paginate(session, statement, page, store.event_public)


@router.get("/{event_id}", response_model=EventPublic, summary="Get a tagging event")
def get_event(event_id: EventId, session: SessionDep, principal: CurrentUser) -> EventPublic:
    read_only(session)
    return store.event_public(store.readable_event(session, principal, event_id))


def _check_size(request: Request, count: int) -> None:
    limit = request.app.state.settings.max_tags_per_request
    if count > limit:
        raise Invalid(f"{count} tags in one request; at most {limit}", field="tags")


@router.post(
    "/{event_id}/tags",
    status_code=status.HTTP_201_CREATED,
    response_model=TagWriteResult,
    summary="Label items (bulk)",
    description=(
        "Up to 100,000 tags, all or nothing: one bad row (unknown class, item out of range, "
        "confidence outside 0..1, the same label twice) rejects the request with 422 naming "
        "it (`tags.17.label`). An (item, label) the event already has gives 409. With "
        "`replace`, other labels the items carry now are recorded as removed by this event."
    ),
)
def add_tags(
    event_id: EventId, body: TagBatch, request: Request, session: SessionDep, principal: Tagger
) -> TagWriteResult:
    _check_size(request, len(body.tags))
    event = store.readable_event(session, principal, event_id)
    tagging.check_event_writer(principal, event)
    return tagging.write_tags(session, event, body.tags, body.replace)


@router.delete(
    "/{event_id}/tags",
    response_model=TagWriteResult,
    summary="Unlabel items (bulk)",
    description=(
        "Records, in this event, that labels were taken off items ('unlabel' rows); nothing "
        "is erased. All or nothing, validated like `POST`."
    ),
)
def remove_tags(
    event_id: EventId, body: UntagBatch, request: Request, session: SessionDep, principal: Tagger
) -> TagWriteResult:
    _check_size(request, len(body.tags))
    event = store.readable_event(session, principal, event_id)
    tagging.check_event_writer(principal, event)
    return tagging.remove_tags(session, event, body.tags)
