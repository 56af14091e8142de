"""The archival package: exported once, re-verified offline anywhere, and any changed byte is traced to its file."""
from __future__ import annotations

import json
import shutil

import pytest

from app.archive_check import PROPERTIES, verify_package
from app.archive_package import PackageError, export_case
from app.cli import main
from printing import pdf_verify
from tests.signing.casework import configure_pkcs12, finalized_cases, service
from tests.signing.conftest import P12_PASSWORD


@pytest.fixture
def package(window, pki, tmp_path):
    [case_no] = finalized_cases(window)
    configure_pkcs12(window, pki)
    svc = service(window)
    assert svc.unlock(P12_PASSWORD).ok
    svc.drain_now()
    export_case(window, svc.keys, case_no, tmp_path / "pkg")
    return case_no, tmp_path / "pkg"


def test_package_copied_to_a_fresh_directory_passes_all_four_properties(package, pki, tmp_path):
    case_no, pkg = package
    copy = tmp_path / "elsewhere" / "pkg"
    shutil.copytree(pkg, copy)
    report = verify_package(copy, pdf_verify.load_certificates(pki.ca.root_pem))
    assert report.ok, [c for c in report.checks if not c.ok]
    assert report.case_no == case_no
    assert all(report.prop_ok(p) for p in PROPERTIES)
    subjects = {c.subject for c in report.checks}
    assert {"documents/form.pdf", "documents/receipt.pdf", "case.json", "manifest.p7s"} <= subjects
    # both validators had their say on each signed document
    form_checks = [c.message for c in report.checks if c.subject == "documents/form.pdf"]
    assert any("pyHanko" in m for m in form_checks) and any("pdfsig" in m for m in form_checks)
    assert oct(pkg.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in pkg.rglob("*") if p.is_file())


def test_one_changed_byte_in_any_file_fails_and_names_that_file(package, pki, tmp_path):
    _, pkg = package
    roots = pdf_verify.load_certificates(pki.ca.root_pem)
    files = sorted(p.relative_to(pkg).as_posix() for p in pkg.rglob("*") if p.is_file())
    assert len(files) >= 8
    for rel in files:
        copy = tmp_path / ("t-" + rel.replace("/", "_"))
        shutil.copytree(pkg, copy)
        target = copy / rel
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        report = verify_package(copy, roots, use_pdfsig=rel.startswith("documents/"))
        assert not report.ok, rel
        assert rel in report.failed_files, (rel, report.failed_files)


def test_a_package_under_another_trust_root_is_not_authentic(package):
    from app.pki import LocalCA

    _, pkg = package
    report = verify_package(pkg, pdf_verify.load_certificates(LocalCA.create().root_pem), use_pdfsig=False)
    assert report.prop_ok("完整性") and not report.prop_ok("真实性")


def test_export_refuses_while_documents_wait_for_their_signature(window, pki, tmp_path):
    [case_no] = finalized_cases(window)
    configure_pkcs12(window, pki)
    svc = service(window)
    assert svc.unlock(P12_PASSWORD).ok
    with pytest.raises(PackageError, match="尚未完成电子签章"):
        export_case(window, svc.keys, case_no, tmp_path / "pkg")


def test_command_line_export_then_verify_directory(window, pki, tmp_path, monkeypatch, capsys):
    [case_no] = finalized_cases(window)
    configure_pkcs12(window, pki)
    window.settings.save()
    monkeypatch.setenv("COUNTER_APP_SIGNING_PIN", P12_PASSWORD)
    out = tmp_path / "pkg"
    assert main(["archive", "export", case_no, "-o", str(out)]) == 0
    assert "已导出" in capsys.readouterr().out
    assert main(["archive", "verify", str(out), "--trust-root", str(pki.root_pem_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["properties"] == {p: True for p in PROPERTIES}
    (out / "case.json").write_text("{}", encoding="utf-8")
    assert main(["archive", "verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "case.json" in text.splitlines()[-1] and "完整性：不通过" in text


def test_archive_verify_case_reports_the_four_properties_and_the_signed_documents(window, pki, capsys):
    [case_no] = finalized_cases(window)
    configure_pkcs12(window, pki)
    window.settings.save()
    assert main(["archive", "verify", case_no, "--json"]) == 0  # waiting documents are said, not failed
    waiting = json.loads(capsys.readouterr().out)
    pending = [c for c in waiting["checks"] if c["name"].startswith("signed:")]
    assert pending and all(c["ok"] is None and "尚未完成" in c["message"] for c in pending)
    svc = service(window)
    assert svc.unlock(P12_PASSWORD).ok
    svc.drain_now()
    assert main(["archive", "verify", case_no]) == 0
    text = capsys.readouterr().out
    for prop in PROPERTIES:
        assert f"{prop}：通过" in text
    assert "受理回执：签名有效" in text and "本机以密文保存" in text
    # a damaged signed receipt in the store is found and named
    from counter_app.signing_queue import SigningQueue

    case_id = next(c.id for c in window.cases.list_cases() if c.case_no == case_no)
    path = window.files.path_for(SigningQueue(window.sessions).signed_documents(case_id)["receipt"])
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 1
    path.write_bytes(bytes(blob))
    assert main(["archive", "verify", case_no, "--json"]) == 1
    failed = [c["name"] for c in json.loads(capsys.readouterr().out)["checks"] if c["ok"] is False]
    assert failed == ["signed:receipt"]
