"""The Alembic migration creates exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.db import make_engine, upgrade_database
from services.content.app import MIGRATIONS_DIR, VERSION_TABLE
from services.content.models import ContentBase


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade_database(engine, MIGRATIONS_DIR, VERSION_TABLE)
        upgrade_database(engine, MIGRATIONS_DIR, VERSION_TABLE)  # a second run changes nothing
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "include_name": _only_content_tables},
            )
            assert compare_metadata(context, ContentBase.metadata) == []
    finally:
        engine.dispose()


def _only_content_tables(name: str | None, type_: str, _: object) -> bool:
    return type_ != "table" or bool(name and name.startswith("content_"))
