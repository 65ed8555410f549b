"""The base of every typed HTTP client: auth header, the shared error shape, pagination."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class ApiClientError(Exception):
    """An MLEx API answered with an error; carries its status, code, message and field."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field
        self.details = details or []
        where = f" (field {field})" if field else ""
        super().__init__(f"{status_code} {code}: {message}{where}")


class BaseClient:
    """Talks to one MLEx API under ``/api/v0``.

    Args:
        base_url: the service's root URL, e.g. ``http://127.0.0.1:8003``.
        api_key: sent as ``Authorization: Bearer <key>``.
        http: an existing ``httpx.Client`` (tests pass FastAPI's TestClient here).
    """

    prefix = "/api/v0"

    def __init__(
        self,
        base_url: str = "",
        api_key: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.api_key = api_key
        self._owns_http = http is None
        self.http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self.base_url = str(self.http.base_url).rstrip("/") if http is not None else base_url

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; raise ApiClientError for any 4xx/5xx."""
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        response = self.http.request(method, self.prefix + path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post_json(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.request("POST", path, json=body, **kwargs)
        return response.json() if response.content else None

    def iterate(
        self, path: str, model: type[M], page_size: int = 500, **params: Any
    ) -> Iterator[M]:
        """Yield every item of a paginated list, fetching page after page."""
        offset = 0
        while True:
            page = self.get_json(path, params={**params, "offset": offset, "limit": page_size})
            for item in page["items"]:
                yield model.model_validate(item)
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def health(self) -> dict[str, Any]:
        return self.get_json("/health")

    @staticmethod
    def _error(response: httpx.Response) -> ApiClientError:
        try:
            body = response.json()["error"]
            return ApiClientError(
                response.status_code,
                body.get("code", "error"),
                body.get("message", response.text),
                body.get("field"),
                body.get("details"),
            )
        except (ValueError, KeyError, TypeError):
            return ApiClientError(response.status_code, "error", response.text[:500])
