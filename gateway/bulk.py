"""Many rows in one driver call: the statements a harvest runs for every page.

SQLAlchemy's executemany builds the parameters of every row through its compiled statement, a few microseconds per
row and column; a harvest writes about twenty rows per record (the record, its publication, renderings, sets, keys,
funding references, finding history), and at that rate the building cost more than the database did. Here a
statement is made once per table and set of columns, each column's own type conversion (compression, JSON, SQLite's
datetime text) is looked up once, and the rows go to the driver's executemany as plain tuples: the values stored are
the ones SQLAlchemy itself would have stored (tests/storage/test_bulk.py compares them on both engines).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from gateway.db import chunks

Processor = Callable[[Any], Any] | None

#: by dialect (one per engine), the statements made for it: (kind, table, columns, keys) -> (SQL, conversions)
_STATEMENTS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[str, list[Processor]]]] = (
    weakref.WeakKeyDictionary()
)


def _placeholder(dialect: Any) -> str:
    style = dialect.paramstyle
    if style == "qmark":
        return "?"
    if style in ("format", "pyformat"):
        return "%s"
    raise NotImplementedError(f"bulk statements do not know the parameter style {style!r}")


def _processors(dialect: Any, table: Table, names: Sequence[str]) -> list[Processor]:
    # dialect_impl: the dialect's own type (SQLite's DATETIME writes text in SQLAlchemy's format, a TypeDecorator
    # runs its process_bind_param and then its implementation's conversion).
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def _statement(
    session: Session, kind: str, table: Table, names: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[str, list[Processor], Any]:
    connection = session.connection()
    dialect = connection.dialect
    made = _STATEMENTS.get(dialect)
    if made is None:
        made = _STATEMENTS[dialect] = {}
    cache_key = (kind, table.name, names, keys)
    found = made.get(cache_key)
    if found is None:
        quote = dialect.identifier_preparer.quote
        mark = _placeholder(dialect)
        if kind == "insert":
            sql = (
                f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
                f"VALUES ({', '.join(mark for _ in names)})"
            )
        else:
            assignments = ", ".join(f"{quote(n)} = {mark}" for n in names)
            where = " AND ".join(f"{quote(k)} = {mark}" for k in keys)
            sql = f"UPDATE {quote(table.name)} SET {assignments} WHERE {where}"
        found = made[cache_key] = (sql, _processors(dialect, table, names + keys))
    return found[0], found[1], connection


def _tuples(rows: Sequence[Mapping[str, Any]], names: tuple[str, ...], processors: list[Processor]) -> list[Any]:
    get = itemgetter(*names)
    values: list[Any] = [get(row) for row in rows] if len(names) > 1 else [(get(row),) for row in rows]
    converting = [(i, p) for i, p in enumerate(processors) if p is not None]
    if not converting:
        return values
    out = []
    for row in values:
        row = list(row)
        for i, convert in converting:
            row[i] = convert(row[i])  # None too, as SQLAlchemy does: a JSON column stores None as JSON null
        out.append(tuple(row))
    return out


def _shapes(rows: Sequence[Mapping[str, Any]], keys: tuple[str, ...]) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    shapes: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    if not keys:
        return shapes
    merged: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for shape, same in shapes.items():
        merged.setdefault(tuple(name for name in shape if name not in keys), []).extend(same)
    return merged


#: parameters per multi-row INSERT on PostgreSQL (its limit is 65,535)
MAX_PARAMETERS = 20_000


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (mappings of column name to value): one executemany per set of columns on SQLite, multi-row
    INSERTs on PostgreSQL.

    SQLite runs an executemany in the process, one prepared statement for every row. PostgreSQL's server would
    execute each row as a statement of its own (psycopg's executemany sends them in a pipeline, but each is planned,
    executed and logged apart), at a cost per row several times that of the row itself: one statement carries
    many rows instead.
    """
    for names, same in _shapes(rows, ()).items():
        sql, processors, connection = _statement(session, "insert", table, names, ())
        values = _tuples(same, names, processors)
        if connection.dialect.name != "postgresql" or len(values) < 2:
            connection.exec_driver_sql(sql, values)
            continue
        head, _, one = sql.partition(" VALUES ")
        per_statement = max(1, MAX_PARAMETERS // len(names))
        for start in range(0, len(values), per_statement):
            part = values[start : start + per_statement]
            statement = f"{head} VALUES {', '.join(one for _ in part)}"
            connection.exec_driver_sql(statement, tuple(value for row in part for value in row))


def ids_by(session: Session, table: Table, key: str, values: Sequence[Any]) -> dict[Any, int]:
    """The ids of the rows of `table` whose unique column `key` holds one of `values`: how the rows `insert_many`
    just wrote are told their ids, in one indexed query per chunk, the same on both engines."""
    column = table.c[key]
    out: dict[Any, int] = {}
    for chunk in chunks(values):
        out.update(session.execute(select(column, table.c.id).where(column.in_(chunk))).all())
    return out


def update_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, key: str = "id") -> None:
    """UPDATE one row per mapping, found by its `key` column; the other columns of the mapping are set.

    Rows of different shapes are run as one executemany per shape.
    """
    for names, same in _shapes(rows, (key,)).items():
        sql, processors, connection = _statement(session, "update", table, names, (key,))
        connection.exec_driver_sql(sql, _tuples(same, (*names, key), processors))
