"""The gateway's tables.

`Record` holds everything the gateway knows about one source record: the raw bytes as received, the canonical JPCOAR 2.0
document, validation findings and the policy decision. `Published` is the provider's view: a row exists only for
records that were published at least once, and it is never removed (deleted records are persistent), so the provider
can only ever see what passed the policy gate.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gateway.compression import CompressedJSON, CompressedXML

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(Text)
    metadata_prefix: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: the configured priority as of the source's last harvest: of two records of one dataset, the one from the
    #: source with the higher priority is served (kept here for what is decided without the configuration)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class HarvestRun(Base):
    __tablename__ = "harvest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # incremental | full
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | failed
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    from_param: Mapped[str | None] = mapped_column(String(32))
    until_param: Mapped[str | None] = mapped_column(String(32))
    # The source's own clock at the start of the run: the next incremental harvest starts from it.
    response_date: Mapped[str | None] = mapped_column(String(32))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    records_new: Mapped[int] = mapped_column(Integer, default=0)
    records_changed: Mapped[int] = mapped_column(Integer, default=0)
    records_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    records_deleted: Mapped[int] = mapped_column(Integer, default=0)
    records_failed: Mapped[int] = mapped_column(Integer, default=0)
    #: listed again after the list was restarted, already stored by this run (applied once)
    records_repeated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: records of this run's list held as quarantined
    records_held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    #: lists started again from the run's checkpoint (expired tokens, lists that kept ending early)
    restarts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: pages read record by record around a broken record, and pages with characters XML forbids removed
    repairs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    checkpoint: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)

    source: Mapped[Source] = relationship()

    __table_args__ = (Index("ix_harvest_runs_source_started", "source_id", "started_at"),)


class Record(Base):
    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    source_identifier: Mapped[str] = mapped_column(String(1024))
    local_id: Mapped[str] = mapped_column(String(1200), unique=True)
    raw_format: Mapped[str | None] = mapped_column(String(32))
    raw_xml: Mapped[bytes | None] = mapped_column(CompressedXML)
    raw_hash: Mapped[str | None] = mapped_column(String(64))
    source_datestamp: Mapped[str | None] = mapped_column(String(32))
    source_sets: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    harvested_at: Mapped[datetime] = mapped_column(DateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("harvest_runs.id", ondelete="SET NULL"))
    disclosure: Mapped[str] = mapped_column(String(16))  # public | shared | private | unknown
    # Values that are never published (remarks, 備考): kept for reports, never rendered.
    private: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    canonical_xml: Mapped[bytes | None] = mapped_column(CompressedXML)
    status: Mapped[str] = mapped_column(String(16))  # published | withheld | quarantined | deleted
    status_reason: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    annex3: Mapped[dict[str, Any]] = mapped_column(CompressedJSON, default=dict)
    title: Mapped[str | None] = mapped_column(Text)
    resource_type: Mapped[str | None] = mapped_column(String(255))
    access_right: Mapped[str | None] = mapped_column(String(32))
    available_date: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    #: the record served for the same dataset from another source (gateway.dmp.gating): this one is not published,
    #: and no report counts it; None for every record that is served, or counted, in its own right
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="SET NULL"), index=True)

    source: Mapped[Source] = relationship()
    fundings: Mapped[list[RecordFunding]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="RecordFunding.position"
    )

    __table_args__ = (
        UniqueConstraint("source_id", "source_identifier"),
        Index("ix_records_source_status", "source_id", "status"),
    )


class RecordFunding(Base):
    """One funding reference of a record: what the per-project counts and project sets are keyed on."""

    __tablename__ = "record_fundings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    jgn: Mapped[str | None] = mapped_column(String(64), index=True)
    funder_code: Mapped[str | None] = mapped_column(String(64))
    funder_name_ja: Mapped[str | None] = mapped_column(Text)
    funder_name_en: Mapped[str | None] = mapped_column(Text)
    funding_stream_code: Mapped[str | None] = mapped_column(String(64))
    program_name_ja: Mapped[str | None] = mapped_column(Text)
    program_name_en: Mapped[str | None] = mapped_column(Text)
    project_name_ja: Mapped[str | None] = mapped_column(Text)
    project_name_en: Mapped[str | None] = mapped_column(Text)

    record: Mapped[Record] = relationship(back_populates="fundings")


class Published(Base):
    """What the OAI-PMH provider serves. Rows are added on first publication and never removed."""

    __tablename__ = "published"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="RESTRICT"), unique=True)
    oai_identifier: Mapped[str] = mapped_column(String(1300), unique=True)
    datestamp: Mapped[datetime] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    about_xml: Mapped[bytes | None] = mapped_column(CompressedXML)
    #: the publication change (a `publication_changes` id) that last wrote this row: a list walk remembers the last
    #: change it could see, so a record changed while it runs is recognised exactly, whatever the clocks say
    change: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the OAI-PMH <header> as served, written with the row, so that a list page is read rather than assembled
    header_xml: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_published_datestamp_id", "datestamp", "id"),
        Index("ix_published_change", "change"),
    )


class PublicationChange(Base):
    """One batch of writes to `published` (a harvested page, a remap): its id orders every change ever made."""

    __tablename__ = "publication_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    made_at: Mapped[datetime] = mapped_column(DateTime)


class PublishedFormat(Base):
    """A record pre-rendered in one metadata format at publish time, so that serving is reading."""

    __tablename__ = "published_formats"

    published_id: Mapped[int] = mapped_column(ForeignKey("published.id", ondelete="CASCADE"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    xml: Mapped[bytes] = mapped_column(CompressedXML)


class PublishedSet(Base):
    __tablename__ = "published_sets"

    set_spec: Mapped[str] = mapped_column(String(255), primary_key=True)
    published_id: Mapped[int] = mapped_column(ForeignKey("published.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_published_sets_published_id", "published_id"),)


class OaiSet(Base):
    """Names of the sets that published records belong to (only ever created at publish time)."""

    __tablename__ = "oai_sets"

    set_spec: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class CompressionDictionary(Base):
    """A zstd dictionary trained on this installation's records (gateway.compression); never changed or removed."""

    __tablename__ = "compression_dictionaries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # the zstd dictionary id
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Setting(Base):
    """Small persistent values the gateway generates itself (the resumption-token secret, ...)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class FindingSnapshot(Base):
    """The findings of one record as one run (or remap) left them, so a manager can see what changed between runs."""

    __tablename__ = "finding_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("harvest_runs.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)

    __table_args__ = (Index("ix_finding_snapshots_record_created", "record_id", "created_at"),)


class SourceLock(Base):
    """Held while a source is being harvested, in the database so that several gateway processes respect it."""

    __tablename__ = "source_locks"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class AdminUser(Base):
    """A person who may use the dashboard and the management API (role: manager or viewer)."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is stored, the token itself is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[AdminUser] = relationship()


class LoginFailure(Base):
    """A failed login, kept for the rate limit (per user name and address) until it ages out of the window."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_login_failures_user_address_at", "username", "address", "failed_at"),)


class SourceDefinition(Base):
    """A source's settings as the dashboard and the configuration file define them (the fields of [[sources]]).

    `origin` says where the definition came from; `edited_at` is set once it is edited in the dashboard, after which
    the configuration file no longer overwrites it. A deleted configuration source is kept as a tombstone
    (`deleted_at`) so that the next start does not import it again.
    """

    __tablename__ = "source_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    origin: Mapped[str] = mapped_column(String(16))  # config | dashboard
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)


class Project(Base):
    """A funded project's period as an administrator imported it (`gateway projects import`, origin "dmp").

    The registration deadline (end + 61 days) is counted from it; a `[[projects]]` entry of the configuration with the
    same Japan Grant Number wins over the stored one.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jgn: Mapped[str] = mapped_column(String(64), unique=True)  # Japan Grant Number (体系的番号)
    name_ja: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    funder: Mapped[str | None] = mapped_column(Text)
    program: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(16))  # dmp
    file_name: Mapped[str | None] = mapped_column(Text)  # the file it was last imported from (its name only)
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class RecordKey(Base):
    """What tells a record's dataset: its grant numbers, data numbers, persistent identifiers and titles, normalised.

    Written with the record at map time (gateway.dmp.keys), so that the two rules that need them read an index
    instead of every record's Annex-3 view: one dataset is one record (the same DOI or other persistent identifier,
    or the same data number of the same grant number, across sources: gateway.dmp.gating), and a record is matched
    to the dataset its project's DMP declares (data number, identifier, then title: gateway.dmp.matching).
    kind: jgn (value: the grant number) | number ("<jgn>/<data number>") | pid ("doi:10..." / "hdl:...") |
    title ("<jgn>/<normalised title>").
    """

    __tablename__ = "record_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(600))

    __table_args__ = (Index("ix_record_keys_kind_value", "kind", "value"),)


class DmpVersion(Base):
    """One import of a project's DMP: every import is a version of its own, kept (the guideline asks for the DMP's
    history, §5 2)-3). `current` marks the newest version of each project; `changes` is what it changed."""

    __tablename__ = "dmp_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jgn: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    dmp_date: Mapped[date | None] = mapped_column(Date)  # DMP 作成日 as the file gives it
    imported_at: Mapped[datetime] = mapped_column(DateTime)
    file_name: Mapped[str | None] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(String(16))  # table | form (item rows, datasets in columns) | projects
    #: false for a sheet of project periods only: the datasets of the version before are carried over
    declares_datasets: Mapped[bool] = mapped_column(Boolean, default=True)
    name_ja: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    program: Mapped[str | None] = mapped_column(Text)  # 研究事業名 / 事業名
    funder: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    #: the principal investigator as the catalogue may show them (name, affiliation, title)
    investigator: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: what the DMP form marks as not published (the PI's address, telephone, e-mail): kept, never in any output
    private: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revisions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 改訂履歴, as written
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        UniqueConstraint("jgn", "version"),
        Index("ix_dmp_versions_jgn_current", "jgn", "current"),
    )


class DmpDataset(Base):
    """One dataset (管理対象データ) of a DMP version: the items the gateway reads, and every cell as written."""

    __tablename__ = "dmp_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("dmp_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: the dataset's identity across versions: its data number, else "title:<normalised name>"
    key: Mapped[str] = mapped_column(String(600))
    number: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    #: メタデータの公開/共有/非共有: public | shared | private | undecided (未定, 協議中) | None (not given)
    metadata_disclosure: Mapped[str | None] = mapped_column(String(16))
    access_right: Mapped[str | None] = mapped_column(String(32))  # the data's access right, as records have it
    #: AMED's データシェアリング方法 (gateway.dmp.values.SHARING), None when the DMP does not give one
    sharing: Mapped[str | None] = mapped_column(String(32))
    planned_date: Mapped[date | None] = mapped_column(Date)  # AMED 公開予定日
    #: the version in which this dataset first appeared (dates it for the registration deadlines)
    first_version: Mapped[int] = mapped_column(Integer)
    pids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    staff: Mapped[list[Any]] = mapped_column(JSON, default=list)  # データ関連人材 with 公表の可否
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # every cell, by column key, as written
    row: Mapped[str | None] = mapped_column(String(32))  # where in the file ("row 7", "column D")


class DmpPublication(Base):
    """A publication of a project's results (a paper's acceptance, a patent application's publication), for AMED's
    rule that restricted sharing moves to open at the earlier of end + 2 years and the results' publication."""

    __tablename__ = "dmp_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jgn: Mapped[str] = mapped_column(String(64), index=True)
    dataset_key: Mapped[str | None] = mapped_column(String(600))  # None: the whole project's results
    kind: Mapped[str] = mapped_column(String(16))  # paper | patent
    published_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
