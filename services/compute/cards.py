"""Algorithm cards as MLExCompute needs them: validated parameters, queue, runner.

Parameters are validated by MLExContent (``POST /algorithms/{name}/{version}/validate``) over
HTTP; the client is injected into the app so tests pass the real content app's TestClient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.common.client import ApiClientError, BaseClient
from services.common.errors import ErrorDetail, Invalid, Unavailable


@dataclass(frozen=True)
class CheckedJob:
    """What the card says about one job: its normalised parameters and where it runs."""

    name: str
    version: str
    parameters: dict[str, Any]
    queue: str = "cpu"
    gpu: str = "none"
    image: str | None = None
    command: list[str] | None = None
    entry_point: str | None = None
    steps: tuple[str, ...] = field(default_factory=tuple)


class ContentCards:
    """Checks jobs against MLExContent through any :class:`BaseClient` pointed at it."""

    def __init__(self, client: BaseClient) -> None:
        self.client = client

    def card(self, name: str, version: str, step: str) -> CheckedJob:
        """What the card says about where a job runs (parameters not validated)."""
        return self._checked(name, version, step, lambda path: None, {})

    def check(
        self, name: str, version: str, step: str, parameters: dict[str, Any], model_id: str | None
    ) -> CheckedJob:
        """Validate a job's parameters; raise :class:`Invalid` (422) naming the bad fields."""
        body: dict[str, Any] = {"parameters": parameters}
        if model_id:
            body["model_id"] = model_id
        return self._checked(
            name,
            version,
            step,
            lambda path: self.client.post_json(f"{path}/validate", body),
            parameters,
        )

    def _checked(
        self,
        name: str,
        version: str,
        step: str,
        validate: Callable[[str], Any],
        parameters: dict[str, Any],
    ) -> CheckedJob:
        try:
            card = self.client.get_json(f"/algorithms/{name}/{version}")
            # "latest" (or any alias) resolves to the card's own version.
            version = str(card.get("version") or version)
            path = f"/algorithms/{name}/{version}"
            steps = tuple(card.get("steps") or ())
            if steps and step not in steps:
                raise Invalid(
                    f"{name} {version} supports step {', '.join(steps)}, not {step}",
                    field="step",
                )
            result = validate(path) or {}
        except ApiClientError as error:
            raise _as_invalid(error, name, version) from error
        except httpx.HTTPError as error:
            raise Unavailable(f"MLExContent is unreachable: {error}") from error
        resources = card.get("resources") or {}
        gpu = str(resources.get("gpu", "none"))
        return CheckedJob(
            name=name,
            version=version,
            parameters=dict(result.get("parameters", parameters)),
            queue=card.get("queue") or ("gpu" if gpu == "required" else "cpu"),
            gpu=gpu,
            image=card.get("image"),
            command=card.get("command"),
            entry_point=card.get("entry_point"),
            steps=steps,
        )

    def model(self, model_id: str) -> dict[str, Any]:
        """A registered model (its weights URI and parameters)."""
        try:
            return dict(self.client.get_json(f"/models/{model_id}"))
        except ApiClientError as error:
            if error.status_code == 404:
                raise Invalid(f"unknown model {model_id}", field="inputs.model_id") from error
            raise Unavailable(f"MLExContent answered {error}") from error


def _as_invalid(error: ApiClientError, name: str, version: str) -> Exception:
    """Turn MLExContent's answer into our 422 (or 503 when it is down)."""
    if error.status_code == 404:
        return Invalid(f"unknown algorithm {name} {version}", field="algorithm")
    if error.status_code == 422:
        details = [
            ErrorDetail(field=_parameter_field(d.get("field")), message=d.get("message", "invalid"))
            for d in error.details
        ] or None
        return Invalid(
            f"invalid parameters for {name} {version}: {error.message}",
            field=_parameter_field(error.field),
            details=details,
        )
    if error.status_code in (401, 403):
        return Unavailable(f"MLExContent refused the compute service's key: {error.message}")
    return Unavailable(f"MLExContent answered {error}")


def _parameter_field(field_name: str | None) -> str:
    if not field_name:
        return "parameters"
    return field_name if field_name.startswith("parameters") else f"parameters.{field_name}"
