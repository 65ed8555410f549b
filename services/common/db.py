"""Database plumbing: engines for SQLite and PostgreSQL, sessions, and Alembic migrations."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger("mlex.db")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=kwargs.pop("pool_size", 20),
            max_overflow=kwargs.pop("max_overflow", 20),
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # IMMEDIATE takes the write lock up front, so concurrent writers queue on the busy
            # timeout instead of failing with "database is locked" on lock upgrade. Read-only
            # work opts out with execution_options(sqlite_readonly=True) and runs in parallel.
            if connection.get_execution_options().get("sqlite_readonly"):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=kwargs.pop("pool_size", 10),
        max_overflow=kwargs.pop("max_overflow", 20),
        **kwargs,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def read_only(session: Session) -> Session:
    """Mark a fresh session as read-only so SQLite runs it beside writers (no write lock)."""
    session.connection(execution_options={"sqlite_readonly": True})
    return session


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def check_database(engine: Engine) -> str:
    """Return "ok" when the database answers, else a short reason."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # reported by the health endpoint, not raised
        return f"error: {type(error).__name__}"


@contextlib.contextmanager
def _migration_lock(engine: Engine, name: str) -> Iterator[Any]:
    """Serialise migrations of one database across processes that start at once."""
    if is_sqlite(engine):
        database = engine.url.database or ""
        if database and database != ":memory:":
            lock_path = Path(database + ".migrate.lock")
            with open(lock_path, "w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    with engine.connect() as connection:
                        yield connection
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        with engine.connect() as connection:
            yield connection
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()
        try:
            yield connection
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


def upgrade_database(engine: Engine, migrations_dir: Path, version_table: str) -> None:
    """Bring one service's tables up to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["version_table"] = version_table
    with _migration_lock(engine, version_table) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    logger.info("database migrated", extra={"version_table": version_table})


def run_alembic_env(metadata: MetaData, version_table: str) -> None:
    """Body of each service's ``migrations/env.py``.

    Several services may share one database (one PostgreSQL in production), so each keeps its
    own version table and autogenerate only looks at its own tables.
    """
    from alembic import context

    config = context.config
    connection = config.attributes.get("connection")
    table_names = set(metadata.tables)

    def include_name(name: str | None, type_: str, _: Any) -> bool:
        return type_ != "table" or name in table_names

    def configure(conn: Any) -> None:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            version_table=config.attributes.get("version_table", version_table),
            render_as_batch=conn.dialect.name == "sqlite",
            include_name=include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    if connection is not None:
        configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection to run migrations")
    engine = create_engine(url)
    with engine.connect() as conn:
        configure(conn)
        conn.commit()


def make_revision(
    migrations_dir: Path, metadata_url: str, message: str, version_table: str
) -> None:
    """Autogenerate a new revision against a database at ``metadata_url`` (developer tool)."""
    from alembic import command
    from alembic.config import Config

    engine = make_engine(metadata_url)
    upgrade_database(engine, migrations_dir, version_table)
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["version_table"] = version_table
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
