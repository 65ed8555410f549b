from services.common.db import run_alembic_env
from services.compute.models import ComputeBase

run_alembic_env(ComputeBase.metadata, version_table="alembic_version_compute")
