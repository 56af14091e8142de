"""What is running: the release version, the build's git revision and the database schema revision.

IT staff quote these three when they report a problem, so each must be right in every way the
program is started:

* the version comes from the installed package metadata (``pyproject.toml``), falling back to
  ``counter_app.__version__`` inside a PyInstaller bundle where no ``.dist-info`` is shipped;
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
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("counter-app")
    except PackageNotFoundError:
        from counter_app import __version__

        return __version__


def build_info() -> dict:
    """The dict ``build.spec`` embedded (``revision``, ``built_at``), or {} outside a bundle."""
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

    def as_dict(self) -> dict:
        return {"version": self.version, "revision": self.revision, "built_at": self.built_at,
                "schema_head": self.schema_head, "schema_current": self.schema_current,
                "db_path": str(self.db_path) if self.db_path else None}


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
    return VersionInfo(app_version(), info.get("revision") or git_revision() or UNKNOWN,
                       info.get("built_at", ""), head, database_revision(db_path), db_path)


def version_text(home: Path | None = None) -> str:
    v = version_info(home)
    if v.schema_current is None:
        current = "尚未创建"
    elif v.schema_current == v.schema_head:
        current = f"{v.schema_current}（已是最新）"
    else:
        current = f"{v.schema_current}（启动时将升级到 {v.schema_head}）"
    lines = [
        f"counter-app {v.version}",
        f"构建版本号（git）：{v.revision}" + (f"，构建于 {v.built_at}" if v.built_at else ""),
        f"数据库结构版本：程序 {v.schema_head}；本机数据 {current}",
    ]
    return "\n".join(lines)
