"""Compute-specific dependencies: who may submit, who is a worker, and the app's helpers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from services.common.auth.store import Principal
from services.common.deps import RequireRole
from services.compute.cards import ContentCards
from services.compute.queue import Dispatcher
from services.compute.settings import ComputeSettings


def get_settings(request: Request) -> ComputeSettings:
    return request.app.state.settings


def get_dispatcher(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


def get_cards(request: Request) -> ContentCards:
    return request.app.state.cards


def get_sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


Submitter = Annotated[Principal, RequireRole("user", "contributor")]
WorkerCaller = Annotated[Principal, RequireRole("worker")]
SettingsDep = Annotated[ComputeSettings, Depends(get_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
CardsDep = Annotated[ContentCards, Depends(get_cards)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
