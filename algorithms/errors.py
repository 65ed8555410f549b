"""Errors raised by algorithms, each naming what is wrong."""

from __future__ import annotations


class AlgorithmError(Exception):
    """Base class: an algorithm could not run."""


class ParameterError(AlgorithmError, ValueError):
    """A parameter value is invalid; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class InputDataError(AlgorithmError):
    """An input (data set, labels, model) is missing, unreadable or inconsistent."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(message)
