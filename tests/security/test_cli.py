"""``counter-app keys|audit|archive|operators|retention`` through the real command-line entry point."""
from __future__ import annotations

import io
import json
import sqlite3

import pytest

from app.cli import main


def run(capsys, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_bootstrap_then_admin_required(window, capsys, monkeypatch):
    window.close()
    code, out = run(capsys, "operators", "add", "admin", "--role", "it_admin", "--name", "王管理", "--password-stdin",
                    stdin="Keys-and-roots-2026!\n", monkeypatch=monkeypatch)
    assert code == 0 and "已添加账户 admin（系统管理员）" in out
    monkeypatch.setenv("COUNTER_APP_PASSWORD", "Window-one-1")
    code, out = run(capsys, "operators", "add", "clerk1", "--role", "clerk", "--name", "李晓燕")
    assert code == 2 and "--admin" in out
    monkeypatch.setenv("COUNTER_APP_ADMIN_PASSWORD", "wrong-pass-1")
    code, out = run(capsys, "operators", "add", "clerk1", "--role", "clerk", "--name", "李晓燕", "--admin", "admin")
    assert code == 2 and "用户名或密码错误" in out
    monkeypatch.setenv("COUNTER_APP_ADMIN_PASSWORD", "Keys-and-roots-2026!")
    code, out = run(capsys, "operators", "add", "clerk1", "--role", "clerk", "--name", "李晓燕", "--admin", "admin")
    assert code == 0
    code, out = run(capsys, "operators", "add", "clerk2", "--role", "clerk", "--name", "赵敏", "--admin", "admin",
                    "--password-stdin", stdin="short\n", monkeypatch=monkeypatch)
    assert code == 2 and "密码至少需要8位" in out
    code, out = run(capsys, "operators", "list", "--json")
    listed = json.loads(out)
    assert [(o["username"], o["role"], o["locked"]) for o in listed] == [("admin", "it_admin", False),
                                                                        ("clerk1", "clerk", False)]
    assert all("password" not in k for o in listed for k in o)


def test_unlock_through_the_cli(staffed_window, capsys, monkeypatch):
    from counter_app.security import access
    from counter_app.security.operators import AuthenticationError

    for _ in range(5):
        with pytest.raises(AuthenticationError):
            access.authenticate(staffed_window, "clerk2", "wrong-pass-1")
    code, out = run(capsys, "operators", "list")
    assert "clerk2\t赵敏\t窗口工作人员\t已锁定" in out
    monkeypatch.setenv("COUNTER_APP_ADMIN_PASSWORD", "Review-one-1")
    code, out = run(capsys, "operators", "unlock", "clerk2", "--admin", "sup1")
    assert code == 2 and "无权" in out  # a supervisor is not an IT administrator
    monkeypatch.setenv("COUNTER_APP_ADMIN_PASSWORD", "Keys-and-roots-2026!")
    code, out = run(capsys, "operators", "unlock", "clerk2", "--admin", "admin")
    assert code == 0
    assert access.authenticate(staffed_window, "clerk2", "Window-two-2").username == "clerk2"


def test_keys_rotate_keeps_everything_readable(staffed_window, capsys, monkeypatch):
    from counter_app.services import open_window
    from tests.security.casework import finalize_case

    rec, app, _ = finalize_case(staffed_window, 51)
    home = staffed_window.home
    before = staffed_window.vault.master_fingerprint()
    staffed_window.close()
    monkeypatch.setenv("COUNTER_APP_ADMIN_PASSWORD", "Keys-and-roots-2026!")
    code, out = run(capsys, "keys", "rotate", "--admin", "admin", "--data-key")
    assert code == 0 and "已启用新数据密钥（编号 2）" in out and "旧数据密钥 [1] 和旧主密钥已销毁" in out
    w = open_window(home)
    try:
        assert w.vault.master_fingerprint() != before and w.vault.key_ids == [2]
        assert w.cases.get(rec.id).application.applicant.id_number == app.applicant.id_number
        with w.sessions() as s:
            from counter_app import audit
            from counter_app.store.models import AuditEntry
            from sqlalchemy import select

            last = s.execute(select(AuditEntry).where(AuditEntry.action == "key_rotate")).scalar_one()
            assert last.operator == "admin" and last.detail["new_key_id"] == 2 and last.detail["retired"] == [1]
            assert audit.verify(s).ok
    finally:
        w.close()
    code, out = run(capsys, "keys", "status", "--json")
    assert json.loads(out)["data_key_ids"] == [2]


def test_audit_verify_reports_the_first_broken_link(staffed_window, capsys):
    from tests.security.casework import finalize_case

    finalize_case(staffed_window, 52)
    finalize_case(staffed_window, 53)
    code, out = run(capsys, "audit", "verify", "--json")
    good = json.loads(out)
    assert code == 0 and good["ok"] and good["first_broken_seq"] is None
    code, out = run(capsys, "audit", "head")
    seq, head = out.strip().split(":")
    assert int(seq) == good["head_seq"] and head == good["head"]
    staffed_window.engine.dispose()
    con = sqlite3.connect(staffed_window.db_path)
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("UPDATE audit_log SET subject = 'x' WHERE seq = 3")
    con.execute("DELETE FROM audit_log WHERE seq = 5")
    con.commit()
    con.close()
    code, out = run(capsys, "audit", "verify", "--json")
    bad = json.loads(out)
    assert code == 1 and bad["ok"] is False and bad["first_broken_seq"] == 3
    code, out = run(capsys, "audit", "verify")
    assert code == 1 and "第3条" in out
    code, out = run(capsys, "audit", "verify", "--anchor", "nonsense")
    assert code == 2


def test_retention_run_from_the_cli(staffed_window, capsys, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_ADMIN_PASSWORD", "Keys-and-roots-2026!")
    code, out = run(capsys, "retention", "run", "--admin", "admin", "--json")
    assert code == 0 and json.loads(out)["cases"] == []


def test_unknown_case_is_a_clear_error(window, capsys):
    code, out = run(capsys, "archive", "verify", "410702-01-20261130-0099-1")
    assert code == 2 and out.startswith("错误：")


def test_handover_through_the_cli(staffed_window, staff, capsys, monkeypatch, tmp_path):
    """出件 "通过邮寄或者申请人自取": an authenticated clerk records a pickup with the receiver's signature."""
    from counter_app.delivery import handovers
    from counter_app.lifecycle import ItemStatus
    from tests.security.casework import finalize_case, signature_png

    rec, _, _ = finalize_case(staffed_window, 81, actor=staff["clerk1"])
    staffed_window.cases.record_item_status(rec.id, 4, ItemStatus.COMPLETED)
    case_no = rec.case_no
    staffed_window.close()
    sig = tmp_path / "sig.png"
    sig.write_bytes(signature_png(3))
    monkeypatch.setenv("COUNTER_APP_OPERATOR_PASSWORD", "Window-one-1")
    args = ["case", "handover", case_no, "--item", "4", "--mode", "pickup", "--handed-by", "北站派出所 张警官",
            "--user", "clerk1"]
    code, out = run(capsys, *args)
    assert code != 0 and "领取人" in out                              # who received it is required
    code, out = run(capsys, *args, "--received-by", "刘涛", "--signature", str(sig))
    assert code == 0 and "已登记出件" in out and "申请人自取" in out
    from counter_app.services import open_window

    w = open_window(staffed_window.home)
    try:
        (h,) = handovers(w.cases, w.cases.get_by_number(case_no).id)
        assert (h.item, h.received_by, h.recorded_by) == (4, "刘涛", "clerk1")
    finally:
        w.close()


def test_the_stamped_letter_scanned_back_through_the_cli(staffed_window, staff, capsys, monkeypatch, tmp_path):
    """"开具《落户介绍信》，并及时扫描上传": the letter stamped after the case was submitted is queued for the platform."""
    from counter_app.sync.followups import letter_state
    from tests.security.casework import finalizable, form_pdf

    app = finalizable(staffed_window, 82)
    app.items = sorted(set(app.items) | {4})
    app.settlement_letter_scan = None
    draft = staffed_window.cases.create_draft(app, staff["clerk1"])
    rec = staffed_window.cases.finalize(draft.id, app, staff["clerk1"], form_pdf=form_pdf(app, draft.case_no))
    case_no = rec.case_no
    staffed_window.close()
    monkeypatch.setenv("COUNTER_APP_OPERATOR_PASSWORD", "Window-one-1")
    bad = tmp_path / "letter.gif"
    bad.write_bytes(b"GIF89a")
    code, out = run(capsys, "case", "letter", case_no, "--scan", str(bad), "--user", "clerk1")
    assert code != 0 and "PDF、JPEG或PNG" in out
    scan = tmp_path / "letter.pdf"
    scan.write_bytes(b"%PDF-1.7 stamped letter")
    code, out = run(capsys, "case", "letter", case_no, "--scan", str(scan), "--user", "clerk1")
    assert code == 0 and "已回传" in out
    code, out = run(capsys, "case", "letter", case_no, "--scan", str(scan), "--user", "clerk1")
    assert code != 0 and "已回传过" in out
    from counter_app.services import open_window

    w = open_window(staffed_window.home)
    try:
        state = letter_state(w, w.cases.get_by_number(case_no).id)
        assert w.files.get(state.sha256) == b"%PDF-1.7 stamped letter" and state.sent_at is None
    finally:
        w.close()


def test_case_show_reveal_needs_a_supervisor_and_is_audited(staffed_window, staff, capsys, monkeypatch):
    """`case show --reveal`: the full name only for a supervisor who logs in (the same login as every
    command that changes data: --user, the password from a prompt, standard input or the environment)."""
    from tests.security.casework import finalize_case

    rec, _, _ = finalize_case(staffed_window, 82, actor=staff["clerk1"])
    name, case_no = rec.application.applicant.name, rec.case_no
    staffed_window.close()
    code, out = run(capsys, "case", "show", case_no)
    assert code == 0 and name not in out                                   # masked without a login
    code, out = run(capsys, "case", "show", case_no, "--reveal")
    assert code == 2 and "--user" in out
    code, out = run(capsys, "case", "show", case_no, "--reveal", "--user", "clerk1", "--password-stdin",
                    stdin="Window-one-1\n", monkeypatch=monkeypatch)
    assert code == 2 and name not in out                                   # a clerk may not reveal
    code, out = run(capsys, "case", "show", case_no, "--reveal", "--json", "--user", "sup1", "--password-stdin",
                    stdin="Review-one-1\n", monkeypatch=monkeypatch)
    assert code == 0 and json.loads(out)["application"]["applicant"]["name"] == name
    from counter_app.services import open_window

    w = open_window(staffed_window.home)
    try:
        with w.sessions() as s:
            from sqlalchemy import select

            from counter_app.store.models import AuditEntry
            actions = [(e.action, e.operator) for e in s.execute(select(AuditEntry)).scalars()]
        assert ("reveal", "sup1") in actions
    finally:
        w.close()
