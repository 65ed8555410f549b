"""``${step.path}`` references between workflow steps, resolved when the upstream completes."""

from __future__ import annotations

import re
from typing import Any

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\.([^}]+)\}")


class UnresolvedReference(ValueError):
    """A reference names no step or no value of its results."""


def referenced_steps(value: Any) -> set[str]:
    """Names of the steps a nested value refers to."""
    found: set[str] = set()
    if isinstance(value, str):
        found.update(match.group(1) for match in REFERENCE.finditer(value))
    elif isinstance(value, dict):
        for item in value.values():
            found |= referenced_steps(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_steps(item)
    return found


def lookup(namespace: dict[str, Any], step: str, path: str) -> Any:
    """Follow ``a.b.0.c`` through dicts and lists of one step's results."""
    current: Any = namespace.get(step)
    if current is None:
        raise UnresolvedReference(f"no results for step {step!r}")
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise UnresolvedReference(f"step {step!r} produced no {path!r}")
    return current


def resolve(value: Any, namespace: dict[str, Any]) -> Any:
    """Replace references; a string that is one reference takes the value's own type."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            return lookup(namespace, whole.group(1), whole.group(2))
        return REFERENCE.sub(lambda m: str(lookup(namespace, m.group(1), m.group(2))), value)
    if isinstance(value, dict):
        return {key: resolve(item, namespace) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, namespace) for item in value]
    return value


def step_outputs(job_id: str, results: dict[str, Any], model_id: str | None) -> dict[str, Any]:
    """What a completed step exposes to references: its result summary, artifacts, model id."""
    summary = dict(results.get("summary") or {})
    outputs: dict[str, Any] = {**summary}
    outputs.update(
        {
            "job_id": job_id,
            "artifacts": results.get("artifacts", {}),
            "results_uri": results.get("results_uri"),
        }
    )
    if model_id:
        outputs["model_id"] = model_id
        if isinstance(outputs.get("model"), dict):
            outputs["model"] = {**outputs["model"], "id": model_id}
    return outputs


def topological_order(dependencies: dict[str, set[str]]) -> list[str]:
    """Steps in an order where each comes after those it depends on; ValueError on a cycle."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join([*trail[trail.index(name) :], name])
            raise ValueError(f"workflow steps form a cycle: {cycle}")
        state[name] = 1
        for upstream in sorted(dependencies.get(name, ())):
            visit(upstream, [*trail, name])
        state[name] = 2
        order.append(name)

    for name in dependencies:
        visit(name, [])
    return order
