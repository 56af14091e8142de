"""Opening the SQLite store with the durability settings the scheme's legal force needs.

- WAL journal (readers never block the writer), foreign keys on, ``synchronous=FULL``
  (a commit the applicant signed survives a power cut);
- every write transaction starts with ``BEGIN IMMEDIATE``: the write lock is taken up front,
  so two writers queue on ``busy_timeout`` instead of failing half-way with SQLITE_BUSY;
- the schema is created and upgraded only through Alembic, so a window upgraded in place
  keeps its data.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from counter_app.store.health import StoreProblem, explain

if TYPE_CHECKING:  # Alembic costs ~0.4 s to import: only a migration needs it, not every start
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(path: Path | str, *, synchronous: str = "FULL", read_only: bool = False) -> Engine:
    """An engine with WAL, foreign keys, ``BEGIN IMMEDIATE`` writes and the given ``synchronous``
    level (FULL for the window's store; the reference platform's stand-in may use NORMAL)."""
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(synchronous)
    url = "sqlite://" if str(path) == ":memory:" else f"sqlite:///{Path(path)}"
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would otherwise issue a
        # deferred BEGIN lazily, which is what leads to SQLITE_BUSY on upgrade to a write lock).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        if read_only:
            # A damaged store: reads (lists, export) work, any write fails before touching the file.
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "handle_error")
    def _storage_problem(ctx):  # noqa: ANN001
        # A full disk, a damaged file or a write into a read-only (damaged) store becomes a
        # sentence for the clerk and IT, for the GUI and the command line alike.
        message = explain(ctx.original_exception)
        if message is not None:
            return StoreProblem(message)
        return None

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # Read-only (a damaged store): a deferred BEGIN, since taking the write lock is a write.
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", str(engine.url))
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_database(path: Path | str, *, migrate: bool = True,
                  read_only: bool = False) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(path, read_only=read_only)
    if migrate and current_revision(engine) != head_revision():
        upgrade(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
