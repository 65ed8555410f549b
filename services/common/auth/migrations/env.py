from services.common.auth.models import AuthBase
from services.common.db import run_alembic_env

run_alembic_env(AuthBase.metadata, version_table="alembic_version_auth")
