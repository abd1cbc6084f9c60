"""DMP versions, datasets and results publications; record keys and duplicates; source priorities

Revision ID: 0008
Revises: 0007
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_records_duplicate_of_records"), "records", ["duplicate_of"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(op.f("ix_records_duplicate_of"), ["duplicate_of"], unique=False)
    op.create_table(
        "record_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=600), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_keys_record_id_records"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_keys")),
    )
    op.create_index(op.f("ix_record_keys_record_id"), "record_keys", ["record_id"], unique=False)
    op.create_index("ix_record_keys_kind_value", "record_keys", ["kind", "value"], unique=False)
    op.create_table(
        "dmp_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jgn", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("dmp_date", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("declares_datasets", sa.Boolean(), nullable=False),
        sa.Column("name_ja", sa.Text(), nullable=True),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column("program", sa.Text(), nullable=True),
        sa.Column("funder", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("investigator", sa.JSON(), nullable=False),
        sa.Column("private", sa.JSON(), nullable=False),
        sa.Column("revisions", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmp_versions")),
        sa.UniqueConstraint("jgn", "version", name=op.f("uq_dmp_versions_jgn_version")),
    )
    op.create_index(op.f("ix_dmp_versions_jgn"), "dmp_versions", ["jgn"], unique=False)
    op.create_index("ix_dmp_versions_jgn_current", "dmp_versions", ["jgn", "current"], unique=False)
    op.create_table(
        "dmp_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("number", sa.String(length=255), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("metadata_disclosure", sa.String(length=16), nullable=True),
        sa.Column("access_right", sa.String(length=32), nullable=True),
        sa.Column("sharing", sa.String(length=32), nullable=True),
        sa.Column("planned_date", sa.Date(), nullable=True),
        sa.Column("first_version", sa.Integer(), nullable=False),
        sa.Column("pids", sa.JSON(), nullable=False),
        sa.Column("staff", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("row", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"], ["dmp_versions.id"], name=op.f("fk_dmp_datasets_version_id_dmp_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmp_datasets")),
    )
    op.create_index(op.f("ix_dmp_datasets_version_id"), "dmp_datasets", ["version_id"], unique=False)
    op.create_table(
        "dmp_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jgn", sa.String(length=64), nullable=False),
        sa.Column("dataset_key", sa.String(length=600), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmp_publications")),
    )
    op.create_index(op.f("ix_dmp_publications_jgn"), "dmp_publications", ["jgn"], unique=False)
    _backfill_keys()


def _backfill_keys() -> None:
    """The keys of the records already stored, read from their Annex-3 views (the same function a harvest uses), so
    that the duplicate rule and the DMP match know them without a re-harvest. Deleted records need none."""
    from gateway.compression import CODEC
    from gateway.dmp.keys import keys_of_view

    bind = op.get_bind()
    for dict_id, data in bind.execute(sa.text("SELECT id, data FROM compression_dictionaries")).all():
        CODEC.add(int(dict_id), bytes(data))
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, annex3 FROM records WHERE id > :last AND status <> 'deleted' ORDER BY id LIMIT 500"),
            {"last": last},
        ).all()
        if not rows:
            return
        keys = []
        for record_id, raw in rows:
            last = record_id
            if raw is None:
                continue
            text = raw if isinstance(raw, str) else CODEC.unpack(bytes(raw)).decode("utf-8")
            try:
                view = json.loads(text)
            except ValueError:
                continue
            keys += [{"record_id": record_id, "kind": k, "value": v} for k, v in keys_of_view(view)]
        if keys:
            bind.execute(
                sa.text("INSERT INTO record_keys (record_id, kind, value) VALUES (:record_id, :kind, :value)"), keys
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_dmp_publications_jgn"), table_name="dmp_publications")
    op.drop_table("dmp_publications")
    op.drop_index(op.f("ix_dmp_datasets_version_id"), table_name="dmp_datasets")
    op.drop_table("dmp_datasets")
    op.drop_index("ix_dmp_versions_jgn_current", table_name="dmp_versions")
    op.drop_index(op.f("ix_dmp_versions_jgn"), table_name="dmp_versions")
    op.drop_table("dmp_versions")
    op.drop_index("ix_record_keys_kind_value", table_name="record_keys")
    op.drop_index(op.f("ix_record_keys_record_id"), table_name="record_keys")
    op.drop_table("record_keys")
    with op.batch_alter_table("records") as batch:
        batch.drop_index(op.f("ix_records_duplicate_of"))
        batch.drop_constraint(op.f("fk_records_duplicate_of_records"), type_="foreignkey")
        batch.drop_column("duplicate_of")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("priority")
