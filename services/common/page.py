"""The page model of every list endpoint, importable without FastAPI or SQLAlchemy (clients)."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``{items, total, offset, limit}``."""

    items: list[T]
    total: int
    offset: int
    limit: int
