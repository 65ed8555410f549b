"""Publish the built-in algorithm cards of :mod:`algorithms.registry` (idempotent).

The registry's pydantic models are the single source of the built-in schemas. Registering the
same cards again changes nothing. A built-in card whose code changed without a new version is
brought up to date (and logged), so the served schema always matches the model that validates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.errors import ApiError
from services.content.schemas import AlgorithmCreate, Resources
from services.content.store import (
    card_values,
    check_parameters_schema,
    find_algorithm,
    publish_algorithm,
    stored_values,
)

if TYPE_CHECKING:
    from algorithms.registry import AlgorithmInfo

logger = logging.getLogger("mlex.content.builtins")

BUILTIN_AUTHOR = "mlex"


@dataclass
class RegistrationReport:
    """What one registration pass did, by ``name version``."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    models: dict[tuple[str, str], type[BaseModel]] = field(default_factory=dict)


def entry_point(name: str) -> str:
    """The command the subprocess runner calls for a built-in algorithm."""
    return f"python -m algorithms run {name}"


def builtin_schema(info: AlgorithmInfo) -> dict[str, Any]:
    """The parameters schema of a built-in card, with every default the model has.

    pydantic leaves out the defaults of ``default_factory`` fields; without them a form shows
    empty fields and a schema-only check leaves them missing, so they are added here.
    """
    schema = info.parameters_schema()
    try:
        defaults = info.parameters().model_dump(mode="json", by_alias=True)
    except ValidationError:  # the model has required fields: no complete default set
        return schema
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        missing = isinstance(prop, dict) and "default" not in prop and name not in required
        if missing and name in defaults:
            prop["default"] = defaults[name]
    return schema


def builtin_card(info: AlgorithmInfo) -> AlgorithmCreate:
    """The card MLExContent publishes for one registry entry."""
    return AlgorithmCreate(
        name=info.name,
        version=info.version,
        application=info.application,
        description=info.description,
        authors=list(info.authors),
        reference=info.reference,
        entry_point=entry_point(info.name),
        resources=Resources(gpu=info.gpu, memory_gb=info.memory_gb, cpus=info.cpus),
        queue=info.queue,
        steps=list(info.steps),
        inputs=list(info.inputs),
        outputs=list(info.outputs),
        parameters=builtin_schema(info),
        framework=info.framework,
        tags=list(info.tags),
    )


def load_builtin_algorithms() -> list[AlgorithmInfo]:
    """The registry's algorithms; none (logged) when the registry cannot be imported."""
    try:
        from algorithms.registry import list_algorithms

        return list_algorithms()
    except Exception:  # a broken card module must not keep the API from serving the rest
        logger.exception("could not load the built-in algorithm cards")
        return []


def register_builtins(session: Session, infos: list[AlgorithmInfo]) -> RegistrationReport:
    """Publish each card unless already there; running it twice is a no-op."""
    report = RegistrationReport()
    for info in infos:
        label = f"{info.name} {info.version}"
        try:
            card = builtin_card(info)
            check_parameters_schema(card.parameters)
        except (ValidationError, ApiError) as error:
            logger.error("built-in card %s is invalid and was not published: %s", label, error)
            report.skipped.append(label)
            continue
        outcome = _register_one(session, card)
        getattr(report, outcome).append(label)
        if outcome != "skipped":
            report.models[(info.name, info.version)] = info.parameters
    if report.added or report.updated:
        logger.info(
            "built-in algorithms registered",
            extra={"added": report.added, "updated": report.updated},
        )
    return report


def _register_one(session: Session, card: AlgorithmCreate) -> str:
    for attempt in range(2):
        row = find_algorithm(session, card.name, card.version)
        if row is None:
            try:
                publish_algorithm(session, card, BUILTIN_AUTHOR, builtin=True)
                return "added"
            except ApiError:  # another process registered it at the same moment
                if attempt:
                    raise
                continue
        if not row.builtin:
            logger.error(
                "%s %s was published over HTTP; the built-in card of that version is ignored",
                card.name,
                card.version,
            )
            return "skipped"
        values = card_values(card)
        if stored_values(row) == values:
            return "unchanged"
        logger.warning(
            "built-in card %s %s changed without a new version; the stored card is updated",
            card.name,
            card.version,
        )
        for name, value in values.items():
            setattr(row, name, value)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return "updated"
    return "unchanged"
