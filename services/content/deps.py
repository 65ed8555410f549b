"""Dependencies of MLExContent routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from services.common.db import read_only
from services.content.validation import ParameterValidator


def get_validator(request: Request) -> ParameterValidator:
    """The app's parameter validator (knows the built-in cards' pydantic models)."""
    return request.app.state.validator


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for a request that only reads: on SQLite it runs beside writers."""
    session: Session = request.app.state.sessions()
    try:
        yield read_only(session)
    finally:
        session.close()


ValidatorDep = Annotated[ParameterValidator, Depends(get_validator)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
