"""Algorithm cards: list, read, publish, deprecate, and validate a parameter set."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from services.common.auth.store import Principal
from services.common.deps import CurrentUser, RequireRole, SessionDep
from services.common.errors import Forbidden
from services.common.pagination import PageDep
from services.content import store
from services.content.deps import ReadSessionDep, ValidatorDep
from services.content.schemas import (
    AlgorithmCreate,
    AlgorithmPage,
    AlgorithmPublic,
    AlgorithmUpdate,
    Application,
    ValidationRequest,
    ValidationResult,
)

router = APIRouter(prefix="/algorithms", tags=["algorithms"])

NamePath = Annotated[str, Path(description="Algorithm name, e.g. `tunet`")]
VersionPath = Annotated[str, Path(description="Semantic version, or `latest` for the newest")]


@router.get(
    "",
    response_model=AlgorithmPage,
    summary="List algorithm cards",
    description="Cards with their parameter JSON Schemas, by name then newest version first. "
    "`latest=true` keeps only the newest version of each name; deprecated versions are left "
    "out unless `include_deprecated=true`.",
)
def list_algorithms(
    session: ReadSessionDep,
    page: PageDep,
    user: CurrentUser,
    application: Annotated[Application | None, Query(description="Only this application")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in the name or description")
    ] = None,
    latest: Annotated[bool, Query(description="Only the newest version of each name")] = False,
    include_deprecated: Annotated[bool, Query(description="Include deprecated versions")] = False,
) -> dict[str, Any]:
    return store.list_algorithms(
        session,
        page,
        application=application,
        q=q,
        latest=latest,
        include_deprecated=include_deprecated,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AlgorithmPublic,
    summary="Publish an algorithm version",
    description="Admins and contributors publish a card. A published name and version never "
    "changes: publishing it again answers 409; publish changes under a new version. The "
    "`parameters` JSON Schema is checked (valid schema of an object, valid `ui` hints).",
)
def publish_algorithm(
    card: AlgorithmCreate,
    session: SessionDep,
    response: Response,
    user: Annotated[Principal, RequireRole("contributor")],
) -> AlgorithmPublic:
    row = store.publish_algorithm(session, card, created_by=user.name)
    response.headers["Location"] = f"/api/v0/algorithms/{row.name}/{row.version}"
    return store.algorithm_public(row)


@router.get(
    "/{name}",
    response_model=AlgorithmPage,
    summary="List the versions of an algorithm",
    description="Every version of one algorithm, deprecated ones included, newest first.",
)
def list_versions(
    name: NamePath, session: ReadSessionDep, page: PageDep, user: CurrentUser
) -> dict[str, Any]:
    return store.list_versions(session, name, page)


@router.get(
    "/{name}/{version}",
    response_model=AlgorithmPublic,
    summary="Read one algorithm card",
    description="One version of a card (`latest`: the newest version, deprecated or not).",
)
def get_algorithm(
    name: NamePath, version: VersionPath, session: ReadSessionDep, user: CurrentUser
) -> AlgorithmPublic:
    return store.algorithm_public(store.get_algorithm(session, name, version))


@router.patch(
    "/{name}/{version}",
    response_model=AlgorithmPublic,
    summary="Deprecate or undeprecate a version",
    description="The only change a published version accepts. Allowed to admins and to the "
    "contributor who published it; built-in cards only to admins. Any other field is refused "
    "with 422: publish a new version instead.",
)
def update_algorithm(
    name: NamePath,
    version: VersionPath,
    update: AlgorithmUpdate,
    session: SessionDep,
    user: Annotated[Principal, RequireRole("contributor")],
) -> AlgorithmPublic:
    row = store.get_algorithm(session, name, version)
    if not user.is_admin and (row.builtin or row.created_by != user.name):
        raise Forbidden(f"only an admin or its publisher may deprecate {name} {row.version}")
    return store.algorithm_public(store.set_deprecation(session, row, update))


@router.post(
    "/{name}/{version}/validate",
    response_model=ValidationResult,
    summary="Validate a parameter set",
    description="Checks `parameters` against the card's JSON Schema and answers them "
    "normalised (defaults filled). Every bad field is reported at once: 422 with one entry per "
    "field in `error.details` (`parameters.<field>`). With `model_id`, the architecture "
    "parameters (fields the card groups as `architecture`) come from that trained model and may "
    "not differ from it.",
)
def validate_parameters(
    name: NamePath,
    version: VersionPath,
    body: ValidationRequest,
    session: ReadSessionDep,
    validator: ValidatorDep,
    user: CurrentUser,
) -> ValidationResult:
    card = store.get_algorithm(session, name, version)
    trained = store.referenced_model(session, body.model_id, "model_id") if body.model_id else None
    parameters = validator.validate(card, body.parameters, trained)
    return ValidationResult(
        algorithm=card.name,
        version=card.version,
        parameters=parameters,
        deprecated=card.deprecated,
        model_id=body.model_id,
    )
