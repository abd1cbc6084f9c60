"""dictionaries for the zstd-compressed XML columns (gateway.compression); the Annex-3 view compressed too

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The XML columns keep their type: a compressed value is told from plain XML by its first bytes, so rows written
    # before this revision are read as they are and nothing needs rewriting.
    op.create_table(
        "compression_dictionaries",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compression_dictionaries")),
    )
    # The Annex-3 view becomes a compressed binary value; its JSON text is kept as the bytes of existing rows, which
    # gateway.compression.CompressedJSON reads as plain JSON.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records ALTER COLUMN annex3 TYPE bytea USING convert_to(annex3::text, 'UTF8')")
    else:
        with op.batch_alter_table("records") as batch:
            batch.alter_column("annex3", type_=sa.LargeBinary(), existing_type=sa.JSON(), existing_nullable=False)


def downgrade() -> None:
    # Values compressed since the upgrade cannot be read back as JSON by SQL; downgrading needs a database written
    # before it (or a re-harvest).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records ALTER COLUMN annex3 TYPE json USING convert_from(annex3, 'UTF8')::json")
    else:
        with op.batch_alter_table("records") as batch:
            batch.alter_column("annex3", type_=sa.JSON(), existing_type=sa.LargeBinary(), existing_nullable=False)
    op.drop_table("compression_dictionaries")
