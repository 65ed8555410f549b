"""Typed HTTP client of MLExContent, for front-ends, MLExCompute, workers and scripts.

Imports neither FastAPI nor SQLAlchemy, so the front-end and worker images can use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from services.common.client import BaseClient
from services.content.schemas import (
    AlgorithmCreate,
    AlgorithmPage,
    AlgorithmPublic,
    ModelCreate,
    ModelPage,
    ModelPublic,
    ValidationResult,
)


def _params(**values: Any) -> dict[str, Any]:
    return {
        key: (str(value).lower() if isinstance(value, bool) else value)
        for key, value in values.items()
        if value is not None
    }


class ContentClient(BaseClient):
    """Talks to MLExContent (``http://127.0.0.1:8001`` by default).

    Every method raises :class:`services.common.client.ApiClientError` on an error answer.
    """

    # --- algorithms ---------------------------------------------------------------------------
    def list_algorithms(
        self,
        application: str | None = None,
        q: str | None = None,
        latest: bool = False,
        include_deprecated: bool = False,
        offset: int = 0,
        limit: int = 100,
    ) -> AlgorithmPage:
        """One page of algorithm cards."""
        params = _params(
            application=application,
            q=q,
            latest=latest,
            include_deprecated=include_deprecated,
            offset=offset,
            limit=limit,
        )
        return AlgorithmPage.model_validate(self.get_json("/algorithms", params=params))

    def iter_algorithms(
        self,
        application: str | None = None,
        q: str | None = None,
        latest: bool = False,
        include_deprecated: bool = False,
    ) -> Iterator[AlgorithmPublic]:
        """Every matching card, page after page."""
        params = _params(
            application=application, q=q, latest=latest, include_deprecated=include_deprecated
        )
        return self.iterate("/algorithms", AlgorithmPublic, **params)

    def algorithm_versions(self, name: str) -> list[AlgorithmPublic]:
        """Every version of one algorithm, newest first."""
        return list(self.iterate(f"/algorithms/{name}", AlgorithmPublic))

    def get_algorithm(self, name: str, version: str = "latest") -> AlgorithmPublic:
        """One card (``latest``: the newest version)."""
        return AlgorithmPublic.model_validate(self.get_json(f"/algorithms/{name}/{version}"))

    def publish_algorithm(self, card: AlgorithmCreate | dict[str, Any]) -> AlgorithmPublic:
        """Publish a new algorithm version (admin or contributor)."""
        body = card.model_dump(mode="json") if isinstance(card, AlgorithmCreate) else card
        return AlgorithmPublic.model_validate(self.post_json("/algorithms", body))

    def set_deprecated(
        self, name: str, version: str, deprecated: bool = True, message: str | None = None
    ) -> AlgorithmPublic:
        """Deprecate (or undeprecate) one version."""
        body = {"deprecated": deprecated, "deprecation_message": message}
        response = self.request("PATCH", f"/algorithms/{name}/{version}", json=body)
        return AlgorithmPublic.model_validate(response.json())

    def validate_parameters(
        self,
        name: str,
        version: str,
        parameters: dict[str, Any],
        model_id: str | None = None,
    ) -> ValidationResult:
        """Normalised parameters (defaults filled); raises with every bad field otherwise."""
        body = {"parameters": parameters, "model_id": model_id}
        data = self.post_json(f"/algorithms/{name}/{version}/validate", body)
        return ValidationResult.model_validate(data)

    # --- trained models -----------------------------------------------------------------------
    def register_model(self, model: ModelCreate | dict[str, Any]) -> ModelPublic:
        """Register a trained model with its lineage (worker, contributor or admin)."""
        body = model.model_dump(mode="json") if isinstance(model, ModelCreate) else model
        return ModelPublic.model_validate(self.post_json("/models", body))

    def get_model(self, model_id: str) -> ModelPublic:
        return ModelPublic.model_validate(self.get_json(f"/models/{model_id}"))

    def list_models(
        self, offset: int = 0, limit: int = 100, **filters: str | bool | None
    ) -> ModelPage:
        """One page of models; filters: algorithm, version, dataset, job, tagging_event, tag,
        parent, created_by, include_deleted."""
        params = _params(**filters, offset=offset, limit=limit)
        return ModelPage.model_validate(self.get_json("/models", params=params))

    def iter_models(self, **filters: str | bool | None) -> Iterator[ModelPublic]:
        """Every matching model, page after page."""
        return self.iterate("/models", ModelPublic, **_params(**filters))

    def delete_model(self, model_id: str) -> None:
        """Soft-delete a model (its lineage stays)."""
        self.request("DELETE", f"/models/{model_id}")

    def check_model_parameters(self, model_id: str, parameters: dict[str, Any]) -> ValidationResult:
        """Validate inference parameters against a model's card and architecture."""
        data = self.post_json(f"/models/{model_id}/check", {"parameters": parameters})
        return ValidationResult.model_validate(data)
