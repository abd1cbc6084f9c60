"""Stored XML, compressed: zstd with a dictionary trained on the installation's own records.

A JPCOAR record of a few kilobytes compresses poorly on its own (namespaces, element and attribute names, vocabulary
URIs are most of it, and a lone small document cannot refer back to them); with a dictionary that already holds what
the records of a repository share it shrinks to a small fraction. No dictionary can be shipped that fits every
repository, so each installation trains its own: the first `TRAIN_SAMPLES` documents are stored compressed without a
dictionary and kept as samples; then a dictionary is trained from them, stored in `compression_dictionaries` and used
for everything written after. A dictionary is never changed or removed: a stored value names the dictionary it needs
(zstd writes its id in the frame header), so values written at any time stay readable.

`CompressedXML` is the column type that does this transparently: it writes compressed bytes and reads plain ones, so
no caller ever sees a compressed value. Values written before compression (plain XML) are read as they are.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from datetime import UTC, datetime
from typing import Any

import zstandard
from sqlalchemy import Engine, LargeBinary, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

#: documents stored before a dictionary is trained from them (they stay compressed without one)
TRAIN_SAMPLES = 500
DICTIONARY_SIZE = 64 * 1024
LEVEL = 3
_MAGIC = b"\x28\xb5\x2f\xfd"  # every zstd frame starts with it; XML never does


class _Database:
    """What this process knows of one database it writes: the dictionary new values get, and training samples."""

    def __init__(self) -> None:
        self.writing: int | None = None
        self.samples: list[bytes] = []
        self.lock = threading.Lock()


class _Codec:
    """The process's dictionaries (by id: zstd dictionary ids are random 32-bit numbers) and compressors.

    New values are written with the dictionary of the database being written, told apart by the engine's dialect
    object (one per engine), so that no database ever holds a value that needs another database's dictionary.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dictionaries: dict[int, zstandard.ZstdCompressionDict] = {}
        self.databases: weakref.WeakKeyDictionary[Any, _Database] = weakref.WeakKeyDictionary()
        self.engines: weakref.WeakSet[Engine] = weakref.WeakSet()
        self._local = threading.local()

    def database(self, dialect: Any) -> _Database:
        with self.lock:
            found = self.databases.get(dialect)
            if found is None:
                found = self.databases[dialect] = _Database()
            return found

    # zstd (de)compressor objects must not be shared between threads: a set per thread.
    def _cached(self, name: str, key: int, make: Any) -> Any:
        cache = getattr(self._local, name, None)
        if cache is None:
            cache = {}
            setattr(self._local, name, cache)
        found = cache.get(key)
        if found is None:
            found = cache[key] = make()
        return found

    def _compressor(self, dict_id: int | None) -> zstandard.ZstdCompressor:
        if dict_id is None:
            return self._cached("compressors", 0, lambda: zstandard.ZstdCompressor(level=LEVEL))
        return self._cached(
            "compressors", dict_id, lambda: zstandard.ZstdCompressor(level=LEVEL, dict_data=self.dictionaries[dict_id])
        )

    def _decompressor(self, dict_id: int) -> zstandard.ZstdDecompressor:
        if dict_id == 0:
            return self._cached("decompressors", 0, zstandard.ZstdDecompressor)
        if dict_id not in self.dictionaries:
            self._load_missing(dict_id)
        return self._cached(
            "decompressors", dict_id, lambda: zstandard.ZstdDecompressor(dict_data=self.dictionaries[dict_id])
        )

    def add(self, dict_id: int, data: bytes) -> None:
        with self.lock:
            if dict_id not in self.dictionaries:
                self.dictionaries[dict_id] = zstandard.ZstdCompressionDict(data)

    def _load_missing(self, dict_id: int) -> None:
        # A value written by another process with a dictionary trained after this one read the table.
        for engine in list(self.engines):
            try:
                with engine.connect() as conn:
                    row = conn.execute(
                        text("SELECT data FROM compression_dictionaries WHERE id = :id"), {"id": dict_id}
                    ).first()
            except Exception:  # a database of this process without the table (tests): the next one may have it
                continue
            if row is not None:
                self.add(dict_id, bytes(row[0]))
                return
        raise LookupError(f"a stored value needs compression dictionary {dict_id}, which no database here holds")

    def pack(self, value: bytes, dialect: Any) -> bytes:
        if value.startswith(_MAGIC):
            return value  # compressed already
        db = self.database(dialect)
        dict_id = db.writing
        if dict_id is None and len(db.samples) < TRAIN_SAMPLES:
            with db.lock:
                db.samples.append(value)
        return self._compressor(dict_id).compress(value)

    def unpack(self, value: bytes) -> bytes:
        if value[:4] != _MAGIC:
            return value  # written before compression
        # The dictionary id, read from the frame header (RFC 8878, 3.1.1.1): this runs for every record served, and
        # zstandard.get_frame_parameters costs more than the decompression of a small record itself.
        descriptor = value[4]
        size = (0, 1, 2, 4)[descriptor & 3]
        start = 5 if descriptor & 0x20 else 6  # a window descriptor byte unless the frame is a single segment
        dict_id = int.from_bytes(value[start : start + size], "little") if size else 0
        decompressors = getattr(self._local, "decompressors", None)
        found = decompressors.get(dict_id) if decompressors is not None else None
        if found is None:
            found = self._decompressor(dict_id)
        return found.decompress(value)


CODEC = _Codec()


class CompressedXML(TypeDecorator[bytes]):
    """A binary column holding XML, stored zstd-compressed (see the module's docstring)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return CODEC.pack(bytes(value), dialect)

    def process_result_value(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        return CODEC.unpack(value if isinstance(value, bytes) else bytes(value))

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        # The shortest path from a row to its bytes: the provider reads one of these per record it serves.
        inner = self.impl_instance.result_processor(dialect, coltype)
        unpack = CODEC.unpack
        if inner is None:
            return lambda value: None if value is None else unpack(value if type(value) is bytes else bytes(value))
        return lambda value: None if value is None else unpack(bytes(inner(value)))


class CompressedJSON(TypeDecorator[Any]):
    """A JSON value stored as compressed UTF-8 text (the Annex-3 view: a few kilobytes per record, read by reports).

    Rows written before this column was compressed hold plain JSON text, read as it is.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        text_ = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return CODEC.pack(text_.encode("utf-8"), dialect)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite keeps the text of rows written when the column was JSON
            return json.loads(value)
        return json.loads(CODEC.unpack(bytes(value)))


def register(engine: Engine) -> None:
    """Let this process find dictionaries in `engine`'s database when it reads a value that needs one."""
    CODEC.engines.add(engine)


def _dialect(session: Session) -> Any:
    return session.get_bind().dialect


def activate(session: Session) -> int | None:
    """Read the dictionaries of the session's database; new values are written with its newest one.

    Called when a harvest or remap starts; returns the dictionary id new values get (None: none trained yet).
    """
    rows = session.execute(text("SELECT id, data FROM compression_dictionaries ORDER BY created_at, id")).all()
    for dict_id, data in rows:
        CODEC.add(int(dict_id), bytes(data))
    active = int(rows[-1][0]) if rows else None
    CODEC.database(_dialect(session)).writing = active
    return active


def train_if_ready(session: Session) -> int | None:
    """Train and store a dictionary once enough values were written without one; its id, or None.

    Call it in a transaction of its own, between pages, and `use` the id once that transaction has committed: a
    value must never be written with a dictionary that its database might not hold.
    """
    db = CODEC.database(_dialect(session))
    if db.writing is not None or len(db.samples) < TRAIN_SAMPLES:
        return None
    existing = session.execute(text("SELECT id, data FROM compression_dictionaries ORDER BY created_at, id")).all()
    if existing:  # another process trained one meanwhile
        db.samples.clear()
        for dict_id, data in existing:
            CODEC.add(int(dict_id), bytes(data))
        return int(existing[-1][0])
    with db.lock:
        samples, db.samples = db.samples, []
    try:
        trained = zstandard.train_dictionary(DICTIONARY_SIZE, samples, level=LEVEL)
    except zstandard.ZstdError as exc:  # too few distinct samples: keep writing without a dictionary
        log.warning("could not train a compression dictionary: %s", exc)
        return None
    data = trained.as_bytes()
    dict_id = trained.dict_id()
    session.execute(
        text("INSERT INTO compression_dictionaries (id, data, created_at) VALUES (:id, :data, :at)"),
        {"id": dict_id, "data": data, "at": datetime.now(UTC).replace(tzinfo=None)},
    )
    CODEC.add(dict_id, data)
    log.info("trained compression dictionary %d from %d documents (%d bytes)", dict_id, len(samples), len(data))
    return dict_id


def use(session: Session, dict_id: int | None) -> None:
    """Write new values of the session's database with this dictionary (once the one storing it has committed)."""
    if dict_id is not None:
        CODEC.database(_dialect(session)).writing = dict_id


def train_between_pages(sessions: Any) -> None:
    """`train_if_ready` in its own transaction, then `use` what it trained (a harvest calls it after each page)."""
    db_state = None
    with sessions() as session:
        db_state = CODEC.database(_dialect(session))
        if db_state.writing is not None or len(db_state.samples) < TRAIN_SAMPLES:
            return
        dict_id = train_if_ready(session)
        session.commit()
        use(session, dict_id)
