"""A small service built on the shared plumbing, used to test that plumbing."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, status
from pydantic import BaseModel, Field
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.app import ServiceDefinition
from services.common.deps import CurrentUser, RequireRole, SessionDep
from services.common.errors import Conflict, NotFound
from services.common.pagination import Page, PageDep, paginate


class SampleBase(DeclarativeBase):
    pass


class Item(SampleBase):
    __tablename__ = "sample_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(128))


class ItemCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    size: int = Field(1, ge=1, le=10)


class ItemPublic(BaseModel):
    id: int
    name: str
    owner: str


router = APIRouter(tags=["items"])


@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=ItemPublic)
def create_item(body: ItemCreate, session: SessionDep, user: CurrentUser) -> ItemPublic:
    if session.scalar(select(Item).where(Item.name == body.name)):
        raise Conflict(f"item {body.name!r} exists", field="name")
    item = Item(name=body.name, owner=user.name)
    session.add(item)
    session.commit()
    return ItemPublic(id=item.id, name=item.name, owner=item.owner)


@router.get("/items", response_model=Page[ItemPublic])
def list_items(session: SessionDep, page: PageDep, user: CurrentUser) -> dict:
    statement = select(Item).order_by(Item.id)
    return paginate(session, statement, page, lambda i: ItemPublic.model_validate(i.__dict__))


@router.get("/items/{item_id}", response_model=ItemPublic)
def get_item(item_id: int, session: SessionDep, user: CurrentUser) -> ItemPublic:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no item {item_id}")
    return ItemPublic(id=item.id, name=item.name, owner=item.owner)


@router.delete(
    "/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[RequireRole()]
)
def delete_item(item_id: int, session: SessionDep) -> None:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no item {item_id}")
    session.delete(item)
    session.commit()


@router.get("/boom")
def boom(user: CurrentUser) -> None:
    raise RuntimeError("secret internal detail")


DEFINITION = ServiceDefinition(
    name="sample",
    title="Sample",
    description="A service used to test the shared plumbing",
    migrations_dir=Path(__file__).parent / "migrations",
    version_table="alembic_version_sample",
    routers=[router],
)
