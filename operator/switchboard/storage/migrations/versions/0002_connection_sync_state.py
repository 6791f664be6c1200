"""connection readiness and tool sync state

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults fill rows written before this revision; batch mode keeps SQLite happy.
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ready", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("reason", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("synced_revision", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("tool_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("tools_digest", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("stale", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("connection_integration_idx", ["tenant", "integration"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connection", schema=None) as batch_op:
        batch_op.drop_index("connection_integration_idx")
        batch_op.drop_column("stale")
        batch_op.drop_column("tools_digest")
        batch_op.drop_column("tool_count")
        batch_op.drop_column("synced_revision")
        batch_op.drop_column("reason")
        batch_op.drop_column("ready")
