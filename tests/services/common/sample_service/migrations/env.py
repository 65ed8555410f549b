from services.common.db import run_alembic_env
from tests.services.common.sample_service.service import SampleBase

run_alembic_env(SampleBase.metadata, version_table="alembic_version_sample")
