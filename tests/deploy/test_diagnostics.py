"""``selftest`` and ``diagnostics export``: what IT collects, and that no personal data is in it."""
from __future__ import annotations

import json
import logging
import zipfile

import pytest

from app.cli import main
from app.diagnostics import (
    CASCADES, FAIL, OK, clean_url, export_diagnostics, qt_probe, run_selftest,
)
from tests.deploy.conftest import snapshot

TOKEN = "diag-credential-5b1e9f"


def personal_strings(cases: dict) -> set[str]:
    """Names, ID numbers, phones and addresses of every applicant in the store."""
    out = set()
    for case in cases.values():
        app = case["export"]["application"]
        a = app["applicant"]
        out |= {a["name"], a["id_number"], a["phone"], a["current_address"], a["backup_contact"],
                app["hukou"]["head_id_number"], app["hukou"]["head_name"]}
        if app["veteran_affairs"].get("bank_account"):
            out.add(app["veteran_affairs"]["bank_account"])
    return {s for s in out if s and len(s) >= 2}


@pytest.fixture
def configured(populated_window, tmp_path):
    from counter_app.site_config import apply_site_config, parse_site

    site = parse_site({"center": {"code": "410702"}, "window": {"number": "05"},
                       "platform": {"url": "https://user:pw@platform.example/api?token=abc#frag",
                                    "credential": TOKEN},
                       "printers": {"form": "HP LaserJet"}})
    apply_site_config(populated_window.home, site, window=populated_window)
    return populated_window


def test_export_gathers_versions_devices_config_logs_and_audit_head(configured, tmp_path):
    from counter_app import audit
    from counter_app.logs import setup_logging

    window = configured
    cases = snapshot(window)
    secrets = personal_strings(cases)
    assert len(secrets) > 10
    # Something a careless module logged, and a crash report: both must reach IT scrubbed.
    a_case = next(iter(cases.values()))["export"]["application"]["applicant"]
    setup_logging(window.home)
    try:
        logging.getLogger("counter_app.test").warning("号码 %s 手机 %s", a_case["id_number"], a_case["phone"])
    finally:
        root = logging.getLogger()
        for h in [h for h in root.handlers if getattr(h, "_counter_app_log", None)]:
            h.close()
            root.removeHandler(h)
    (window.home / "crash").mkdir()
    (window.home / "crash" / "crash-20261130-101500-000001-42.txt").write_text("counter-app 错误报告\n异常类型：builtins.KeyError\n",
                                                                                encoding="utf-8")

    result = export_diagnostics(window.home, tmp_path / "diag.zip", operator="it01", device_timeout=15)

    assert result.path == tmp_path / "diag.zip" and result.problems == []
    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
        data = {n: zf.read(n) for n in names}
    assert {"README.txt", "versions.json", "devices.json", "config.json", "store.json", "selftest.json",
            "logs/counter-app.log", "crash/crash-20261130-101500-000001-42.txt"} <= names

    versions = json.loads(data["versions.json"])
    assert versions["schema_current"] == versions["schema_head"] and versions["version"]
    devices = json.loads(data["devices.json"])
    assert devices["available"] is True
    assert {d["kind"] for d in devices["devices"]} >= {"idcard", "camera"}
    config = json.loads(data["config.json"])
    assert config["values"]["window_no"] == "05"
    assert config["values"]["platform_url"] == "https://platform.example/api"
    assert config["keystore"] == {"kind": "file", "platform_credential_set": True}
    assert config["printers"]["form"] == "HP LaserJet"
    store = json.loads(data["store.json"])
    with window.sessions() as s:
        seq, digest = audit.head(s)
        last = audit.verify(s)
    assert store["audit"]["head_seq"] == seq and store["audit"]["head_hash"] == digest and last.ok
    assert store["quick_check"] == "ok"

    blob = b"\n".join(data.values()).decode("utf-8", errors="replace")
    assert TOKEN not in blob and "user:pw" not in blob and "token=abc" not in blob
    leaked = [s for s in secrets if s in blob]
    assert leaked == []


def test_the_export_is_recorded_in_the_audit_trail(configured, tmp_path, monkeypatch):
    from sqlalchemy import select

    from counter_app.security import access
    from counter_app.security.operators import INSTALLER
    from counter_app.store.models import AuditEntry

    access.directory(configured).add(INSTALLER, "it01", "it_admin", "王管理", "Diagnose-window-5")
    monkeypatch.setenv("COUNTER_APP_OPERATOR_PASSWORD", "Diagnose-window-5")
    assert main(["diagnostics", "export", str(tmp_path / "d.zip"), "--user", "it01",
                 "--device-timeout", "10", "--home", str(configured.home)]) == 0
    with configured.sessions() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.operator) == ("diagnostics", "it01")


def test_export_of_a_window_that_never_started(tmp_path, _fresh_home):
    result = export_diagnostics(_fresh_home, tmp_path / "empty")
    assert result.path.name == "empty.zip"
    with zipfile.ZipFile(result.path) as zf:
        assert json.loads(zf.read("store.json")) == {"exists": False}
        assert json.loads(zf.read("config.json"))["configured"] is False


def test_clean_url_drops_user_info_query_and_fragment():
    assert clean_url("https://u:p@host.example:8443/a/b?token=1#x") == "https://host.example:8443/a/b"
    assert clean_url("") == ""


def test_selftest_passes_on_a_complete_installation(_fresh_home):
    checks = run_selftest(_fresh_home)
    assert [c for c in checks if c.status == FAIL] == []
    by_name = {c.name: c for c in checks}
    assert by_name["图形界面（Qt，离屏）"].status == OK
    assert by_name["数据库结构升级脚本"].status == OK
    assert by_name["人脸神经网络模型"].status == OK


def test_selftest_fails_in_chinese_when_resources_are_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COUNTER_APP_RESOURCES", str(tmp_path / "empty-resources"))
    assert main(["selftest", "--no-qt"]) == 1
    out = capsys.readouterr().out
    assert "[失败] 资源文件（字体）" in out and "请重新安装本程序" in out and "自检未通过" in out
    assert "[失败] 人脸神经网络模型" in out and "人脸模型文件缺失" in out


def test_a_qt_platform_that_cannot_load_is_reported_not_crashed():
    ok, message = qt_probe("no-such-platform", timeout=60)
    assert ok is False
    assert "图形界面组件（no-such-platform）" in message and "重新安装" in message


def test_cascade_names_are_the_ones_the_photo_check_loads():
    from devices.photo.detect import EYE_CASCADE, FACE_CASCADE

    assert set(CASCADES) == {FACE_CASCADE, EYE_CASCADE}


def test_missing_xcb_libraries_are_explained():
    from app.diagnostics import explain_platform_failure

    qt_output = ('qt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin.\n'
                 'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was found.')
    assert "libxcb-cursor0" in explain_platform_failure("xcb", qt_output)


def test_db_backup_command(window, tmp_path, capsys):
    target = tmp_path / "copy.sqlite3"
    assert main(["db", "backup", str(target)]) == 0
    assert "已备份到" in capsys.readouterr().out
    import sqlite3

    conn = sqlite3.connect(target)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        conn.close()
    assert main(["db", "backup", str(target)]) == 2  # never overwrites
    assert "目标文件已存在" in capsys.readouterr().err
