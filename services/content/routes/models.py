"""Trained models: register, find by lineage, read, soft-delete, and check inference parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from services.common.auth.store import Principal
from services.common.deps import CurrentUser, RequireRole, SessionDep
from services.common.errors import Forbidden, Invalid
from services.common.pagination import PageDep
from services.content import store
from services.content.deps import ReadSessionDep, ValidatorDep
from services.content.schemas import (
    ModelCreate,
    ModelPage,
    ModelPublic,
    ParameterCheck,
    ValidationResult,
)

router = APIRouter(prefix="/models", tags=["models"])

ModelIdPath = Annotated[str, Path(description="Model id")]


@router.get(
    "",
    response_model=ModelPage,
    summary="List trained models",
    description="Newest first. Filters combine: `algorithm` (name) and `version`, `dataset` "
    "(a data set URI in the lineage, exact), `job` (training job id), `tagging_event`, `tag`, "
    "`parent` (fine-tuned from that model), `created_by`. Deleted models are left out unless "
    "`include_deleted=true`.",
)
def list_models(
    session: ReadSessionDep,
    page: PageDep,
    user: CurrentUser,
    algorithm: Annotated[str | None, Query(description="Algorithm name")] = None,
    version: Annotated[str | None, Query(description="Algorithm version")] = None,
    dataset: Annotated[str | None, Query(description="Data set URI it was trained on")] = None,
    job: Annotated[str | None, Query(description="Training job id")] = None,
    tagging_event: Annotated[str | None, Query(description="Tagging event id")] = None,
    tag: Annotated[str | None, Query(description="Tag")] = None,
    parent: Annotated[str | None, Query(description="Parent model id")] = None,
    created_by: Annotated[str | None, Query(description="Who registered it")] = None,
    include_deleted: Annotated[bool, Query(description="Include deleted models")] = False,
) -> dict[str, Any]:
    return store.list_models(
        session,
        page,
        algorithm=algorithm,
        version=version,
        dataset=dataset,
        job=job,
        tagging_event=tagging_event,
        tag=tag,
        parent=parent,
        created_by=created_by,
        include_deleted=include_deleted,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ModelPublic,
    summary="Register a trained model",
    description="Workers (after a training job), contributors and admins register a model. "
    "The algorithm version must be published; `parameters` are validated against its card and "
    "stored normalised (defaults filled), so later inference requests can be checked against "
    "them. A `lineage.parent_model_id` must name an existing model.",
)
def register_model(
    body: ModelCreate,
    session: SessionDep,
    validator: ValidatorDep,
    response: Response,
    user: Annotated[Principal, RequireRole("worker", "contributor")],
) -> ModelPublic:
    card = store.find_algorithm(session, body.algorithm, body.algorithm_version)
    if card is None:
        raise Invalid(
            f"algorithm {body.algorithm} {body.algorithm_version} is not published",
            field="algorithm_version"
            if store.find_algorithm(session, body.algorithm, store.LATEST)
            else "algorithm",
        )
    parameters = validator.validate(card, body.parameters)
    row = store.create_model(session, body, card, parameters, created_by=user.name)
    response.headers["Location"] = f"/api/v0/models/{row.id}"
    return store.model_public(row)


@router.get(
    "/{model_id}",
    response_model=ModelPublic,
    summary="Read a trained model",
    description="Deleted models stay readable (with `deleted_at`) so their lineage resolves.",
)
def get_model(model_id: ModelIdPath, session: ReadSessionDep, user: CurrentUser) -> ModelPublic:
    return store.model_public(store.get_model(session, model_id))


@router.delete(
    "/{model_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a trained model (soft)",
    description="Leaves the lists; the record, its lineage and its children's links stay. "
    "Allowed to admins, contributors and whoever registered it. Deleting twice is a no-op.",
)
def delete_model(model_id: ModelIdPath, session: SessionDep, user: CurrentUser) -> None:
    row = store.get_model(session, model_id)
    if user.role not in ("admin", "contributor") and row.created_by != user.name:
        raise Forbidden(f"only an admin, a contributor or {row.created_by} may delete this model")
    store.delete_model(session, row, deleted_by=user.name)


@router.post(
    "/{model_id}/check",
    response_model=ValidationResult,
    summary="Check inference parameters against a model",
    description="Validates `parameters` against the model's algorithm card, taking missing "
    "architecture parameters from the model. A parameter the card groups as `architecture` "
    "that differs from the model's is refused with 422 naming the field.",
)
def check_parameters(
    model_id: ModelIdPath,
    body: ParameterCheck,
    session: ReadSessionDep,
    validator: ValidatorDep,
    user: CurrentUser,
) -> ValidationResult:
    trained = store.get_model(session, model_id)
    card = trained.algorithm
    parameters = validator.validate(card, body.parameters, trained)
    return ValidationResult(
        algorithm=card.name,
        version=card.version,
        parameters=parameters,
        deprecated=card.deprecated,
        model_id=trained.id,
    )
