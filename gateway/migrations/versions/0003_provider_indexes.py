"""publication change numbers for exact list walks; stored headers

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The list queries themselves are served by indexes the first revision creates (pk_published in id order,
    # pk_published_sets for a set, ix_published_datestamp_id for from/until); tests/test_provider_scale.py checks
    # every plan on PostgreSQL. This revision adds change numbers, which let a walk recognise the records that change
    # while it runs without trusting clocks, and the header of each record as served. Rows written before it have no
    # stored header; the provider assembles theirs.
    op.create_table(
        "publication_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_changes")),
    )
    with op.batch_alter_table("published") as batch:
        batch.add_column(sa.Column("change", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("header_xml", sa.LargeBinary(), nullable=True))
    op.create_index("ix_published_change", "published", ["change"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_published_change", table_name="published")
    with op.batch_alter_table("published") as batch:
        batch.drop_column("header_xml")
        batch.drop_column("change")
    op.drop_table("publication_changes")
