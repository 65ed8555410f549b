"""Users and API keys: create, list, revoke, and verify a presented key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from services.common.auth.models import ROLES, ApiKey, User, utcnow
from services.common.db import make_engine, make_session_factory, read_only, upgrade_database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_auth"
KEY_PREFIX = "mlex_"


class AuthError(ValueError):
    """A user or key operation was refused (unknown user, bad role, ...)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user name and role (the bootstrap admin has no key id)."""

    name: str
    role: str
    key_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class KeyInfo:
    id: int
    user: str
    role: str
    prefix: str
    name: str
    created_at: str
    revoked: bool


def hash_key(key: str) -> str:
    """SHA-256 of a key: keys are 256-bit random tokens, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class AuthStore:
    """Reads and writes the users-and-keys database shared by every service."""

    def __init__(self, engine: Engine, cache_seconds: float = 5.0) -> None:
        self.engine = engine
        self.sessions = make_session_factory(engine)
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal | None, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, cache_seconds: float = 5.0, migrate: bool = True) -> AuthStore:
        engine = make_engine(url, pool_size=5, max_overflow=10)
        if migrate:
            upgrade_database(engine, MIGRATIONS_DIR, VERSION_TABLE)
        return cls(engine, cache_seconds)

    # users -----------------------------------------------------------------
    def add_user(self, name: str, role: str) -> User:
        if role not in ROLES:
            raise AuthError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
        if not name or len(name) > 128:
            raise AuthError("user name must be 1 to 128 characters")
        with self.sessions() as session:
            if session.scalar(select(User).where(User.name == name)):
                raise AuthError(f"user {name!r} already exists")
            user = User(name=name, role=role)
            session.add(user)
            session.commit()
            return user

    def get_user(self, name: str) -> User | None:
        with self.sessions() as session:
            return session.scalar(select(User).where(User.name == name))

    def list_users(self) -> list[User]:
        with self.sessions() as session:
            return list(session.scalars(select(User).order_by(User.name)))

    def ensure_user(self, name: str, role: str) -> User:
        return self.get_user(name) or self.add_user(name, role)

    # keys ------------------------------------------------------------------
    def create_key(self, user_name: str, name: str = "") -> tuple[str, KeyInfo]:
        """Create a key for a user; the clear key is returned once and never stored."""
        key = new_key()
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.name == user_name))
            if user is None:
                raise AuthError(f"unknown user {user_name!r}")
            record = ApiKey(
                user_id=user.id,
                prefix=key[: len(KEY_PREFIX) + 6],
                key_hash=hash_key(key),
                name=name,
            )
            session.add(record)
            session.commit()
            return key, self._info(record, user)

    def revoke_key(self, key_id_or_prefix: str) -> KeyInfo:
        with self.sessions() as session:
            statement = select(ApiKey, User).join(User)
            if key_id_or_prefix.isdigit():
                statement = statement.where(ApiKey.id == int(key_id_or_prefix))
            else:
                statement = statement.where(
                    ApiKey.prefix == key_id_or_prefix[: len(KEY_PREFIX) + 6]
                )
            rows = session.execute(statement).all()
            if not rows:
                raise AuthError(f"no key {key_id_or_prefix!r}")
            if len(rows) > 1:
                raise AuthError(f"{key_id_or_prefix!r} matches several keys; use the key id")
            record, user = rows[0]
            if record.revoked_at is None:
                record.revoked_at = utcnow()
                session.commit()
            with self._lock:
                self._cache.clear()
            return self._info(record, user)

    def list_keys(self, user_name: str | None = None) -> list[KeyInfo]:
        with self.sessions() as session:
            statement = select(ApiKey, User).join(User).order_by(ApiKey.id)
            if user_name:
                statement = statement.where(User.name == user_name)
            return [self._info(k, u) for k, u in session.execute(statement).all()]

    def verify(self, key: str) -> Principal | None:
        """The principal a key belongs to, or None for an unknown or revoked key."""
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
            if cached and cached[1] > now:
                return cached[0]
        with read_only(self.sessions()) as session:
            row = session.execute(
                select(ApiKey, User).join(User).where(ApiKey.key_hash == digest)
            ).first()
        principal = None
        if row is not None:
            record, user = row
            if (
                record.revoked_at is None
                and not user.disabled
                and hmac.compare_digest(record.key_hash, digest)
            ):
                principal = Principal(name=user.name, role=user.role, key_id=record.id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (principal, now + self.cache_seconds)
        return principal

    @staticmethod
    def _info(record: ApiKey, user: User) -> KeyInfo:
        return KeyInfo(
            id=record.id,
            user=user.name,
            role=user.role,
            prefix=record.prefix,
            name=record.name,
            created_at=record.created_at.isoformat() if record.created_at else "",
            revoked=record.revoked_at is not None,
        )
