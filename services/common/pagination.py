"""Pagination: every list endpoint returns ``{items, total, offset, limit}``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.common.page import Page

__all__ = ["MAX_LIMIT", "Page", "PageDep", "PageParams", "page_params", "paginate"]

T = TypeVar("T")

MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageParams:
    offset: int
    limit: int


def page_params(
    offset: Annotated[int, Query(ge=0, description="Items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 100,
) -> PageParams:
    return PageParams(offset=offset, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]


def paginate(
    session: Session,
    statement: Select[Any],
    params: PageParams,
    transform: Callable[[Any], Any] | None = None,
    scalars: bool = True,
) -> dict[str, Any]:
    """Run ``statement`` for one page and count its total; return the page as a dict."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page_statement = statement.offset(params.offset).limit(params.limit)
    rows: Sequence[Any] = (
        session.scalars(page_statement).all() if scalars else session.execute(page_statement).all()
    )
    items = [transform(row) for row in rows] if transform else list(rows)
    return {
        "items": items,
        "total": int(total or 0),
        "offset": params.offset,
        "limit": params.limit,
    }
