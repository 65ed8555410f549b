"""Dependencies of MLExContent routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.content.validation import ParameterValidator


def get_validator(request: Request) -> ParameterValidator:
    """The app's parameter validator (knows the built-in cards' pydantic models)."""
    return request.app.state.validator


ValidatorDep = Annotated[ParameterValidator, Depends(get_validator)]
