"""Roles on every path, not only in the GUI: each command-line command that changes data or
settings authenticates an operator with the role the matrix requires and the audit names who;
settings have bounds; the password policy is length + blocklist over NFKC-normalised text;
unknown user names lock out and a locked account costs the same work as a wrong password."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cli import main
from counter_app.config import ConfigError, load_settings
from counter_app.security import access, passwords
from counter_app.security.operators import AuthenticationError, OperatorError
from counter_app.store.models import AuditEntry, CaseRow
from tests.security.conftest import STAFF

ROOT_DATA = Path(__file__).resolve().parents[1] / "data" / "sample_case.json"


def run(capsys, monkeypatch, *argv, stdin: str | None = None):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin or ""))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def last_audit(window, action):
    with window.sessions() as s:
        return s.execute(select(AuditEntry).where(AuditEntry.action == action)
                         .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()


def case_count(window):
    with window.sessions() as s:
        return s.execute(select(func.count()).select_from(CaseRow)).scalar_one()


def test_case_create_needs_an_authenticated_clerk_and_the_audit_names_them(staffed_window, capsys, monkeypatch):
    code, out = run(capsys, monkeypatch, "case", "create", "--json", str(ROOT_DATA))
    assert code == 2 and "--user" in out and case_count(staffed_window) == 0
    with pytest.raises(SystemExit):  # the free-text operator is gone
        run(capsys, monkeypatch, "case", "create", "--json", str(ROOT_DATA), "--operator", "anyone")
    code, out = run(capsys, monkeypatch, "case", "create", "--json", str(ROOT_DATA), "--user", "clerk1",
                    "--password-stdin", stdin="not-the-password\n")
    assert code == 2 and "用户名或密码错误" in out and case_count(staffed_window) == 0
    code, out = run(capsys, monkeypatch, "case", "create", "--json", str(ROOT_DATA), "--user", "admin",
                    "--password-stdin", stdin=STAFF["admin"][2] + "\n")
    assert code == 2 and "无权受理办件" in out and case_count(staffed_window) == 0
    code, out = run(capsys, monkeypatch, "case", "create", "--json", str(ROOT_DATA), "--user", "clerk1",
                    "--password-stdin", stdin=STAFF["clerk1"][2] + "\n")
    assert code == 0, out
    with staffed_window.sessions() as s:
        assert s.execute(select(CaseRow.operator)).scalar_one() == "clerk1"


def test_report_daily_names_the_authenticated_operator(staffed_window, capsys, monkeypatch, tmp_path):
    out_pdf = tmp_path / "r.pdf"
    code, out = run(capsys, monkeypatch, "report", "daily", "--date", "2026-12-01", "-o", str(out_pdf))
    assert code == 2 and not out_pdf.exists()
    code, out = run(capsys, monkeypatch, "report", "daily", "--date", "2026-12-01", "-o", str(out_pdf),
                    "--user", "sup1", "--password-stdin", stdin=STAFF["sup1"][2] + "\n")
    assert code == 0, out
    assert last_audit(staffed_window, "print").operator == "sup1"


SITE = """
[center]
code = "410782"
name = "长垣市退役军人服务中心"
[window]
number = 7
[platform]
url = "https://platform.example.gov.cn/counter-api"
credential = "wnd-410782-07-7Qm2xN9pLk4vR8sT"
[settings]
lockout_attempts = {lockout}
idle_lock_minutes = {idle}
"""


@pytest.mark.parametrize("lockout, idle, accepted", [(5, 10, True), (1_000_000, 10, False), (5, 100_000, False),
                                                      (2, 10, False), (3, 60, True), (11, 1, False), (5, 0, False)])
def test_configure_needs_an_it_administrator_and_refuses_out_of_range_settings(
        staffed_window, capsys, monkeypatch, tmp_path, lockout, idle, accepted):
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(lockout=lockout, idle=idle), encoding="utf-8")
    home = str(staffed_window.home)
    config = staffed_window.home / "config.toml"
    before = config.read_bytes() if config.exists() else None
    code, out = run(capsys, monkeypatch, "configure", "--from", str(site), "--home", home)
    assert code == 2
    if accepted:
        code, out = run(capsys, monkeypatch, "configure", "--from", str(site), "--home", home, "--user", "sup1",
                        "--password-stdin", stdin=STAFF["sup1"][2] + "\n")
        assert code == 2 and "无权修改系统设置" in out
    code, out = run(capsys, monkeypatch, "configure", "--from", str(site), "--home", home, "--user", "admin",
                    "--password-stdin", stdin=STAFF["admin"][2] + "\n")
    if accepted:
        assert code == 0, out
        assert load_settings(config).lockout_attempts == lockout
        assert "恢复密钥（只显示这一次" in out  # the first set-up hands IT the recovery key
        assert last_audit(staffed_window, "settings").operator == "admin"
    else:
        assert code == 2 and "超出范围" in out
        assert (config.read_bytes() if config.exists() else None) == before


def test_sync_login_needs_an_it_administrator_and_is_audited(staffed_window, capsys, monkeypatch):
    from counter_app.site_config import platform_credential

    code, out = run(capsys, monkeypatch, "sync", "login", "--stdin", "--no-verify", stdin="wnd-attacker-token\n")
    assert code == 2 and platform_credential(staffed_window.keystore) is None
    monkeypatch.setenv("COUNTER_APP_OPERATOR_PASSWORD", STAFF["admin"][2])
    code, out = run(capsys, monkeypatch, "sync", "login", "--stdin", "--no-verify", "--user", "admin",
                    stdin="wnd-410702-01-abcdefABCDEF1234\n")
    assert code == 0, out
    assert platform_credential(staffed_window.keystore) == "wnd-410702-01-abcdefABCDEF1234"
    entry = last_audit(staffed_window, "settings")
    assert entry.operator == "admin" and entry.subject == "platform-credential"


def test_quarantine_requeue_needs_an_operator(staffed_window, capsys, monkeypatch):
    code, out = run(capsys, monkeypatch, "sync", "quarantine", "--requeue", "X-1")
    assert code == 2 and "--user" in out
    with pytest.raises(SystemExit):
        run(capsys, monkeypatch, "sync", "quarantine", "--requeue", "X-1", "--operator", "it_admin")


def test_diagnostics_export_names_the_authenticated_operator(staffed_window, capsys, monkeypatch, tmp_path):
    home = str(staffed_window.home)
    code, out = run(capsys, monkeypatch, "diagnostics", "export", str(tmp_path / "d.zip"), "--home", home,
                    "--device-timeout", "5")
    assert code == 2 and not (tmp_path / "d.zip").exists()
    code, out = run(capsys, monkeypatch, "diagnostics", "export", str(tmp_path / "d.zip"), "--home", home,
                    "--device-timeout", "5", "--user", "admin", "--password-stdin", stdin=STAFF["admin"][2] + "\n")
    assert code == 0, out
    assert last_audit(staffed_window, "diagnostics").operator == "admin"


def test_demo_seed_refuses_a_store_that_is_not_a_demo_store(staffed_window, capsys, monkeypatch):
    code, out = run(capsys, monkeypatch, "demo", "seed", "--count", "2", "--finalized")
    assert code == 2 and "不是演示环境" in out
    assert case_count(staffed_window) == 0


def test_out_of_range_values_in_the_configuration_file_are_refused(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("lockout_attempts = 1000000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="超出范围"):
        load_settings(path)
    path.write_text("retention_days = 400\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="超出范围"):
        load_settings(path)


# ---- password policy (NIST SP 800-63B) ---------------------------------------------------------

@pytest.mark.parametrize("pw", ["        1", "11111111!", "aaaaaaa1", "Password1", "demo1234",
                                "\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a01", "\u00a0Password1\u00a0",
                                "１２３４５６７８", "qwertyuiop", "Admin@2026", "short1"])
def test_weak_passwords_are_refused(window, staff, pw):
    with pytest.raises(OperatorError):
        access.directory(window).add(staff["admin"], "clerk9", "clerk", "某人", pw)


@pytest.mark.parametrize("pw", ["horse battery staple", "Window-one-1", "红旗区窗口二号台"])
def test_long_or_uncommon_passwords_are_accepted_without_composition_rules(window, staff, pw):
    access.directory(window).add(staff["admin"], "clerk9", "clerk", "某人", pw)
    assert access.authenticate(window, "clerk9", pw).username == "clerk9"


def test_passwords_are_compared_after_unicode_normalisation(window, staff):
    access.directory(window).add(staff["admin"], "clerk9", "clerk", "某人", "Ｗｉｎｄｏｗ－ｎｉｎｅ－９")
    assert access.authenticate(window, "clerk9", "Window-nine-9").username == "clerk9"


def test_unknown_user_names_lock_out_like_accounts(window, staff):
    d = access.directory(window)
    messages = []
    for _ in range(window.settings.lockout_attempts):
        with pytest.raises(AuthenticationError) as exc:
            d.authenticate("ghost", "Whatever-pass-1")
        messages.append(exc.value.message)
    assert "再错4次" in messages[0] and "已锁定" in messages[-1]
    with pytest.raises(AuthenticationError, match="账户已锁定"):
        d.authenticate("ghost", "Whatever-pass-1")
    assert last_audit(window, "lockout").subject == "ghost"
    with window.sessions() as s:  # the typed name is not stored in the clear
        from counter_app.store.models import Setting

        keys = [k for k in s.execute(select(Setting.key)).scalars() if k.startswith("login-failures:")]
    assert keys and all("ghost" not in k for k in keys)


def test_a_locked_account_costs_the_same_work_as_a_wrong_password(window, staff, monkeypatch):
    calls = []
    real = passwords._scrypt
    monkeypatch.setattr(passwords, "_scrypt", lambda *a: calls.append(1) or real(*a))
    d = access.directory(window)
    for _ in range(window.settings.lockout_attempts):
        with pytest.raises(AuthenticationError):
            d.authenticate("clerk1", "wrong-pass-1")
    calls.clear()
    with pytest.raises(AuthenticationError, match="账户已锁定"):
        d.authenticate("clerk1", STAFF["clerk1"][2])
    locked = len(calls)
    calls.clear()
    with pytest.raises(AuthenticationError):
        d.authenticate("clerk2", "wrong-pass-1")
    assert locked == len(calls) == 1
