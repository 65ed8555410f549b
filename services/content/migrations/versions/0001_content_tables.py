"""algorithm cards, trained models and lineage links

Revision ID: content_0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "content_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_algorithms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("patch", sa.Integer(), nullable=False),
        sa.Column("prerelease", sa.String(64), nullable=False),
        sa.Column("application", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("reference", sa.String(512), nullable=False),
        sa.Column("entry_point", sa.String(512), nullable=True),
        sa.Column("image", sa.String(512), nullable=True),
        sa.Column("command", sa.JSON(), nullable=True),
        sa.Column("gpu", sa.String(16), nullable=False),
        sa.Column("memory_gb", sa.Float(), nullable=False),
        sa.Column("cpus", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("deprecated", sa.Boolean(), nullable=False),
        sa.Column("deprecation_message", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_content_algorithms_version"),
    )
    op.create_index("ix_content_algorithms_name", "content_algorithms", ["name"])
    op.create_index("ix_content_algorithms_application", "content_algorithms", ["application"])
    op.create_table(
        "content_models",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "algorithm_id",
            sa.Integer(),
            sa.ForeignKey("content_algorithms.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("weights_uri", sa.String(2048), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(128), nullable=True),
        sa.Column(
            "parent_model_id",
            sa.String(36),
            sa.ForeignKey("content_models.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(128), nullable=True),
    )
    op.create_index("ix_content_models_algorithm_id", "content_models", ["algorithm_id"])
    op.create_index("ix_content_models_job_id", "content_models", ["job_id"])
    op.create_index("ix_content_models_parent_model_id", "content_models", ["parent_model_id"])
    op.create_index("ix_content_models_created_by", "content_models", ["created_by"])
    op.create_table(
        "content_model_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "model_id",
            sa.String(36),
            sa.ForeignKey("content_models.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(2048), nullable=False),
    )
    op.create_index("ix_content_model_links_model_id", "content_model_links", ["model_id"])
    op.create_index("ix_content_model_links_kind_value", "content_model_links", ["kind", "value"])


def downgrade() -> None:
    op.drop_table("content_model_links")
    op.drop_table("content_models")
    op.drop_table("content_algorithms")
