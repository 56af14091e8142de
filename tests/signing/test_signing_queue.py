"""Signing never blocks acceptance: documents queue at finalize and are signed when the key is there."""
from __future__ import annotations

from counter_app.signing_queue import SigningQueue
from printing import pdf_verify, pdfa
from tests.signing.casework import configure_pkcs12, configure_token, finalized_cases, service
from tests.signing.conftest import P12_PASSWORD, PIN, new_token


def _case_id(window, case_no):
    return next(c.id for c in window.cases.list_cases() if c.case_no == case_no)


def test_finalize_queues_the_documents_and_no_key_keeps_them_waiting(window):
    [case_no] = finalized_cases(window)
    svc = service(window)
    kinds = SigningQueue(window.sessions).jobs_of(_case_id(window, case_no))
    assert set(kinds) >= {"form", "receipt"} and set(kinds.values()) == {"waiting"}
    status = svc.drain_now()
    assert status.signed_now == 0 and status.waiting == len(kinds)
    assert "尚未配置签章密钥" in status.problem
    assert f"{len(kinds)}份待签" in svc.status_text()


def test_locked_key_waits_then_unlock_signs_every_queued_document(window, pki):
    [case_no] = finalized_cases(window)
    configure_pkcs12(window, pki)
    svc = service(window)
    assert "未解锁" in svc.drain_now().problem
    bad = svc.unlock("wrong")
    assert not bad.ok and "密码不正确" in bad.message
    assert svc.unlock(P12_PASSWORD).ok
    status = svc.drain_now()
    assert status.problem == "" and status.waiting == 0 and status.signed_now >= 2
    case_id = _case_id(window, case_no)
    signed = SigningQueue(window.sessions).signed_documents(case_id)
    roots = pdf_verify.load_certificates(pki.ca.root_pem)
    record = window.cases.get(case_id)
    sealed_form = next(a["sha256"] for a in record.attachments if a["role"] == "form_pdf")
    form = window.files.get(signed["form"])
    assert form.startswith(window.files.get(sealed_form))  # the sealed bytes, then the signature
    assert pdfa.pdfa_problems(form) == []
    assert b'"case_no"' in pdfa.embedded_attachment(form)
    for kind, digest in signed.items():
        data = window.files.get(digest)
        [check] = pdf_verify.check_with_pyhanko(data, roots)
        assert check.ok and check.covers_whole_file, (kind, check.message)
    # the seal over the case is untouched by the signatures added later
    from counter_app.security.archive import verify_case

    assert verify_case(window, case_no).ok


def test_bad_pin_and_missing_token_are_chinese_messages_and_the_token_returning_drains_the_queue(
        window, pki, softhsm):
    finalized_cases(window)
    label = "LATE-UKEY"
    configure_token(window, pki, "/usr/lib/softhsm/libsofthsm2.so", label)
    svc = service(window)
    missing = svc.unlock(PIN)
    assert not missing.ok and "未检测到UKey" in missing.message and "排队" in missing.message
    assert "未检测到UKey" in svc.drain_now().problem
    # the UKey is plugged in (created and enrolled now): the next round finds it and signs
    token = new_token(softhsm, pki.ca, label=label)
    bad = svc.unlock("000000")
    assert not bad.ok and "PIN码不正确" in bad.message
    assert svc.unlock(token.pin).ok
    status = svc.drain_now()
    assert status.problem == "" and status.waiting == 0


def test_expired_certificate_is_refused_with_a_chinese_message_and_jobs_stay(window, pki):
    finalized_cases(window)
    configure_pkcs12(window, pki, p12=pki.expired_p12_path)
    svc = service(window)
    outcome = svc.unlock(P12_PASSWORD)
    assert not outcome.ok and "已于2020年12月31日过期" in outcome.message
    assert svc.queue_summary().waiting >= 2


def test_the_pin_is_never_written_to_the_data_directory(window, pki, _fresh_home):
    finalized_cases(window)
    configure_pkcs12(window, pki)
    window.settings.save()
    svc = service(window)
    assert svc.unlock(P12_PASSWORD).ok
    svc.drain_now()
    for path in _fresh_home.rglob("*"):
        if path.is_file():
            assert P12_PASSWORD.encode() not in path.read_bytes(), path


def test_self_test_signs_and_verifies_with_both_validators(window, pki, tsa):
    configure_pkcs12(window, pki, tsa_url=tsa.url)
    svc = service(window)
    assert svc.unlock(P12_PASSWORD).ok
    outcome = svc.self_test()
    assert outcome.ok, outcome.details
    assert any("pdfsig" in line for line in outcome.details)
    assert any("时间戳" in line for line in outcome.details)


def test_retention_purges_the_signed_documents_with_the_case(window, pki):
    import datetime as _dt

    from counter_app.security.retention import run_retention
    from tests.security.test_retention import complete

    [case_no] = finalized_cases(window)
    configure_pkcs12(window, pki)
    svc = service(window)
    assert svc.unlock(P12_PASSWORD).ok
    svc.drain_now()
    case_id = _case_id(window, case_no)
    signed = SigningQueue(window.sessions).signed_documents(case_id)
    assert signed and all(window.files.exists(h) for h in signed.values())
    complete(window, window.cases.get(case_id))
    report = run_retention(window, now=_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=31))
    assert report.cases == [case_no]
    assert not any(window.files.exists(h) for h in signed.values())  # personal data in them too


def test_signing_commands_status_and_sign_with_the_pin_from_the_environment(window, pki, capsys, monkeypatch):
    import json

    from app.cli import main

    finalized_cases(window)
    configure_pkcs12(window, pki)
    window.settings.save()
    assert main(["signing", "status", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["configured"] and before["waiting"] >= 2
    monkeypatch.setenv("COUNTER_APP_SIGNING_PIN", "wrong")
    assert main(["signing", "sign"]) == 2
    assert "密码不正确" in capsys.readouterr().err
    monkeypatch.setenv("COUNTER_APP_SIGNING_PIN", P12_PASSWORD)
    assert main(["signing", "sign"]) == 0
    assert f"本次签章{before['waiting']}份，仍待签0份" in capsys.readouterr().out
    assert main(["signing", "selftest"]) == 0
    assert "自检通过" in capsys.readouterr().out


def test_one_document_that_cannot_be_made_does_not_stall_the_others(window, pki, monkeypatch):
    import app.signing.worker as worker

    [case_no] = finalized_cases(window)
    configure_pkcs12(window, pki)
    svc = service(window)
    assert svc.unlock(P12_PASSWORD).ok
    real = worker.unsigned_document

    def broken_receipt(window_, case_id, kind, case):
        if kind == "receipt":
            raise ValueError("a defect in the receipt")
        return real(window_, case_id, kind, case)

    monkeypatch.setattr(worker, "unsigned_document", broken_receipt)
    status = svc.drain_now()
    jobs = SigningQueue(window.sessions).jobs_of(_case_id(window, case_no))
    assert jobs["receipt"] == "waiting" and jobs["form"] == "signed" and status.signed_now >= 1
    assert "生成签章文件时出错（ValueError）" in svc.queue_summary().last_error
    monkeypatch.setattr(worker, "unsigned_document", real)
    assert svc.drain_now().waiting == 0  # fixed: the next round signs it
