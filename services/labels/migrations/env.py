from services.common.db import run_alembic_env
from services.labels.models import LabelsBase

run_alembic_env(LabelsBase.metadata, version_table="alembic_version_labels")
