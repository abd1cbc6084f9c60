"""what a harvest run repaired on the way: list restarts, repaired pages and records, records listed again, held

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("records_repeated", "records_held", "restarts", "repairs")


def upgrade() -> None:
    with op.batch_alter_table("harvest_runs") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("harvest_runs") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
