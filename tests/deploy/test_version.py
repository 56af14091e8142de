"""``counter-app --version``: release version, the build's git revision, schema head and current."""
from __future__ import annotations

import json
import subprocess
import tomllib

import counter_app.version as version
from app.cli import main
from counter_app.store.db import head_revision
from tests.deploy.conftest import ROOT


def test_version_names_release_revision_and_both_schema_revisions(window, capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.splitlines()
    release = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert out[0] == f"counter-app {release}"
    expected = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    assert out[1].startswith(f"构建版本号（git）：{expected}")
    assert out[2] == f"数据库结构版本：程序 {head_revision()}；本机数据 {head_revision()}（已是最新）"


def test_version_before_the_store_exists_changes_nothing(_fresh_home, capsys):
    assert main(["--version"]) == 0
    assert "本机数据 尚未创建" in capsys.readouterr().out
    assert not (_fresh_home / "counter.sqlite3").exists()


def test_a_store_from_a_newer_program_is_named_as_such(window, capsys):
    import sqlite3

    window.close()
    conn = sqlite3.connect(window.home / "counter.sqlite3")
    conn.execute("UPDATE alembic_version SET version_num = 'f999_future'")
    conn.commit()
    conn.close()
    assert main(["--version"]) == 0
    assert "本机数据 f999_future（由更新版本的程序写入，本程序不会改动它：请安装最新版本）" in capsys.readouterr().out


def test_embedded_build_info_wins_over_git(tmp_path, monkeypatch):
    package = tmp_path / "counter_app"
    package.mkdir()
    (package / version.BUILD_INFO_FILE).write_text(json.dumps({"revision": "0123456789ab", "built_at": "2026-11-30"}))
    monkeypatch.setattr(version, "_PACKAGE_DIR", package)
    assert version.build_revision() == "0123456789ab"
    assert version.version_info().built_at == "2026-11-30"


def test_outside_a_checkout_and_a_bundle_the_revision_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(version, "_PACKAGE_DIR", tmp_path / "site-packages" / "counter_app")
    assert version.build_revision() == "unknown"


def test_git_revision_reports_a_dirty_checkout(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (repo / "f.txt").write_text("a")
    run("add", "f.txt")
    run("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "x")
    clean = version.git_revision(repo)
    assert clean and len(clean) == 12 and "+" not in clean
    (repo / "f.txt").write_text("b")
    assert version.git_revision(repo) == clean + "+dirty"


def test_opening_a_window_creates_the_store_without_a_backup(_fresh_home):
    from counter_app.services import open_window
    from counter_app.upgrade import backups

    window = open_window(_fresh_home)
    try:
        assert version.database_revision(_fresh_home / "counter.sqlite3") == head_revision()
        assert backups(_fresh_home) == []  # a new store has nothing to lose
    finally:
        window.close()
