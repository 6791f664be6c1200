"""The database engine: URL handling, SQLite pragmas, Alembic migrations applied on start."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from switchboard.errors import StorageError

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets `catalog list` read while a reconcile writes; NORMAL is durable under WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _json_text(value: object) -> str:
    """JSON columns through orjson: a 20,000-tool spec writes tens of megabytes of schemas, which
    the standard library encodes ten times slower; YAML-born integer keys become strings."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created on first use."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, future=True, json_serializer=_json_text, json_deserializer=orjson.loads
    )
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def head_revision() -> str:
    """The newest migration's id, read from the files (no Alembic import on the hot path)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith("revision = "):
                revisions.add(line.split("=", 1)[1].strip().strip("'\""))
            elif line.startswith("down_revision = ") and "None" not in line:
                parents.add(line.split("=", 1)[1].strip().strip("'\""))
    heads = revisions - parents
    if len(heads) != 1:
        raise StorageError(f"migrations have {len(heads)} heads; expected one")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(value) if value is not None else None


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; a current schema costs one query)."""
    try:
        if current_revision(engine) == head_revision():
            return
    except SQLAlchemyError as exc:
        raise StorageError(f"database unavailable: {type(exc).__name__}") from exc
    from alembic import command  # imported here: only a schema change needs Alembic
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = None
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StorageError(f"database migration failed: {type(exc).__name__}") from exc


def open_database(url: str) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction; driver errors become StorageError here, once, naming the
    failure and never row contents."""
    try:
        with Session(engine) as session, session.begin():
            yield session
    except SQLAlchemyError as exc:
        raise StorageError(f"database error: {type(exc).__name__}") from exc
