"""Operators, lockout, idle lock, the role matrix, correction approval and reveals — in the core, no GUI."""
from __future__ import annotations

import datetime as _dt

import pytest
from sqlalchemy import select

from counter_app import audit
from counter_app.cases import AccessDenied, Actor, CaseError
from counter_app.lifecycle import CaseState
from counter_app.masking import mask_case_json
from counter_app.security import access, passwords
from counter_app.security.operators import INSTALLER, AuthenticationError, OperatorError
from counter_app.security.roles import ROLE_PERMISSIONS, Permission, Role
from counter_app.store.models import AuditEntry, Operator
from tests.security.casework import finalize_case
from tests.security.conftest import STAFF

PW = {user: pw for user, (_, _, pw) in STAFF.items()}


class Clock:
    def __init__(self):
        self.now = _dt.datetime(2026, 11, 30, 1, 0, tzinfo=_dt.timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += _dt.timedelta(**kw)


@pytest.fixture
def window(staffed_window):
    """Every test here starts with the staff accounts of conftest.STAFF."""
    return staffed_window


def _actions(window, action=None):
    with window.sessions() as s:
        q = select(AuditEntry).order_by(AuditEntry.seq)
        if action:
            q = q.where(AuditEntry.action == action)
        return s.execute(q).scalars().all()


# ---- passwords ------------------------------------------------------------------------------

def test_passwords_are_scrypt_hashed_salted_and_verified():
    h1, h2 = passwords.hash_password("Correct-horse1"), passwords.hash_password("Correct-horse1")
    assert h1.startswith("scrypt$15$8$1$") and h1 != h2  # per-password salt
    assert passwords.verify_password("Correct-horse1", h1)
    assert not passwords.verify_password("Correct-horse2", h1)
    assert not passwords.verify_password("x", "not-a-hash")
    assert not passwords.needs_rehash(h1)
    assert passwords.needs_rehash("scrypt$14$8$1$AAAA$AAAA")


@pytest.mark.parametrize("pw, why", [("short1", "至少"), ("Password1", "太常见"), ("aaaaaaa1", "重复"),
                                     ("clerk9-abcdef", "用户名")])
def test_password_policy(window, staff, pw, why):
    with pytest.raises(OperatorError, match=why):
        access.directory(window).add(staff["admin"], "clerk9", "clerk", "某人", pw)


def test_stored_password_is_not_the_password(window, staff):
    with window.sessions() as s:
        stored = s.get(Operator, "clerk1").password_hash
    assert PW["clerk1"] not in stored and passwords.verify_password(PW["clerk1"], stored)


# ---- accounts -------------------------------------------------------------------------------

def test_only_an_it_admin_manages_accounts_once_one_exists(window, staff):
    d = access.directory(window)
    with pytest.raises(AccessDenied, match="已有系统管理员"):
        d.add(INSTALLER, "clerk3", "clerk", "某人", "Window-3-pass")
    for user in ("clerk1", "sup1"):
        with pytest.raises(AccessDenied):
            d.add(staff[user], "clerk3", "clerk", "某人", "Window-3-pass")
    # A forged Actor claiming it_admin does not pass: the role is read from the operators table.
    with pytest.raises(AccessDenied):
        d.add(Actor("clerk1", "it_admin"), "clerk3", "clerk", "某人", "Window-3-pass")
    d.add(staff["admin"], "clerk3", "clerk", "某人", "Window-3-pass")
    with pytest.raises(OperatorError, match="已存在"):
        d.add(staff["admin"], "clerk3", "clerk", "某人", "Window-3-pass")
    assert [a.subject for a in _actions(window, "operator_add")][-1] == "clerk3"


def test_the_last_it_admin_cannot_be_removed(window, staff):
    d = access.directory(window)
    with pytest.raises(OperatorError, match="唯一的系统管理员"):
        d.set_active(staff["admin"], "admin", False)
    with pytest.raises(OperatorError, match="唯一的系统管理员"):
        d.set_role(staff["admin"], "admin", "clerk")


def test_inactive_account_cannot_log_in(window, staff):
    d = access.directory(window)
    d.set_active(staff["admin"], "clerk2", False)
    with pytest.raises(AuthenticationError, match="停用"):
        d.authenticate("clerk2", PW["clerk2"])


# ---- login and lockout ------------------------------------------------------------------------

def test_login_returns_actor_with_role_and_is_audited(window, staff):
    actor = access.authenticate(window, "sup1", PW["sup1"])
    assert actor == Actor("sup1", "supervisor")
    last = _actions(window)[-1]
    assert (last.action, last.operator, last.detail) == ("login", "sup1", {"role": "supervisor"})


def test_unknown_user_and_wrong_password_give_the_same_message(window, staff):
    with pytest.raises(AuthenticationError) as unknown:
        access.authenticate(window, "nobody", "whatever1")
    with pytest.raises(AuthenticationError) as wrong:
        access.authenticate(window, "clerk1", "wrong-pass1")
    assert unknown.value.message.startswith("用户名或密码错误")
    assert wrong.value.message.startswith("用户名或密码错误")


def test_lockout_after_five_failures_for_fifteen_minutes(window, staff):
    clock = Clock()
    assert (window.settings.lockout_attempts, window.settings.lockout_minutes) == (5, 15)
    for i in range(4):
        with pytest.raises(AuthenticationError, match=f"再错{4 - i}次"):
            access.authenticate(window, "clerk1", "wrong-pass1", clock=clock)
    with pytest.raises(AuthenticationError, match="已锁定15分钟") as exc:
        access.authenticate(window, "clerk1", "wrong-pass1", clock=clock)
    assert exc.value.locked_until == clock.now + _dt.timedelta(minutes=15)
    # While locked the right password is refused too.
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(AuthenticationError, match="账户已锁定"):
        access.authenticate(window, "clerk1", PW["clerk1"], clock=clock)
    clock.advance(seconds=1)
    assert access.authenticate(window, "clerk1", PW["clerk1"], clock=clock).username == "clerk1"
    acts = [(e.action, (e.detail or {}).get("reason")) for e in _actions(window) if e.subject == "clerk1"]
    assert acts[-8:] == [("login_failed", "bad_password")] * 5 + [("lockout", None), ("login_failed", "locked"),
                                                                    ("login", None)]


def test_lockout_settings_are_configurable(window, staff):
    window.settings.set("lockout_attempts", 3)
    window.settings.set("lockout_minutes", 60)
    clock = Clock()
    with pytest.raises(AuthenticationError, match="再错2次"):
        access.authenticate(window, "clerk2", "wrong-pass1", clock=clock)
    with pytest.raises(AuthenticationError, match="再错1次"):
        access.authenticate(window, "clerk2", "wrong-pass1", clock=clock)
    with pytest.raises(AuthenticationError, match="已锁定60分钟"):
        access.authenticate(window, "clerk2", "wrong-pass1", clock=clock)
    clock.advance(minutes=59)
    with pytest.raises(AuthenticationError, match="账户已锁定"):
        access.authenticate(window, "clerk2", PW["clerk2"], clock=clock)


def test_success_resets_the_failure_count(window, staff):
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            access.authenticate(window, "clerk1", "wrong-pass1")
    access.authenticate(window, "clerk1", PW["clerk1"])
    with pytest.raises(AuthenticationError, match="再错4次"):
        access.authenticate(window, "clerk1", "wrong-pass1")


def test_admin_unlocks_a_locked_account(window, staff):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            access.authenticate(window, "sup2", "wrong-pass1")
    d = access.directory(window)
    with pytest.raises(AccessDenied):
        d.unlock(staff["sup1"], "sup2")
    d.unlock(staff["admin"], "sup2")
    assert access.authenticate(window, "sup2", PW["sup2"]).role == "supervisor"
    assert _actions(window, "unlock")[-1].subject == "sup2"


@pytest.mark.parametrize("typed", ["410702199001011234", "张建军", "13812345678"])
def test_typed_text_that_is_no_user_name_stays_out_of_the_audit(window, staff, typed):
    with pytest.raises(AuthenticationError):
        access.authenticate(window, typed, "x")
    last = _actions(window, "login_failed")[-1]
    assert last.subject == last.operator == "（无效用户名）" and last.detail == {"reason": "unknown_user"}


# ---- idle lock ------------------------------------------------------------------------------

def test_idle_lock_after_the_configured_minutes_and_unlock_by_the_same_operator(window, staff):
    clock = Clock()
    sess = access.OperatorSession.login(window, "clerk1", PW["clerk1"], clock=clock)
    assert window.settings.idle_lock_minutes == 5
    clock.advance(minutes=4)
    sess.touch()
    clock.advance(minutes=4, seconds=59)
    assert not sess.check_idle()
    assert sess.require(Permission.HANDLE_CASE) == Actor("clerk1", "clerk")
    clock.advance(minutes=5)
    assert sess.check_idle() and sess.check_idle()  # audited once
    with pytest.raises(AccessDenied, match="锁定"):
        sess.require(Permission.HANDLE_CASE)
    with pytest.raises(AuthenticationError):
        sess.unlock(PW["clerk2"])  # another operator's password does not open this session
    assert sess.locked
    sess.unlock(PW["clerk1"])
    assert not sess.locked and sess.require(Permission.HANDLE_CASE).username == "clerk1"
    sess.logout()
    assert sess.locked
    assert len(_actions(window, "idle_lock")) == 1
    assert _actions(window, "logout")[-1].operator == "clerk1"


def test_failed_unlocks_count_towards_the_lockout(window, staff):
    clock = Clock()
    sess = access.OperatorSession.login(window, "clerk2", PW["clerk2"], clock=clock)
    sess.lock()
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            sess.unlock("wrong-pass1")
    with pytest.raises(AuthenticationError, match="账户已锁定"):
        sess.unlock(PW["clerk2"])


# ---- role matrix ----------------------------------------------------------------------------

@pytest.mark.parametrize("role, permission", [(r, p) for r in Role for p in Permission])
def test_role_matrix(role, permission):
    expected = {
        Role.CLERK: {"case.handle", "correction.start", "report.view"},
        Role.SUPERVISOR: {"case.handle", "correction.start", "correction.approve", "eligibility.override",
                          "case.reveal", "case.export_full",
                          "report.view", "audit.verify"},
        Role.IT_ADMIN: {"operators.manage", "keys.manage", "settings.change", "audit.verify", "retention.run"},
    }
    actor = Actor("x", role.value)
    if permission.value in expected[role]:
        access.require(actor, permission)
    else:
        with pytest.raises(AccessDenied, match="无权"):
            access.require(actor, permission)
    assert (permission in ROLE_PERMISSIONS[role]) == (permission.value in expected[role])


def test_it_admin_cannot_handle_cases(window, staff):
    from tests.security.casework import finalizable

    with pytest.raises(AccessDenied):
        window.cases.create_draft(finalizable(window, 3), staff["admin"])


# ---- corrections ----------------------------------------------------------------------------

@pytest.fixture
def correction(window, staff):
    rec, app, _ = finalize_case(window, 21, actor=staff["clerk1"])
    draft = window.cases.start_correction(rec.id, staff["clerk1"], "联系电话录入错误")
    fixed = draft.application
    fixed.applicant.phone = "13912345678"
    window.cases.save_draft(draft.id, fixed, staff["clerk1"])
    return rec, draft, fixed


def _finalize(window, draft, app, actor):
    from tests.security.casework import form_pdf

    return window.cases.finalize(draft.id, app, actor, form_pdf=form_pdf(app, draft.case_no + " 更正"))


def test_correction_cannot_be_finalized_before_approval(window, staff, correction):
    _, draft, fixed = correction
    with pytest.raises(CaseError, match="须经审核负责人审批"):
        _finalize(window, draft, fixed, staff["clerk1"])


def test_clerk_cannot_approve_any_correction(window, staff, correction):
    _, draft, _ = correction
    for clerk in ("clerk1", "clerk2"):
        with pytest.raises(AccessDenied):
            window.cases.approve_correction(draft.id, staff[clerk])


def test_supervisor_cannot_approve_a_correction_of_their_own_case(window, staff):
    rec, _, _ = finalize_case(window, 22, actor=staff["sup1"])
    draft = window.cases.start_correction(rec.id, staff["clerk2"], "地址有误")
    with pytest.raises(AccessDenied, match="不能审批自己"):
        window.cases.approve_correction(draft.id, staff["sup1"])
    # Nor one they started themselves.
    rec2, _, _ = finalize_case(window, 23, actor=staff["clerk1"])
    draft2 = window.cases.start_correction(rec2.id, staff["sup2"], "地址有误")
    with pytest.raises(AccessDenied, match="不能审批自己"):
        window.cases.approve_correction(draft2.id, staff["sup2"])
    window.cases.approve_correction(draft2.id, staff["sup1"])


def test_approved_correction_finalizes_and_supersedes_the_original(window, staff, correction):
    rec, draft, fixed = correction
    approved = window.cases.approve_correction(draft.id, staff["sup1"])
    assert approved.transitions[-1]["reason"] == "更正已审批" and approved.transitions[-1]["operator"] == "sup1"
    assert window.cases.correction_approval(draft.id)["valid"] is True
    fixed.signature = window.cases.put_attachment(b"\x89PNG new signature on the corrected form", "image/png")
    done = _finalize(window, draft, fixed, staff["clerk1"])
    assert done.state == CaseState.QUEUED and done.version == 2
    assert window.cases.get(rec.id).state == CaseState.SUPERSEDED
    entry = _actions(window, "correction_approved")[-1]
    assert (entry.operator, entry.subject, entry.detail["case_id"]) == ("sup1", rec.case_no, draft.id)


def test_changes_after_approval_void_it(window, staff, correction):
    _, draft, fixed = correction
    window.cases.approve_correction(draft.id, staff["sup1"])
    fixed.applicant.current_address = fixed.applicant.current_address + "（补充）"
    window.cases.save_draft(draft.id, fixed, staff["clerk1"])
    assert window.cases.correction_approval(draft.id)["valid"] is False
    with pytest.raises(CaseError, match="审批后又被修改"):
        _finalize(window, draft, fixed, staff["clerk1"])


def test_deactivated_supervisor_cannot_approve(window, staff, correction):
    _, draft, _ = correction
    access.directory(window).set_active(staff["admin"], "sup1", False)
    with pytest.raises(AccessDenied, match="停用"):
        window.cases.approve_correction(draft.id, staff["sup1"])


# ---- reveal ---------------------------------------------------------------------------------

def test_reveal_only_for_a_supervisor_and_audited(window, staff):
    rec, app, _ = finalize_case(window, 31, actor=staff["clerk1"])
    for user in ("clerk1", "admin"):
        with pytest.raises(AccessDenied):
            access.reveal_case(window, staff[user], rec.case_no)
    with pytest.raises(AccessDenied):  # a role claimed by the caller is checked against the table
        access.reveal_case(window, Actor("clerk1", "supervisor"), rec.case_no)
    before = len(_actions(window, "reveal"))
    full = access.reveal_case(window, staff["sup1"], rec.case_no)
    assert full["application"]["applicant"]["id_number"] == app.applicant.id_number
    assert full["application"]["applicant"]["name"] == app.applicant.name
    reveals = _actions(window, "reveal")
    assert len(reveals) == before + 1
    assert (reveals[-1].operator, reveals[-1].subject) == ("sup1", rec.case_no)
    # The audit entry names the case, never the person.
    assert app.applicant.id_number not in str(reveals[-1].detail) + reveals[-1].subject


def test_masked_case_json_for_everyone_else(window, staff):
    rec, app, _ = finalize_case(window, 32, actor=staff["clerk1"])
    masked = mask_case_json(window.cases.export(rec.id))
    a = masked["application"]["applicant"]
    assert masked["masked"] is True
    assert a["id_number"] == app.applicant.id_number[:3] + "*" * 11 + app.applicant.id_number[-4:]
    assert a["name"][0] == app.applicant.name[0] and app.applicant.name not in str(masked)
    assert a["phone"] == app.applicant.phone[:3] + "****" + app.applicant.phone[-4:]
    assert app.veteran_affairs.bank_account not in str(masked)
    assert app.applicant.current_address not in str(masked)


def test_audit_chain_still_verifies_after_all_this(window, staff, correction):
    _, draft, _ = correction
    window.cases.approve_correction(draft.id, staff["sup2"])
    with window.sessions() as s:
        assert audit.verify(s).ok
