"""Check a parameter set against a card, and against the trained model it will run with.

Every card is checked against its stored JSON Schema (``jsonschema``). Built-in cards are then
also run through the registry's pydantic model, which adds the checks a schema cannot say
(``k_max >= k_min``, an input size the network accepts). Both agree on everything the schema
says: the schema is generated from that model.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ValidationError

from services.common.errors import ErrorDetail, Invalid, validation_details
from services.content.models import Algorithm, TrainedModel
from services.content.parameters import (
    ParameterErrors,
    architecture_paths,
    get_path,
    is_missing,
    join,
    normalise,
    set_path,
)

PREFIX = "parameters"


class ParameterValidator:
    """Validates parameter sets; knows the pydantic models of the built-in cards.

    Args:
        builtin_models: ``(name, version) -> parameter model`` of the built-in cards.
    """

    def __init__(self, builtin_models: dict[tuple[str, str], type[BaseModel]] | None = None):
        self.builtin_models = dict(builtin_models or {})

    def validate(
        self,
        card: Algorithm,
        parameters: dict[str, Any],
        trained: TrainedModel | None = None,
        model_field: str = "model_id",
    ) -> dict[str, Any]:
        """Normalised ``parameters`` (defaults filled), or 422 listing every bad field.

        With ``trained``, missing architecture parameters are taken from the model and any
        that differ from the model's are refused: the trained network's shape is fixed.
        """
        values = copy.deepcopy(parameters)
        details: list[ErrorDetail] = []
        if trained is not None:
            if trained.algorithm.name != card.name:
                raise Invalid(
                    f"model {trained.id} was trained with {trained.algorithm.name}, "
                    f"not {card.name}",
                    field=model_field,
                )
            details.extend(self._architecture_mismatches(card, values, trained))
        try:
            normalised = normalise(card.parameters, values)
        except ParameterErrors as error:
            details.extend(
                ErrorDetail(field=join(PREFIX, d.field or ""), message=d.message)
                for d in error.details
            )
            normalised = None
        if details or normalised is None:
            raise _invalid(card, details)
        model = self.builtin_models.get((card.name, card.version)) if card.builtin else None
        if model is not None:
            try:
                normalised = model.model_validate(normalised).model_dump(mode="json")
            except ValidationError as error:
                found = [
                    ErrorDetail(field=join(PREFIX, d.field or ""), message=d.message)
                    for d in validation_details(list(error.errors()))
                ]
                raise _invalid(card, found) from None
        return normalised

    @staticmethod
    def _architecture_mismatches(
        card: Algorithm, values: dict[str, Any], trained: TrainedModel
    ) -> list[ErrorDetail]:
        """Fill missing architecture fields from ``trained``; report the ones that differ."""
        mismatches = []
        for path in architecture_paths(card.parameters):
            trained_value = get_path(trained.parameters, path)
            if is_missing(trained_value):
                continue
            given = get_path(values, path)
            if is_missing(given):
                set_path(values, path, copy.deepcopy(trained_value))
            elif given != trained_value:
                mismatches.append(
                    ErrorDetail(
                        field=join(PREFIX, *path),
                        message=f"architecture parameter differs from model {trained.id}: it was "
                        f"trained with {trained_value!r}, the request has {given!r}; leave it out "
                        "or train a new model",
                    )
                )
        return mismatches


def _invalid(card: Algorithm, details: list[ErrorDetail]) -> Invalid:
    details = sorted(details, key=lambda detail: detail.field or "")
    summary = "; ".join(f"{d.field}: {d.message}" for d in details)
    return Invalid(
        f"invalid parameters for {card.name} {card.version}: {summary}",
        field=details[0].field if details else PREFIX,
        details=details,
    )
