"""Parameter sets against an algorithm's JSON Schema: defaults, every error by field, UI hints.

Works on the stored schema alone (cards published over HTTP have no Python model), with the
``jsonschema`` package. Field names are dotted paths inside the parameter set (``epochs``,
``network.depth``, ``dilations.2``); callers prefix them with where the set sits in their request.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.validators import validator_for

from services.common.errors import ErrorDetail

WIDGETS = ("number", "slider", "dropdown", "radio", "checkbox", "text", "list")
GROUPS = ("architecture", "training", "inference", "data", "output", "general")
ARCHITECTURE = "architecture"
_MAX_DEPTH = 32


class ParameterErrors(Exception):
    """A parameter set (or a schema) is invalid; ``details`` names every bad field."""

    def __init__(self, details: list[ErrorDetail]) -> None:
        self.details = details
        super().__init__("; ".join(f"{d.field}: {d.message}" for d in details))


def join(*parts: Any) -> str:
    """A dotted field name from path parts (empty parts skipped)."""
    return ".".join(str(part) for part in parts if part != "")


# --- the schema itself ------------------------------------------------------------------------


def check_schema(schema: dict[str, Any]) -> None:
    """Raise ParameterErrors unless ``schema`` is a JSON Schema of an object with valid UI hints."""
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as error:
        where = join(*error.absolute_path)
        raise ParameterErrors([ErrorDetail(field=where, message=error.message)]) from None
    if schema.get("type") != "object" or not isinstance(schema.get("properties", {}), dict):
        raise ParameterErrors(
            [ErrorDetail(field="type", message="the parameters schema must be of type 'object'")]
        )
    details: list[ErrorDetail] = []
    for path, properties in _property_maps(schema):
        for name, prop in properties.items():
            if isinstance(prop, dict) and "ui" in prop:
                details.extend(_check_ui(prop["ui"], join(*path, name, "ui"), properties))
    if details:
        raise ParameterErrors(details)


def _property_maps(schema: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every ``properties`` map of the schema (top level and ``$defs``) with its schema path."""
    if isinstance(schema.get("properties"), dict):
        yield ("properties",), schema["properties"]
    for key in ("$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            if isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
                yield (key, name, "properties"), sub["properties"]


def _check_ui(hint: Any, where: str, siblings: dict[str, Any]) -> list[ErrorDetail]:
    if not isinstance(hint, dict):
        return [ErrorDetail(field=where, message="ui hints must be an object")]
    # Unknown hint keys are allowed: a front-end ignores what it does not know.
    details: list[ErrorDetail] = []
    if "widget" in hint and hint["widget"] not in WIDGETS:
        details.append(
            ErrorDetail(field=join(where, "widget"), message=f"must be one of {', '.join(WIDGETS)}")
        )
    if "group" in hint and hint["group"] not in GROUPS:
        details.append(
            ErrorDetail(field=join(where, "group"), message=f"must be one of {', '.join(GROUPS)}")
        )
    for key in ("step", "min", "max"):
        value = hint.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            details.append(ErrorDetail(field=join(where, key), message="must be a number"))
    if isinstance(hint.get("step"), int | float) and hint["step"] <= 0:
        details.append(ErrorDetail(field=join(where, "step"), message="must be greater than 0"))
    condition = hint.get("visible_if")
    if condition is not None:
        if not isinstance(condition, dict):
            details.append(
                ErrorDetail(field=join(where, "visible_if"), message="must map fields to values")
            )
        else:
            for other in condition:
                if other not in siblings:
                    details.append(
                        ErrorDetail(
                            field=join(where, "visible_if", other),
                            message="visibility depends on a field the schema does not have",
                        )
                    )
    return details


# --- defaults ---------------------------------------------------------------------------------


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    """Follow local ``$ref``s (``#/$defs/Name``) and a lone ``allOf`` wrapper."""
    for _ in range(_MAX_DEPTH):
        if not isinstance(schema, dict):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            continue
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and "properties" not in schema:
            schema = {
                **_resolve(all_of[0], root),
                **{k: v for k, v in schema.items() if k != "allOf"},
            }
            continue
        return schema
    return schema


def _object_branch(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema a dict instance is checked against (looking into anyOf/oneOf)."""
    if isinstance(schema.get("properties"), dict):
        return schema
    branches = [
        _resolve(branch, root) for key in ("anyOf", "oneOf") for branch in schema.get(key, []) or []
    ]
    objects = [b for b in branches if isinstance(b, dict) and isinstance(b.get("properties"), dict)]
    return objects[0] if len(objects) == 1 else None


def fill_defaults(
    schema: dict[str, Any], values: Any, root: dict[str, Any] | None = None, depth: int = 0
) -> Any:
    """A copy of ``values`` with every missing property that has a default filled in.

    A missing optional property whose schema is an object with no required fields is filled
    with that object's defaults (pydantic's ``default_factory=Model``).
    """
    root = schema if root is None else root
    values = copy.deepcopy(values)
    if depth > _MAX_DEPTH:
        return values
    resolved = _resolve(schema, root)
    if not isinstance(resolved, dict):
        return values
    if isinstance(values, dict):
        target = _object_branch(resolved, root)
        if target is None:
            return values
        required = set(target.get("required", []))
        for name, prop in target["properties"].items():
            if name not in values:
                if isinstance(prop, dict) and "default" in prop:
                    values[name] = copy.deepcopy(prop["default"])
                    continue
                sub = _resolve(prop, root)
                if (
                    name not in required
                    and isinstance(sub, dict)
                    and isinstance(sub.get("properties"), dict)
                    and not sub.get("required")
                    and depth < _MAX_DEPTH
                ):
                    values[name] = {}
                else:
                    continue
            values[name] = fill_defaults(prop, values[name], root, depth + 1)
        return values
    if isinstance(values, list) and isinstance(resolved.get("items"), dict):
        return [fill_defaults(resolved["items"], item, root, depth + 1) for item in values]
    return values


# --- errors -----------------------------------------------------------------------------------


def _is_null_branch(error: ValidationError) -> bool:
    return error.validator == "type" and error.validator_value == "null"


def _details(error: ValidationError) -> list[ErrorDetail]:
    """One or more ErrorDetails for a jsonschema error, each naming a field."""
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        return [ErrorDetail(field=join(*path, name), message="field required") for name in missing]
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
        instance, dict
    ):
        known = set((error.schema.get("properties") or {}).keys())
        patterns = list((error.schema.get("patternProperties") or {}).keys())
        unknown = [
            name
            for name in instance
            if name not in known and not any(re.search(p, name) for p in patterns)
        ]
        allowed = ", ".join(sorted(known)) or "none"
        return [
            ErrorDetail(
                field=join(*path, name), message=f"unknown field; allowed fields: {allowed}"
            )
            for name in unknown
        ] or [ErrorDetail(field=join(*path), message=error.message)]
    if error.validator in ("anyOf", "oneOf") and error.context:
        relevant = [e for e in error.context if not _is_null_branch(e)] or list(error.context)
        chosen = best_match(relevant)
        if chosen is not None:
            return _details(chosen)
    return [ErrorDetail(field=join(*path), message=error.message)]


def schema_errors(schema: dict[str, Any], values: Any) -> list[ErrorDetail]:
    """Every way ``values`` breaks ``schema``, one detail per bad field, sorted by field."""
    cls = validator_for(schema, default=Draft202012Validator)
    validator = cls(schema)
    details: list[ErrorDetail] = []
    seen: set[tuple[str | None, str]] = set()
    for error in validator.iter_errors(values):
        for detail in _details(error):
            key = (detail.field, detail.message)
            if key not in seen:
                seen.add(key)
                details.append(detail)
    return sorted(details, key=lambda detail: detail.field or "")


def normalise(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with defaults filled, or ParameterErrors listing every bad field."""
    filled = fill_defaults(schema, values)
    details = schema_errors(schema, filled)
    if details:
        raise ParameterErrors(details)
    return filled


# --- architecture -----------------------------------------------------------------------------


def architecture_paths(schema: dict[str, Any]) -> list[tuple[str, ...]]:
    """Paths of the fields a card groups as ``architecture`` (they fix a trained network)."""
    paths: list[tuple[str, ...]] = []

    def walk(node: Any, prefix: tuple[str, ...], depth: int) -> None:
        node = _resolve(node, schema)
        if depth > _MAX_DEPTH or not isinstance(node, dict):
            return
        target = _object_branch(node, schema)
        if target is None:
            return
        for name, prop in target["properties"].items():
            hint = prop.get("ui") if isinstance(prop, dict) else None
            if isinstance(hint, dict) and hint.get("group") == ARCHITECTURE:
                paths.append((*prefix, name))
            else:
                walk(prop, (*prefix, name), depth + 1)

    walk(schema, (), 0)
    return paths


_MISSING = object()


def get_path(values: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` inside nested dicts, or a sentinel when absent."""
    for part in path:
        if not isinstance(values, dict) or part not in values:
            return _MISSING
        values = values[part]
    return values


def set_path(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set the value at ``path``, creating the dicts on the way."""
    for part in path[:-1]:
        values = values.setdefault(part, {})
    values[path[-1]] = value


def is_missing(value: Any) -> bool:
    return value is _MISSING
