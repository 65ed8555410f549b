"""Structured logging with a request id carried through each request."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mlex_request_id", default=None
)
REQUEST_ID_HEADER = "x-request-id"


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extras."""

    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            data["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in self._skip and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def configure_logging(level: str = "INFO", log_format: str = "json") -> None:
    """Send MLEx logs to stderr in the chosen format (idempotent)."""
    root = logging.getLogger("mlex")
    root.setLevel(level.upper())
    root.propagate = False
    if not any(getattr(h, "_mlex", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._mlex = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for handler in root.handlers:
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
            )


class RequestContextMiddleware:
    """Assigns a request id (or takes the caller's), returns it, and logs one line per request.

    Only the method, path, status and duration are logged: never headers, so API keys never
    reach the logs.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.logger = logging.getLogger(f"mlex.{service}.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode())
        request_id = incoming.decode()[:64] if incoming else uuid.uuid4().hex[:16]
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        started_response = False

        async def send_tracking(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
            await send_with_id(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            # Answer in the shared error shape here, where the request id is still known.
            self.logger.exception("unhandled error")
            if started_response:
                raise
            from services.common.errors import error_json

            response = error_json(500, "internal server error")
            await response(scope, receive, send_with_id)
        finally:
            self.logger.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            _request_id.reset(token)
