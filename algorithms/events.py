"""JSON-lines events an algorithm run prints on stdout for the worker to forward.

Each line is one JSON object with a ``type``: ``progress`` (value 0-1), ``metric`` (epoch and
named values), ``log``, ``artifact`` (a named output URI), ``result`` (the final summary) or
``error`` (message and, where known, the parameter at fault).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

EVENT_TYPES = ("progress", "metric", "log", "artifact", "result", "error")


def _clean(value: Any) -> Any:
    """Make a value JSON-safe (numpy scalars, NaN/inf as None)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class EventEmitter:
    """Writes events as JSON lines; optionally also hands each event to a callback."""

    def __init__(
        self,
        stream: TextIO | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.stream = stream
        self.on_event = on_event
        # With no stream and no callback, events are kept in memory (notebooks, tests).
        self.events: list[dict[str, Any]] = []

    def emit(self, kind: str, /, **payload: Any) -> dict[str, Any]:
        if kind not in EVENT_TYPES:
            raise ValueError(f"unknown event type: {kind}")
        event = {"type": kind, "time": time.time(), **_clean(payload)}
        if self.stream is not None:
            self.stream.write(json.dumps(event) + "\n")
            self.stream.flush()
        if self.on_event is not None:
            self.on_event(event)
        if self.stream is None and self.on_event is None:
            self.events.append(event)
        return event

    def progress(self, value: float, message: str | None = None) -> None:
        self.emit("progress", value=max(0.0, min(1.0, float(value))), message=message)

    def metric(self, epoch: int, values: dict[str, float], step: str | None = None) -> None:
        self.emit("metric", epoch=int(epoch), values=values, step=step)

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)

    def artifact(self, name: str, uri: str, kind: str = "array") -> None:
        self.emit("artifact", name=name, uri=uri, kind=kind)

    def result(self, **payload: Any) -> None:
        self.emit("result", **payload)

    def error(self, message: str, field: str | None = None) -> None:
        self.emit("error", message=message, field=field)


def stdout_emitter() -> EventEmitter:
    """An emitter on the process's real stdout."""
    return EventEmitter(stream=sys.stdout)
