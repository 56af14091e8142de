"""``counter-app configure --from site.toml``: one file per window, validated whole, secrets to the key store."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from app.cli import main
from counter_app.site_config import (
    PRINTER_DOC_TYPES, SiteConfigError, load_site_file, needs_first_run, parse_site, platform_credential,
)
from tests.deploy.conftest import ROOT

TOKEN = "wnd-410782-07-7Qm2xN9pLk4vR8sT"
SITE = f'''
[center]
code = "410782"
name = "长垣市退役军人服务中心"
[window]
number = 7
[platform]
url = "https://platform.example.gov.cn/counter-api"
credential_file = "window.token"
[reader]
port = "/dev/ttyUSB0"
[cameras]
photo = 1
document = 2
[printers]
form = "HP LaserJet M1136"
receipt = "GP-58 热敏"
[settings]
idle_lock_minutes = 10
'''


@pytest.fixture
def site_file(tmp_path):
    folder = tmp_path / "usb"
    folder.mkdir()
    (folder / "window.token").write_text(TOKEN + "\n", encoding="utf-8")
    path = folder / "site.toml"
    path.write_text(SITE, encoding="utf-8")
    return path


def open_home(home: Path):
    from counter_app.services import open_window

    return open_window(home)


def test_configure_writes_settings_keystore_and_printers(site_file, _fresh_home, capsys):
    assert needs_first_run(_fresh_home)
    assert main(["configure", "--from", str(site_file)]) == 0
    out = capsys.readouterr().out
    assert "平台凭据：已保存到系统密钥库" in out

    config = tomllib.loads((_fresh_home / "config.toml").read_text(encoding="utf-8"))
    assert (config["center_code"], config["window_no"], config["reader_port"]) == ("410782", "07", "/dev/ttyUSB0")
    assert (config["camera_index"], config["document_camera_index"], config["idle_lock_minutes"]) == (1, 2, 10)
    assert config["platform_url"] == "https://platform.example.gov.cn/counter-api"
    assert TOKEN not in (_fresh_home / "config.toml").read_text(encoding="utf-8")
    assert not needs_first_run(_fresh_home)

    window = open_home(_fresh_home)
    try:
        assert platform_credential(window.keystore) == TOKEN
        # The UI's settings page reads the same rows.
        from ui.printouts import printer_for

        assert printer_for(window, "form") == "HP LaserJet M1136"
        assert printer_for(window, "receipt") == "GP-58 热敏"
        assert printer_for(window, "daily_report") == ""
        from sqlalchemy import select

        from counter_app.store.models import AuditEntry

        with window.sessions() as s:
            entry = s.execute(select(AuditEntry).where(AuditEntry.action == "settings")).scalar_one()
        assert entry.subject == "site-config" and entry.detail["credential"] is True
        assert TOKEN not in str(entry.detail)
    finally:
        window.close()


def test_printer_document_types_are_the_ones_the_ui_prints():
    from ui.printouts import DOC_TYPES

    assert PRINTER_DOC_TYPES == DOC_TYPES


def test_every_problem_is_reported_at_once_and_nothing_is_written(tmp_path, _fresh_home, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[center]\ncode = "41078"\n[window]\nnumber = 100\n[platform]\nurl = "ftp://x"\n'
                   'credential = "a"\ncredential_env = "B"\n[printers]\nfax = "X"\n[cameras]\nphoto = "front"\n'
                   '[colour]\nx = 1\n', encoding="utf-8")
    assert main(["configure", "--from", str(bad)]) == 2
    err = capsys.readouterr().err
    for fragment in ("[center] code", "[window] number", "[platform] url", "只能填写其中一项", "[printers] fax",
                     "[cameras] photo", "未知的段 [colour]", "未做任何修改"):
        assert fragment in err, fragment
    assert "Traceback" not in err
    assert not (_fresh_home / "config.toml").exists()


def test_missing_required_fields_are_named(tmp_path):
    with pytest.raises(SiteConfigError) as exc:
        parse_site({"center": {"name": "某中心"}})
    text = "\n".join(exc.value.problems)
    assert "[center] code：必须填写" in text and "[window] number：必须填写" in text and "[platform] url：必须填写" in text


def test_check_only_reads_the_file(site_file, _fresh_home, capsys):
    assert main(["configure", "--from", str(site_file), "--check"]) == 0
    assert "检查通过" in capsys.readouterr().out
    assert not (_fresh_home / "config.toml").exists()


def test_credential_from_environment_and_inline_with_reminder(tmp_path, _fresh_home, monkeypatch, capsys):
    monkeypatch.setenv("SITE_TOKEN", "from-env-123")
    site = tmp_path / "a.toml"
    site.write_text('[center]\ncode = "410702"\n[window]\nnumber = "02"\n[platform]\nurl = "http://10.1.2.3:8800"\n'
                    'credential_env = "SITE_TOKEN"\n', encoding="utf-8")
    assert load_site_file(site).credential == "from-env-123"
    site.write_text(site.read_text().replace('credential_env = "SITE_TOKEN"', 'credential = "inline-456"'),
                    encoding="utf-8")
    assert main(["configure", "--from", str(site)]) == 0
    assert "请删除该文件或妥善保管" in capsys.readouterr().out


def test_reconfiguring_changes_only_what_the_file_says(site_file, tmp_path, _fresh_home):
    assert main(["configure", "--from", str(site_file)]) == 0
    second = tmp_path / "printer-only.toml"
    second.write_text('[center]\ncode = "410782"\n[window]\nnumber = "07"\n[platform]\n'
                      'url = "https://platform.example.gov.cn/counter-api"\n[printers]\nform = "Kyocera"\n',
                      encoding="utf-8")
    assert main(["configure", "--from", str(second)]) == 0
    config = tomllib.loads((_fresh_home / "config.toml").read_text(encoding="utf-8"))
    assert config["reader_port"] == "/dev/ttyUSB0" and config["idle_lock_minutes"] == 10
    window = open_home(_fresh_home)
    try:
        assert platform_credential(window.keystore) == TOKEN  # kept: the second file has none
        from ui.printouts import printer_for

        assert printer_for(window, "form") == "Kyocera" and printer_for(window, "receipt") == "GP-58 热敏"
    finally:
        window.close()


def test_ca_bundle_is_copied_into_the_data_directory(tmp_path, _fresh_home):
    (tmp_path / "zwww-ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    site = tmp_path / "ca.toml"
    site.write_text('[center]\ncode = "410702"\n[window]\nnumber = "01"\n[platform]\nurl = "https://p.example"\n'
                    'ca_bundle = "zwww-ca.pem"\n', encoding="utf-8")
    assert main(["configure", "--from", str(site)]) == 0
    config = tomllib.loads((_fresh_home / "config.toml").read_text(encoding="utf-8"))
    assert Path(config["ca_bundle"]) == _fresh_home / "certs" / "zwww-ca.pem"
    assert Path(config["ca_bundle"]).read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_a_file_saved_by_notepad_with_a_bom_is_read(tmp_path):
    site = tmp_path / "bom.toml"
    site.write_bytes("\ufeff[center]\ncode = \"410702\"\n[window]\nnumber = \"01\"\n[platform]\nurl = \"http://x.example\"\n"
                     .encode("utf-8"))
    assert load_site_file(site).settings["center_code"] == "410702"


def test_a_file_in_gbk_gets_a_clear_message(tmp_path):
    site = tmp_path / "gbk.toml"
    site.write_bytes('[center]\nname = "新乡市红旗区退役军人服务中心"\n'.encode("gbk"))
    with pytest.raises(SiteConfigError) as exc:
        load_site_file(site)
    assert "不是UTF-8编码" in exc.value.message


def test_the_shipped_example_is_valid(tmp_path):
    shutil.copy(ROOT / "packaging" / "site.example.toml", tmp_path / "site.toml")
    (tmp_path / "window-410702-03.token").write_text("example-token")
    site = load_site_file(tmp_path / "site.toml")
    assert site.settings["window_no"] == "03" and site.credential == "example-token"
    assert set(site.printers) == set(PRINTER_DOC_TYPES)


def test_without_a_usable_keyring_nothing_is_written(site_file, _fresh_home, monkeypatch, capsys):
    # keyring's "fail" backend is what a desktop-less PC has; never silently fall back to a file.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("COUNTER_APP_KEYSTORE", "keyring")
    assert main(["configure", "--from", str(site_file)]) == 2
    err = capsys.readouterr().err
    assert "系统密钥库" in err and "Traceback" not in err
    assert not (_fresh_home / "config.toml").exists()


def test_configured_credential_is_the_one_the_sync_client_sends(tmp_path, monkeypatch):
    """`configure --from` / the wizard and the sync client agree on where the credential lives."""
    monkeypatch.delenv("COUNTER_APP_PLATFORM_TOKEN", raising=False)
    from counter_app.services import open_window
    from counter_app.site_config import store_platform_credential
    from counter_app.sync.credentials import get_token

    w = open_window(tmp_path / "h")
    try:
        store_platform_credential(w.keystore, "window-410702-01-secret")
        assert get_token(w) == "window-410702-01-secret"
    finally:
        w.close()
