"""``db restore``, ``db upgrade`` and ``db backup`` are run by an IT administrator (password from
standard input, never argv); for a restore over a damaged store, the administrator of the backup
being restored. ``sync run`` and ``sync export`` need no login (README: roles on every path)."""
from __future__ import annotations

import io
import sqlite3

from sqlalchemy import select

from app.cli import main
from counter_app.security import access
from counter_app.services import open_window
from counter_app.store.backups import take_backup
from counter_app.store.models import AuditEntry
from tests.security.casework import finalize_case
from tests.security.conftest import STAFF


def _run(capsys, monkeypatch, *args: str, password: str = "") -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n" if password else ""))
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out + out.err


def _last(home, action: str) -> AuditEntry | None:
    w = open_window(home)
    try:
        with w.sessions() as s:
            return s.execute(select(AuditEntry).where(AuditEntry.action == action)
                             .order_by(AuditEntry.seq.desc())).scalars().first()
    finally:
        w.close()


def _damage(db) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    data[4096 * 2: 4096 * 2 + 64] = b"\xff" * 64
    db.write_bytes(bytes(data))


ADMIN_PW = STAFF["admin"][2]


def test_restore_over_a_healthy_store_needs_its_it_administrator(staffed_window, capsys, monkeypatch):
    finalize_case(staffed_window, 91)
    take_backup(staffed_window)
    home = staffed_window.home
    staffed_window.close()
    code, out = _run(capsys, monkeypatch, "db", "restore")
    assert code == 2 and "--user" in out
    code, out = _run(capsys, monkeypatch, "db", "restore", "--user", "clerk1", "--password-stdin",
                     password=STAFF["clerk1"][2])
    assert code == 2 and "无权" in out
    code, out = _run(capsys, monkeypatch, "db", "restore", "--user", "admin", "--password-stdin", password="wrong-one-2026")
    assert code == 2 and "密码错误" in out
    assert not list((home / "backups").glob("damaged-*"))  # nothing replaced by a refused restore
    assert _last(home, "login_failed").operator == "admin"  # counted and audited like any login
    code, out = _run(capsys, monkeypatch, "db", "restore", "--user", "admin", "--password-stdin", password=ADMIN_PW)
    assert code == 0, out
    assert _last(home, "restore").operator == "admin"


def test_restore_over_a_damaged_store_checks_the_backups_administrators(staffed_window, capsys, monkeypatch):
    finalize_case(staffed_window, 92)
    take_backup(staffed_window)
    # An administrator added after the backup exists only in the damaged store: not trusted.
    access.directory(staffed_window).add(access.directory(staffed_window).authenticate("admin", ADMIN_PW),
                                         "it2", "it_admin", "孙技术", "Later-admin-2026")
    home = staffed_window.home
    staffed_window.close()
    _damage(home / "counter.sqlite3")
    code, out = _run(capsys, monkeypatch, "db", "restore", "--user", "it2", "--password-stdin",
                     password="Later-admin-2026")
    assert code == 2 and "用户名或密码错误" in out
    assert not list((home / "backups").glob("damaged-*.sqlite3"))  # nothing moved
    code, out = _run(capsys, monkeypatch, "db", "restore", "--user", "admin", "--password-stdin", password=ADMIN_PW)
    assert code == 0, out
    assert _last(home, "restore").operator == "admin"
    assert list((home / "backups").glob("damaged-*.sqlite3"))


def test_upgrade_and_backup_need_an_it_administrator(staffed_window, capsys, monkeypatch, tmp_path):
    home = staffed_window.home
    staffed_window.close()
    monkeypatch.setenv("COUNTER_APP_HOME", str(home))
    code, out = _run(capsys, monkeypatch, "db", "upgrade")
    assert code == 2 and "--user" in out
    code, out = _run(capsys, monkeypatch, "db", "upgrade", "--user", "sup1", "--password-stdin",
                     password=STAFF["sup1"][2])
    assert code == 2
    code, out = _run(capsys, monkeypatch, "db", "upgrade", "--user", "admin", "--password-stdin", password=ADMIN_PW)
    assert code == 0 and "最新结构" in out
    target = tmp_path / "copy.sqlite3"
    code, out = _run(capsys, monkeypatch, "db", "backup", str(target))
    assert code == 2 and not target.exists()
    code, out = _run(capsys, monkeypatch, "db", "backup", str(target), "--user", "admin", "--password-stdin",
                     password=ADMIN_PW)
    assert code == 0 and target.exists()
    assert _last(home, "backup").operator == "admin"


def test_a_fresh_install_upgrades_as_the_installer(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_HOME", str(tmp_path / "fresh"))
    code, out = _run(capsys, monkeypatch, "db", "upgrade")
    assert code == 0, out
    code, out = _run(capsys, monkeypatch, "db", "upgrade")
    assert code == 0 and "最新结构" in out
