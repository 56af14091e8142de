"""What is running: the release version, the build's git revision and the database schema revision.

IT staff quote these three when they report a problem, so each must be right in every way the
program is started:

* the version is ``pyproject.toml``'s: embedded by ``build.spec`` in a bundle (which ships no
  ``.dist-info`` of ours), else read from the installed package metadata;
* the git revision is embedded at build time: ``build.spec`` writes ``build_info.json`` next to
  this module in the bundle. In a source checkout ``git rev-parse`` answers instead; anywhere
  else (an sdist, a copied folder) it is ``unknown`` rather than a guess;
* the schema revision is Alembic's head (what this program expects) and the revision recorded
  in the window's database (what the data is at), read without migrating or creating anything.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

BUILD_INFO_FILE = "build_info.json"
UNKNOWN = "unknown"
_PACKAGE_DIR = Path(__file__).resolve().parent


def app_version() -> str:
    embedded = build_info().get("version")
    if embedded:
        return embedded
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("counter-app")
    except PackageNotFoundError:
        from counter_app import __version__

        return __version__


def build_info() -> dict:
    """The dict ``build.spec`` embedded (``version``, ``revision``, ``built_at``), or {} outside a bundle."""
    try:
        data = json.loads((_PACKAGE_DIR / BUILD_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def git_revision(repo: Path | None = None) -> str | None:
    """Short revision of the checkout holding this source, ``+dirty`` when files differ; None if no git."""
    repo = repo or _PACKAGE_DIR.parent
    if not (repo / ".git").exists():
        return None
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=repo, capture_output=True,
                             text=True, timeout=5)
        if rev.returncode != 0 or not rev.stdout.strip():
            return None
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=repo, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return rev.stdout.strip() + ("+dirty" if dirty.returncode == 1 else "")


def build_revision() -> str:
    return build_info().get("revision") or git_revision() or UNKNOWN


def database_revision(db_path: Path) -> str | None:
    """The Alembic revision stamped in ``db_path``; None when the file or the stamp is absent.

    Opened read-only through SQLite's URI form so asking never creates or changes the store.
    """
    if not db_path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return row[0] if row else None


@dataclass(frozen=True)
class VersionInfo:
    version: str
    revision: str
    built_at: str
    schema_head: str
    schema_current: str | None
    db_path: Path | None
    schema_known: bool = True  # False: the store was stamped by a program newer than this one

    def as_dict(self) -> dict:
        return {"version": self.version, "revision": self.revision, "built_at": self.built_at,
                "schema_head": self.schema_head, "schema_current": self.schema_current,
                "schema_known": self.schema_known, "db_path": str(self.db_path) if self.db_path else None}


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from counter_app.store.db import alembic_config

    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def version_info(home: Path | None = None) -> VersionInfo:
    from counter_app.store.db import head_revision

    if home is None:
        from counter_app.paths import data_home

        home = data_home()
    db_path = home / "counter.sqlite3"
    info = build_info()
    try:
        head = head_revision()
    except Exception as exc:  # a bundle missing its migrations must still say what it is
        head = f"{UNKNOWN}（{type(exc).__name__}）"
    current = database_revision(db_path)
    try:
        known = current is None or current == head or current in _known_revisions()
    except Exception:
        known = True
    return VersionInfo(app_version(), info.get("revision") or git_revision() or UNKNOWN,
                       info.get("built_at", ""), head, current, db_path, known)


def version_text(home: Path | None = None) -> str:
    v = version_info(home)
    if v.schema_current is None:
        current = "尚未创建"
    elif v.schema_current == v.schema_head:
        current = f"{v.schema_current}（已是最新）"
    elif not v.schema_known:
        current = f"{v.schema_current}（由更新版本的程序写入，本程序不会改动它：请安装最新版本）"
    else:
        current = f"{v.schema_current}（启动时将升级到 {v.schema_head}）"
    lines = [
        f"counter-app {v.version}",
        f"构建版本号（git）：{v.revision}" + (f"，构建于 {v.built_at}" if v.built_at else ""),
        f"数据库结构版本：程序 {v.schema_head}；本机数据 {current}",
    ]
    return "\n".join(lines)
