"""Bulk inserts for wide JSON rows (tools, definitions): one driver-level `executemany` with
the JSON serialized once by orjson, bypassing SQLAlchemy's per-row parameter processing, which
costs more than the write itself for tens of thousands of rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Table
from sqlalchemy.orm import Session

CHUNK = 2_000
"""Rows per `executemany` call: bounded memory for the serialized text."""
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _text(value: Any) -> str:
    # The same text the engine's JSON serializer writes (None is JSON null, as SQLAlchemy does).
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def insert_rows(
    session: Session,
    table: Table,
    columns: Sequence[str],
    json_columns: Iterable[str],
    rows: Iterable[Mapping[str, Any]],
) -> None:
    """INSERT `rows` (mappings with every name in `columns`) into `table` in the session's
    transaction; values of `json_columns` are serialized here."""
    connection = session.connection()
    placeholder = _PLACEHOLDERS.get(connection.dialect.paramstyle)
    if placeholder is None:  # pragma: no cover - SQLite and psycopg are the supported drivers
        raise RuntimeError(f"unsupported paramstyle {connection.dialect.paramstyle}")
    quote = connection.dialect.identifier_preparer.quote
    # Only identifiers from the table definition and driver placeholders; values are bound.
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(placeholder for _ in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
    as_json = frozenset(json_columns)
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(_text(row[c]) if c in as_json else row[c] for c in columns))
        if len(batch) >= CHUNK:
            connection.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        connection.exec_driver_sql(sql, batch)
