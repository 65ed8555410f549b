"""One error shape for every 4xx/5xx: ``{"error": {"code", "message", "field"?, ...}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.logs import current_request_id

logger = logging.getLogger("mlex.errors")

STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    """One problem with a request, e.g. one bad field."""

    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None
    details: list[ErrorDetail] | None = None
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class ApiError(Exception):
    """An error that maps to one HTTP status and the shared error shape."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: list[ErrorDetail] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code:
            self.code = code


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class Invalid(ApiError):
    status_code = 422
    code = "validation_error"


class Unavailable(ApiError):
    status_code = 503
    code = "unavailable"


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": code.replace("_", " ")}
    for status, code in STATUS_CODES.items()
    if status in (401, 403, 404, 409, 422)
}


def error_json(
    status_code: int,
    message: str,
    *,
    code: str | None = None,
    field: str | None = None,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a response in the shared error shape."""
    body = ErrorBody(
        code=code or STATUS_CODES.get(status_code, "error"),
        message=message,
        field=field,
        details=details,
        request_id=current_request_id(),
    )
    return JSONResponse(
        ErrorResponse(error=body).model_dump(exclude_none=True),
        status_code=status_code,
        headers=headers,
    )


def field_name(location: tuple[Any, ...] | list[Any]) -> str | None:
    """Turn a pydantic error location into a field name (``items.3.confidence``)."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or None


def validation_details(errors: list[dict[str, Any]]) -> list[ErrorDetail]:
    """One ErrorDetail per pydantic error."""
    return [
        ErrorDetail(field=field_name(e.get("loc", ())), message=e.get("msg", "invalid"))
        for e in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to the shared error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return error_json(
            error.status_code,
            error.message,
            code=error.code,
            field=error.field,
            details=error.details,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        details = validation_details(list(error.errors()))
        first = details[0] if details else ErrorDetail(message="invalid request")
        message = (
            "; ".join(f"{d.field}: {d.message}" if d.field else d.message for d in details)
            or "invalid request"
        )
        return error_json(422, message, field=first.field, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else "request failed"
        return error_json(error.status_code, message, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=error)
        return error_json(500, "internal server error")
