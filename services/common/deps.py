"""Typed dependencies a route states in its signature: its database session and its caller."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.common.auth.store import AuthStore, Principal
from services.common.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="An MLEx API key")
BOOTSTRAP_ADMIN = "admin"


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request, closed afterwards."""
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <key>``; 401 when missing or unknown."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    key = credentials.credentials
    bootstrap = request.app.state.settings.admin_api_key
    if bootstrap is not None and hmac.compare_digest(
        key.encode(), bootstrap.get_secret_value().encode()
    ):
        return Principal(name=BOOTSTRAP_ADMIN, role="admin")
    store: AuthStore = request.app.state.auth
    principal = store.verify(key)
    if principal is None:
        raise Unauthorized("invalid or revoked API key")
    return principal


SessionDep = Annotated[Session, Depends(get_session)]
CurrentUser = Annotated[Principal, Depends(get_principal)]


def RequireRole(*roles: str) -> Any:  # noqa: N802 - reads as a type in signatures
    """A dependency that lets through admins and the given roles, and answers 403 otherwise."""
    allowed = set(roles) | {"admin"}

    def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(
                f"role {principal.role!r} may not do this; needs {' or '.join(sorted(allowed))}"
            )
        return principal

    check.__name__ = f"require_{'_or_'.join(sorted(allowed))}"
    return Depends(check)

