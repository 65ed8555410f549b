"""Data sets, their current labels, their unlabeled items, and exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from services.common.auth.store import Principal
from services.common.db import read_only
from services.common.deps import CurrentUser, RequireRole, SessionDep
from services.common.pagination import PageDep, PageParams, paginate
from services.labels import current as resolve
from services.labels import exporting, store
from services.labels.access import readable_dataset
from services.labels.schemas import (
    CurrentLabel,
    DatasetCreate,
    DatasetPublic,
    ExportFormat,
    ItemLabels,
    LabelsPage,
    Page,
)

router = APIRouter(prefix="/datasets", tags=["datasets"])

Writer = Annotated[Principal, RequireRole("user", "contributor")]
DatasetId = Annotated[int, Path(description="Data set id")]
Taggers = Annotated[
    list[str] | None, Query(description="Only events by these taggers (repeat the parameter)")
]
Events = Annotated[list[int] | None, Query(description="Only these events (repeat the parameter)")]

MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "zip": "application/zip"}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetPublic,
    summary="Register a data set",
    description=(
        "A Tiled node or a folder. The project is created (owned by you) if new. Without "
        "`item_count` the data is opened to count its items (422 if it cannot be read). "
        "409 if the project already has a data set of that name."
    ),
)
def create_dataset(body: DatasetCreate, session: SessionDep, principal: Writer) -> DatasetPublic:
    return store.create_dataset(session, principal, body, exporting.count_items)


@router.get(
    "",
    response_model=Page[DatasetPublic],
    summary="List data sets",
    description="Data sets of the projects you can see, oldest first.",
)
def list_datasets(
    session: SessionDep,
    principal: CurrentUser,
    page: PageDep,
    project: Annotated[str | None, Query(description="Only this project's")] = None,
) -> dict:
    read_only(session)
    statement = store.list_datasets_statement(principal, project)
    return paginate(session, statement, page, lambda row: store.dataset_public(*row), scalars=False)


@router.get("/{dataset_id}", response_model=DatasetPublic, summary="Get a data set")
def get_dataset(
    dataset_id: DatasetId, session: SessionDep, principal: CurrentUser
) -> DatasetPublic:
    read_only(session)
    return store.get_dataset(session, principal, dataset_id)


@router.get(
    "/{dataset_id}/labels",
    response_model=LabelsPage,
    summary="Current labels of every item",
    description=(
        "For each (item, class) the newest event that touched it decides (run time, then event "
        "id): a label keeps the class, an unlabel drops it. One entry per labeled item, by "
        "item index; `counts` gives the items per class over all pages. `tagger` and `event` "
        "restrict which events count."
    ),
)
def current_labels(
    dataset_id: DatasetId,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    page: PageDep,
    tagger: Taggers = None,
    event: Events = None,
) -> LabelsPage:
    read_only(session)
    dataset = readable_dataset(session, principal, dataset_id)
    classes = store.project_classes(session, dataset.project_id)
    names = {label_class.id: label_class.name for label_class in classes}
    current = _resolve(request, session, dataset.id, [c.id for c in classes], tagger, event)
    total, start, stop = current.item_page(page.offset, page.limit)
    grouped: dict[int, ItemLabels] = {}
    for row in current.rows(start, stop):
        entry = grouped.get(row.item)
        if entry is None:
            entry = grouped[row.item] = ItemLabels(item=row.item, uri=row.uri, labels=[])
        entry.uri = entry.uri or row.uri
        entry.labels.append(
            CurrentLabel(
                label=names[row.class_id],
                confidence=row.confidence,
                event_id=row.event_id,
                tagger_id=row.tagger_id,
                locator=row.locator,
            )
        )
    counts = {label_class.name: 0 for label_class in classes}
    for class_id, number in current.counts().items():
        counts[names[class_id]] = number
    return LabelsPage(
        items=list(grouped.values()),
        total=total,
        offset=page.offset,
        limit=page.limit,
        counts=counts,
    )


@router.get(
    "/{dataset_id}/unlabeled",
    response_model=Page[int],
    summary="Items without a label",
    description="Indices of the items that carry no current label, in order.",
)
def unlabeled(
    dataset_id: DatasetId,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    page: PageDep,
    tagger: Taggers = None,
    event: Events = None,
) -> dict:
    read_only(session)
    dataset = readable_dataset(session, principal, dataset_id)
    classes = store.project_classes(session, dataset.project_id)
    current = _resolve(request, session, dataset.id, [c.id for c in classes], tagger, event)
    free = resolve.unlabeled_items(dataset.item_count, current)
    chosen = free[page.offset : page.offset + page.limit]
    return {"items": chosen.tolist(), "total": int(free.size), **_page(page)}


def _resolve(
    request: Request,
    session: Session,
    dataset_id: int,
    class_ids: list[int],
    taggers: list[str] | None,
    events: list[int] | None,
) -> resolve.CurrentLabels:
    """Current labels through the app's cache."""
    cache: resolve.CurrentLabelsCache = request.app.state.current_labels
    return cache.resolve(session, dataset_id, class_ids, taggers, events)


def _page(page: PageParams) -> dict[str, int]:
    return {"offset": page.offset, "limit": page.limit}


@router.get(
    "/{dataset_id}/export",
    summary="Export the current labels",
    description=(
        "`csv`: one line per (item, label). `json`: the data set, its classes and its labels. "
        "`zip`: one folder per class holding the labeled images as PNG (the image-folder "
        "layout of training loaders). All streamed. `tagger`/`event` as for `/labels`."
    ),
    responses={
        200: {
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "description": "The export file",
        }
    },
    response_class=StreamingResponse,
)
def export(
    dataset_id: DatasetId,
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    format: Annotated[ExportFormat, Query(description="csv, json or zip")] = "csv",  # noqa: A002
    tagger: Taggers = None,
    event: Events = None,
) -> StreamingResponse:
    read_only(session)
    dataset = readable_dataset(session, principal, dataset_id)
    public = store.dataset_public(dataset, store.project_name(session, dataset.project_id))
    classes = store.project_classes(session, dataset.project_id)
    names = {label_class.id: label_class.name for label_class in classes}
    current = _resolve(request, session, dataset_id, list(names), tagger, event)
    session.close()  # the rows are in memory; free the connection while streaming
    filename = f"{public.name}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "csv":
        body = exporting.csv_chunks(current, names)
    elif format == "json":
        classes_json = [
            store.class_public(label_class, public.project).model_dump() for label_class in classes
        ]
        body = exporting.json_chunks(public.model_dump(mode="json"), classes_json, current, names)
    else:
        images = exporting.open_images(public.uri)
        body = exporting.file_chunks(exporting.build_zip(images, current, names))
    return StreamingResponse(body, media_type=MEDIA_TYPES[format], headers=headers)
