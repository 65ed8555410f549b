"""Queries of MLExContent: publish and find algorithm cards, register and find trained models.

No HTTP here; errors are the shared ``ApiError`` classes, which the app maps to responses.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.errors import Conflict, ErrorDetail, Invalid, NotFound
from services.common.pagination import PageParams, paginate
from services.content.models import LINK_KINDS, Algorithm, ModelLink, TrainedModel, utcnow
from services.content.parameters import ParameterErrors, check_schema
from services.content.schemas import (
    AlgorithmCreate,
    AlgorithmPublic,
    AlgorithmUpdate,
    ModelCreate,
    ModelLineage,
    ModelMetrics,
    ModelPublic,
    Resources,
    parse_version,
)

LATEST = "latest"

# Card fields stored one-to-one in columns (the rest: version parts, resources, queue).
_CARD_COLUMNS = (
    "name",
    "version",
    "application",
    "description",
    "authors",
    "reference",
    "entry_point",
    "image",
    "command",
    "steps",
    "inputs",
    "outputs",
    "parameters",
    "framework",
    "tags",
)


# --- algorithms -------------------------------------------------------------------------------


def card_values(card: AlgorithmCreate) -> dict[str, Any]:
    """Column values of a card (what a published version may never change)."""
    values = card.model_dump(mode="json", include=set(_CARD_COLUMNS))
    major, minor, patch, prerelease = parse_version(card.version)
    values.update(
        major=major,
        minor=minor,
        patch=patch,
        prerelease=prerelease,
        gpu=card.resources.gpu,
        memory_gb=card.resources.memory_gb,
        cpus=card.resources.cpus,
        queue=card.resolved_queue(),
    )
    return values


def stored_values(row: Algorithm) -> dict[str, Any]:
    """The same column values read back from a row, for comparison with ``card_values``."""
    names = (*_CARD_COLUMNS, "major", "minor", "patch", "prerelease", "gpu", "memory_gb", "cpus")
    return {name: getattr(row, name) for name in (*names, "queue")}


def algorithm_public(row: Algorithm) -> AlgorithmPublic:
    """The public form of a stored card."""
    values = {name: getattr(row, name) for name in _CARD_COLUMNS}
    return AlgorithmPublic(
        **values,
        resources=Resources(gpu=row.gpu, memory_gb=row.memory_gb, cpus=row.cpus),
        queue=row.queue,
        builtin=row.builtin,
        deprecated=row.deprecated,
        deprecation_message=row.deprecation_message,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def check_parameters_schema(schema: dict[str, Any]) -> None:
    """Raise 422 naming the part of a card's parameters schema that is wrong."""
    try:
        check_schema(schema)
    except ParameterErrors as error:
        details = [
            ErrorDetail(field=_prefixed("parameters", d.field), message=d.message)
            for d in error.details
        ]
        raise Invalid(
            f"invalid parameters schema: {details[0].field}: {details[0].message}",
            field=details[0].field,
            details=details,
        ) from None


def _prefixed(prefix: str, field: str | None) -> str:
    return f"{prefix}.{field}" if field else prefix


def find_algorithm(session: Session, name: str, version: str) -> Algorithm | None:
    """The card of that name and version (or the newest with version ``latest``), if any."""
    statement = select(Algorithm).where(Algorithm.name == name)
    if version == LATEST:
        statement = statement.order_by(*_newest_first()).limit(1)
    else:
        statement = statement.where(Algorithm.version == version)
    return session.scalars(statement).first()


def get_algorithm(session: Session, name: str, version: str) -> Algorithm:
    """The card of that name and version; 404 when there is none."""
    row = find_algorithm(session, name, version)
    if row is None:
        if version != LATEST and find_algorithm(session, name, LATEST) is not None:
            raise NotFound(f"algorithm {name} has no version {version}", field="version")
        raise NotFound(f"no algorithm named {name!r}", field="name")
    return row


def publish_algorithm(
    session: Session, card: AlgorithmCreate, created_by: str, builtin: bool = False
) -> Algorithm:
    """Store a new version of a card; 409 when that name and version exist already."""
    check_parameters_schema(card.parameters)
    if find_algorithm(session, card.name, card.version) is not None:
        raise _version_conflict(card)
    row = Algorithm(**card_values(card), builtin=builtin, deprecated=False, created_by=created_by)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # published by someone else between our check and our insert
        session.rollback()
        raise _version_conflict(card) from None
    return row


def _version_conflict(card: AlgorithmCreate) -> Conflict:
    return Conflict(
        f"algorithm {card.name} {card.version} is already published; a published version never "
        "changes, so publish the change under a new version",
        field="version",
    )


def set_deprecation(session: Session, row: Algorithm, update: AlgorithmUpdate) -> Algorithm:
    """Deprecate or undeprecate one version (the only change a published version accepts)."""
    row.deprecated = update.deprecated
    row.deprecation_message = update.deprecation_message if update.deprecated else None
    session.commit()
    return row


def _newest_first() -> list[ColumnElement[Any]]:
    # A release sorts above its own pre-releases (1.0.0 > 1.0.0-rc.1).
    is_release = case((Algorithm.prerelease == "", 1), else_=0)
    return [
        Algorithm.major.desc(),
        Algorithm.minor.desc(),
        Algorithm.patch.desc(),
        is_release.desc(),
        Algorithm.prerelease.desc(),
    ]


def algorithms_statement(
    *,
    application: str | None = None,
    q: str | None = None,
    latest: bool = False,
    include_deprecated: bool = False,
    name: str | None = None,
) -> Select[Any]:
    """The query behind the algorithm lists (filters, then the newest version per name)."""
    conditions: list[ColumnElement[bool]] = []
    if application:
        conditions.append(Algorithm.application == application)
    if name:
        conditions.append(Algorithm.name == name)
    if q:
        conditions.append(
            Algorithm.name.icontains(q, autoescape=True)
            | Algorithm.description.icontains(q, autoescape=True)
        )
    if not include_deprecated:
        conditions.append(Algorithm.deprecated.is_(False))
    if latest:
        rank = func.row_number().over(partition_by=Algorithm.name, order_by=_newest_first())
        ranked = select(Algorithm.id, rank.label("rank")).where(*conditions).subquery()
        return (
            select(Algorithm)
            .join(ranked, ranked.c.id == Algorithm.id)
            .where(ranked.c.rank == 1)
            .order_by(Algorithm.name)
        )
    return select(Algorithm).where(*conditions).order_by(Algorithm.name, *_newest_first())


def list_algorithms(session: Session, params: PageParams, **filters: Any) -> dict[str, Any]:
    """One page of cards matching the filters of :func:`algorithms_statement`."""
    return paginate(session, algorithms_statement(**filters), params, algorithm_public)


def list_versions(session: Session, name: str, params: PageParams) -> dict[str, Any]:
    """Every version of one algorithm, newest first; 404 when the name is unknown."""
    statement = algorithms_statement(name=name, include_deprecated=True)
    page = paginate(session, statement, params, algorithm_public)
    if page["total"] == 0:
        raise NotFound(f"no algorithm named {name!r}", field="name")
    return page


# --- trained models ---------------------------------------------------------------------------


def model_public(row: TrainedModel) -> ModelPublic:
    """The public form of a stored model, lineage included."""
    return ModelPublic(
        id=row.id,
        name=row.name,
        description=row.description,
        algorithm=row.algorithm.name,
        algorithm_version=row.algorithm.version,
        framework=row.framework,
        weights_uri=row.weights_uri,
        parameters=row.parameters,
        metrics=ModelMetrics.model_validate(row.metrics),
        lineage=ModelLineage(
            job_id=row.job_id,
            dataset_uris=row.linked("dataset"),
            tagging_event_ids=row.linked("tagging_event"),
            parent_model_id=row.parent_model_id,
        ),
        tags=row.linked("tag"),
        created_by=row.created_by,
        created_at=row.created_at,
        deleted_at=row.deleted_at,
    )


def get_model(session: Session, model_id: str) -> TrainedModel:
    """A model by id (deleted ones too: their lineage stays readable); 404 when unknown."""
    row = session.get(TrainedModel, model_id)
    if row is None:
        raise NotFound(f"no model {model_id!r}", field="model_id")
    return row


def referenced_model(session: Session, model_id: str, field: str) -> TrainedModel:
    """A model named inside a request body; 422 naming ``field`` when unknown."""
    row = session.get(TrainedModel, model_id)
    if row is None:
        raise Invalid(f"no model {model_id!r}", field=field)
    return row


def create_model(
    session: Session,
    body: ModelCreate,
    algorithm: Algorithm,
    parameters: dict[str, Any],
    created_by: str,
) -> TrainedModel:
    """Register a model trained with ``algorithm`` and the (normalised) ``parameters``."""
    parent_id = body.lineage.parent_model_id
    if parent_id is not None:
        referenced_model(session, parent_id, "lineage.parent_model_id")
    row = TrainedModel(
        id=str(uuid.uuid4()),
        name=body.name,
        description=body.description,
        algorithm_id=algorithm.id,
        framework=body.framework or algorithm.framework,
        weights_uri=body.weights_uri,
        parameters=parameters,
        metrics=body.metrics.model_dump(mode="json"),
        job_id=body.lineage.job_id,
        parent_model_id=parent_id,
        created_by=created_by,
    )
    row.algorithm = algorithm
    links = [
        *(("dataset", uri) for uri in body.lineage.dataset_uris),
        *(("tagging_event", event) for event in body.lineage.tagging_event_ids),
        *(("tag", tag) for tag in body.tags),
    ]
    row.links = [ModelLink(kind=kind, value=value) for kind, value in dict.fromkeys(links)]
    session.add(row)
    session.commit()
    return row


def models_statement(
    *,
    algorithm: str | None = None,
    version: str | None = None,
    dataset: str | None = None,
    job: str | None = None,
    tagging_event: str | None = None,
    tag: str | None = None,
    parent: str | None = None,
    created_by: str | None = None,
    include_deleted: bool = False,
) -> Select[Any]:
    """The query behind the model list, newest first."""
    statement = select(TrainedModel)
    if algorithm or version:
        statement = statement.join(Algorithm, Algorithm.id == TrainedModel.algorithm_id)
        if algorithm:
            statement = statement.where(Algorithm.name == algorithm)
        if version:
            statement = statement.where(Algorithm.version == version)
    for kind, value in zip(LINK_KINDS, (dataset, tagging_event, tag), strict=True):
        if value is not None:
            linked = select(ModelLink.model_id).where(
                ModelLink.kind == kind, ModelLink.value == value
            )
            statement = statement.where(TrainedModel.id.in_(linked))
    if job is not None:
        statement = statement.where(TrainedModel.job_id == job)
    if parent is not None:
        statement = statement.where(TrainedModel.parent_model_id == parent)
    if created_by is not None:
        statement = statement.where(TrainedModel.created_by == created_by)
    if not include_deleted:
        statement = statement.where(TrainedModel.deleted_at.is_(None))
    return statement.order_by(TrainedModel.created_at.desc(), TrainedModel.id)


def list_models(session: Session, params: PageParams, **filters: Any) -> dict[str, Any]:
    """One page of models matching the filters of :func:`models_statement`."""
    return paginate(session, models_statement(**filters), params, model_public)


def delete_model(session: Session, row: TrainedModel, deleted_by: str) -> None:
    """Soft-delete: the model leaves the lists, its record and lineage stay."""
    if row.deleted_at is None:
        row.deleted_at = utcnow()
        row.deleted_by = deleted_by
        session.commit()
