"""Offline bundles (export at the window, import at the platform, same deduplication) and the CLI."""
from __future__ import annotations

import json
import zipfile

import pytest

from app.cli import main
from tests.sync.conftest import free_port
from tests.sync.helpers import TOKEN, make_cases, outbox_counts


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_import_is_deduplicated_with_the_network_path(sync_window, platform, capsys, tmp_path):
    w = sync_window
    recs = make_cases(w, 3, seed=51)
    code, out, _ = _run(capsys, "sync", "export", str(tmp_path / "usb"))
    assert code == 0 and "已导出3件" in out
    bundle = next((tmp_path / "usb").glob("*.cvbundle"))
    raw = bundle.read_bytes()
    for r in recs:  # personal data is not readable on the stick
        app = w.cases.get(r.id).application
        assert app.applicant.id_number.encode() not in raw
        assert app.applicant.name.encode("utf-8") not in raw
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert sorted(c["business_key"] for c in manifest["cases"]) == sorted(f"{r.case_no}/v1" for r in recs)
    assert outbox_counts(w) == {"waiting": 3}  # still waiting until the platform says so over the network

    code, out, _ = _run(capsys, "platform", "import", str(bundle), "--data", str(tmp_path / "platform"))
    assert code == 0 and "新接收3件" in out
    assert platform.store.list_cases()["total"] == 3
    code, out, _ = _run(capsys, "platform", "import", str(bundle), "--data", str(tmp_path / "platform"), "--json")
    summary = json.loads(out)
    assert (summary["new"], summary["replayed"], summary["refused"]) == (0, 3, [])

    code, out, _ = _run(capsys, "sync", "run", "--once", "--json")
    result = json.loads(out)
    assert code == 0 and result["round"]["replayed"] == 3 and result["round"]["sent"] == 0
    assert result["acked"] == 3 and result["waiting"] == 0
    listing = platform.store.list_cases()["items"]
    assert len(listing) == 3 and {c["received_count"] for c in listing} == {3}
    assert {c["source"] for c in listing} == {"bundle"}


def test_tampered_or_foreign_bundle_is_refused(sync_window, platform, capsys, tmp_path, monkeypatch):
    make_cases(sync_window, 1, seed=52)
    _run(capsys, "sync", "export", str(tmp_path / "a"))
    bundle = next((tmp_path / "a").glob("*.cvbundle"))
    forged = tmp_path / "forged.cvbundle"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                data = data.replace(b'"window_no": "01"', b'"window_no": "02"')
            dst.writestr(info, data)
    code, _, err = _run(capsys, "platform", "import", str(forged), "--data", str(tmp_path / "platform"))
    assert code == 2 and "签名验证失败" in err
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", "some-other-window-token")
    _run(capsys, "sync", "export", str(tmp_path / "b"))
    foreign = next((tmp_path / "b").glob("*.cvbundle"))
    code, _, err = _run(capsys, "platform", "import", str(foreign), "--data", str(tmp_path / "platform"))
    assert code == 2 and "凭据" in err
    code, _, err = _run(capsys, "platform", "import", str(tmp_path / "nope.cvbundle"), "--data", str(tmp_path / "platform"))
    assert code == 2 and "找不到离线包" in err
    assert platform.store.list_cases()["total"] == 0


def test_sync_status_and_run_once(sync_window, platform, capsys, monkeypatch):
    make_cases(sync_window, 2, seed=53)
    code, out, _ = _run(capsys, "sync", "status", "--json")
    st = json.loads(out)
    assert code == 0 and (st["waiting"], st["quarantined"], st["acked"]) == (2, 0, 0)
    code, out, _ = _run(capsys, "sync", "run", "--once")
    assert code == 0 and "新接收2件" in out
    code, out, _ = _run(capsys, "sync", "status")
    assert "待上报：0  隔离区：0  已确认：2" in out and "已连接省平台" in out
    # Offline: exit code 1 and the reason, nothing lost.
    make_cases(sync_window, 1, seed=54)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", f"http://127.0.0.1:{free_port()}")
    code, out, _ = _run(capsys, "sync", "run", "--once")
    assert code == 1 and "无法连接省平台" in out and "待上报：1" in out
    code, out, _ = _run(capsys, "sync", "quarantine")
    assert "隔离区为空" in out


def test_export_without_credential_or_cases(window, capsys, tmp_path, monkeypatch):
    code, _, err = _run(capsys, "sync", "export", str(tmp_path / "x"))
    assert code == 2 and "凭据" in err
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    code, out, _ = _run(capsys, "sync", "export", str(tmp_path / "x"))
    assert code == 0 and "没有待上报的办件" in out and not (tmp_path / "x").exists()


def test_serve_refuses_without_any_credential(tmp_path, capsys):
    code, _, err = _run(capsys, "platform", "serve", "--data", str(tmp_path / "p"), "--port", "0")
    assert code == 2 and "--token" in err


@pytest.mark.parametrize("argv", [["sync", "login", "--stdin"]])
def test_login_verifies_the_credential_before_saving(sync_window, platform, capsys, monkeypatch, argv):
    import io

    from counter_app.services import open_window
    from counter_app.sync.credentials import KEY_NAME

    monkeypatch.delenv("COUNTER_APP_PLATFORM_TOKEN")
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-token-xyz\n"))
    code, _, err = _run(capsys, *argv)
    assert code == 2 and "不认可" in err
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and "凭据有效" in out
    w = open_window(sync_window.home)
    try:
        assert w.keystore.get(KEY_NAME) == TOKEN.encode()
    finally:
        w.close()


def test_enrol_binds_a_credential_and_its_seal_key(sync_window, tmp_path, capsys):
    from refplatform.server import open_store

    key = sync_window.cases.sealer.public_key_b64
    code, out, _ = _run(capsys, "platform", "enrol", "--data", str(tmp_path / "p"), "--token",
                        "enrolled-token-0001@410702-03", "--seal-key", f"410702-03={key}")
    assert code == 0 and "410702-03" in out
    store = open_store(tmp_path / "p")
    try:
        who = store.authenticate("enrolled-token-0001")
        assert (who.center_code, who.window_no, who.role.value, who.seal_public_key) == ("410702", "03", "window", key)
    finally:
        store.close()
    code, _, err = _run(capsys, "platform", "enrol", "--data", str(tmp_path / "p"), "--token", "unbound-token-0001")
    assert code == 2 and "凭据须绑定服务中心与窗口" in err
    code, _, err = _run(capsys, "platform", "enrol", "--data", str(tmp_path / "p"), "--token",
                        "enrolled-token-0001@410702-04")
    assert code == 2 and "另一个服务中心或窗口" in err


def test_daily_report_for_the_whole_center(sync_window, platform, capsys, tmp_path, monkeypatch):
    from counter_app.sync.client import client_for
    from counter_app.sync.outbox import OutboxDrainer

    from counter_app.security import access
    from counter_app.security.operators import INSTALLER

    recs = make_cases(sync_window, 2, seed=71)
    OutboxDrainer(sync_window, client_for(sync_window)).drain()
    # Printing a report is done by an authenticated operator (the audit names who).
    access.directory(sync_window).add(INSTALLER, "sup01", "supervisor", "陈刚", "Review-center-7")
    monkeypatch.setenv("COUNTER_APP_OPERATOR_PASSWORD", "Review-center-7")
    day = recs[0].accepted_on.isoformat()
    out_pdf = tmp_path / "center.pdf"
    code, out, _ = _run(capsys, "report", "daily", "--date", day, "--center", "-o", str(out_pdf), "--user", "sup01")
    assert code == 0 and "截至" in out and "省平台全中心数据" in out
    import pdfplumber

    with pdfplumber.open(out_pdf) as doc:
        text = "".join(p.extract_text() or "" for p in doc.pages)
    assert all(r.case_no in text for r in recs)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", f"http://127.0.0.1:{free_port()}")  # offline now
    code, out, _ = _run(capsys, "report", "daily", "--date", day, "--center", "-o", str(out_pdf), "--user", "sup01")
    assert code == 0 and "无法连接" in out
