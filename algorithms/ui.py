"""UI hints for parameter fields, carried in the JSON Schema under ``ui``.

Front-ends render a parameter form from an algorithm's JSON Schema; these hints tell them which
widget to use, how to group fields and when to show them. Use :func:`ui` as
``Field(..., json_schema_extra=ui("slider", group="training", step=0.1))``.
"""

from __future__ import annotations

from typing import Any, Literal

Widget = Literal["number", "slider", "dropdown", "radio", "checkbox", "text", "list"]
Group = Literal["architecture", "training", "inference", "data", "output", "general"]


def ui(
    widget: Widget,
    *,
    group: Group = "general",
    help: str | None = None,  # noqa: A002 - the hint is called "help" in the schema
    step: float | None = None,
    visible_if: dict[str, Any] | None = None,
    advanced: bool = False,
) -> dict[str, Any]:
    """Return the ``json_schema_extra`` dict holding UI hints for one field."""
    hint: dict[str, Any] = {"widget": widget, "group": group}
    if help:
        hint["help"] = help
    if step is not None:
        hint["step"] = step
    if visible_if:
        hint["visible_if"] = visible_if
    if advanced:
        hint["advanced"] = True
    return {"ui": hint}
