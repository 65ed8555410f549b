"""Typed HTTP client of Splash ML; returns the service's schema models."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from services.common.client import BaseClient
from services.labels.schemas import (
    DatasetCreate,
    DatasetPublic,
    EventCreate,
    EventPublic,
    ExportFormat,
    LabelClassCreate,
    LabelClassPublic,
    LabelClassUpdate,
    LabelsPage,
    Page,
    ProjectCreate,
    ProjectPublic,
    TagBatch,
    TagCreate,
    TagPublic,
    TagRemove,
    TagWriteResult,
    UntagBatch,
)


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left out (None)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


class LabelsClient(BaseClient):
    """Talks to Splash ML (``http://127.0.0.1:8003`` by default)."""

    # projects
    def create_project(self, name: str, members: Iterable[str] = ()) -> ProjectPublic:
        body = ProjectCreate(name=name, members=list(members))
        return ProjectPublic.model_validate(self.post_json("/projects", body.model_dump()))

    def get_project(self, name: str) -> ProjectPublic:
        return ProjectPublic.model_validate(self.get_json(f"/projects/{name}"))

    def list_projects(self) -> list[ProjectPublic]:
        return list(self.iterate("/projects", ProjectPublic))

    def add_member(self, project: str, user: str) -> ProjectPublic:
        data = self.post_json(f"/projects/{project}/members", {"user": user})
        return ProjectPublic.model_validate(data)

    def remove_member(self, project: str, user: str) -> None:
        self.request("DELETE", f"/projects/{project}/members/{user}")

    # data sets
    def create_dataset(
        self,
        project: str,
        name: str,
        uri: str,
        item_count: int | None = None,
        type: str | None = None,  # noqa: A002 - the field's name
    ) -> DatasetPublic:
        body = DatasetCreate(project=project, name=name, uri=uri, item_count=item_count, type=type)  # type: ignore[arg-type]
        data = self.post_json("/datasets", body.model_dump(exclude_none=True))
        return DatasetPublic.model_validate(data)

    def get_dataset(self, dataset_id: int) -> DatasetPublic:
        return DatasetPublic.model_validate(self.get_json(f"/datasets/{dataset_id}"))

    def list_datasets(self, project: str | None = None) -> list[DatasetPublic]:
        return list(self.iterate("/datasets", DatasetPublic, **_params(project=project)))

    # classes
    def create_class(
        self,
        project: str,
        name: str,
        color: str | None = None,
        hotkey: str | None = None,
        order: int | None = None,
    ) -> LabelClassPublic:
        body = LabelClassCreate(name=name, color=color, hotkey=hotkey, order=order)
        data = self.post_json(f"/projects/{project}/classes", body.model_dump(exclude_none=True))
        return LabelClassPublic.model_validate(data)

    def list_classes(self, project: str) -> list[LabelClassPublic]:
        return list(self.iterate(f"/projects/{project}/classes", LabelClassPublic))

    def update_class(self, project: str, class_name: str, /, **changes: Any) -> LabelClassPublic:
        """Change a class: ``name``, ``color``, ``hotkey`` and/or ``order``."""
        body = LabelClassUpdate(**changes).model_dump(exclude_unset=True)
        response = self.request("PATCH", f"/projects/{project}/classes/{class_name}", json=body)
        return LabelClassPublic.model_validate(response.json())

    def delete_class(self, project: str, name: str, cascade: bool = False) -> None:
        params = {"cascade": "true"} if cascade else {}
        self.request("DELETE", f"/projects/{project}/classes/{name}", params=params)

    # events and tags
    def create_event(
        self,
        dataset_id: int,
        tagger_id: str | None = None,
        description: str = "",
        run_time: datetime | None = None,
        accuracy: float | None = None,
        job_id: str | None = None,
    ) -> EventPublic:
        body = EventCreate(
            dataset_id=dataset_id,
            tagger_id=tagger_id,
            description=description,
            run_time=run_time,
            accuracy=accuracy,
            job_id=job_id,
        )
        data = self.post_json("/events", body.model_dump(mode="json", exclude_none=True))
        return EventPublic.model_validate(data)

    def get_event(self, event_id: int) -> EventPublic:
        return EventPublic.model_validate(self.get_json(f"/events/{event_id}"))

    def list_events(
        self, dataset: int | None = None, tagger: str | None = None, job_id: str | None = None
    ) -> list[EventPublic]:
        params = _params(dataset=dataset, tagger=tagger, job_id=job_id)
        return list(self.iterate("/events", EventPublic, **params))

    def add_tags(
        self,
        event_id: int,
        tags: Iterable[TagCreate],
        replace: bool = False,
    ) -> TagWriteResult:
        """Label items in one all-or-nothing call: dicts with ``item``, ``label`` and optionally
        ``confidence``, ``uri``, ``locator``."""
        body = TagBatch(tags=list(tags), replace=replace).model_dump(exclude_none=True)
        return TagWriteResult.model_validate(self.post_json(f"/events/{event_id}/tags", body))

    def remove_tags(self, event_id: int, tags: Iterable[TagRemove]) -> TagWriteResult:
        """Record, in this event, that labels were taken off items."""
        body = UntagBatch(tags=list(tags)).model_dump(exclude_none=True)
        response = self.request("DELETE", f"/events/{event_id}/tags", json=body)
        return TagWriteResult.model_validate(response.json())

    def tags_page(self, offset: int = 0, limit: int = 100, **filters: Any) -> Page[TagPublic]:
        """One page of ``GET /tags`` (filters: dataset, event, tagger, label, item, ...)."""
        params = {**_params(**filters), "offset": offset, "limit": limit}
        return Page[TagPublic].model_validate(self.get_json("/tags", params=params))

    def iter_tags(self, **filters: Any) -> Iterator[TagPublic]:
        return self.iterate("/tags", TagPublic, **_params(**filters))

    def current_labels(
        self,
        dataset_id: int,
        tagger: list[str] | None = None,
        event: list[int] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> LabelsPage:
        params = {**_params(tagger=tagger, event=event), "offset": offset, "limit": limit}
        data = self.get_json(f"/datasets/{dataset_id}/labels", params=params)
        return LabelsPage.model_validate(data)

    def unlabeled(self, dataset_id: int, offset: int = 0, limit: int = 1000) -> Page[int]:
        params = {"offset": offset, "limit": limit}
        data = self.get_json(f"/datasets/{dataset_id}/unlabeled", params=params)
        return Page[int].model_validate(data)

    def export(
        self,
        dataset_id: int,
        format: ExportFormat = "csv",  # noqa: A002 - the query parameter's name
        tagger: list[str] | None = None,
        event: list[int] | None = None,
    ) -> bytes:
        """The export file's bytes (csv, json or zip)."""
        params = {**_params(tagger=tagger, event=event), "format": format}
        return self.request("GET", f"/datasets/{dataset_id}/export", params=params).content
