from services.common.db import run_alembic_env
from services.content.models import ContentBase

run_alembic_env(ContentBase.metadata, version_table="alembic_version_content")
