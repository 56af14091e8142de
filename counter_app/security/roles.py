"""Roles and what each may do (least privilege, 等保 2.0; PIPL minimum necessary).

=====================  =====  ==========  ========  =============================================
permission             clerk  supervisor  it_admin  note
=====================  =====  ==========  ========  =============================================
case.handle            yes    yes         no        create, edit, finalize, print at the window
correction.start       yes    yes         no        opens a new draft version
correction.approve     no     yes         no        never for a case the approver accepted or
                                                    for a correction the approver started
eligibility.override   no     yes         no        serve an applicant outside the 服务对象, with a
                                                    recorded reason (方案: "适时扩大"); audited
case.reveal            no     yes         no        full personal data of a finalized case; audited
case.export_full       no     yes         no        unmasked export; audited
report.view            yes    yes         no        masked lists and daily reports
operators.manage       no     no          yes       add, change role, unlock, deactivate
keys.manage            no     no          yes       rotate the master key
settings.change        no     no          yes
audit.verify           no     yes         yes       read-only integrity checks
retention.run          no     no          yes
=====================  =====  ==========  ========  =============================================

The IT administrator deliberately cannot see personal data (separation of system
administration from business data, 等保 2.0 "三权分立"); a supervisor cannot manage accounts
or keys. A clerk sees full values only while entering them in a draft at the window.
"""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    IT_ADMIN = "it_admin"

    @property
    def title(self) -> str:
        return ROLE_TITLES[self]


ROLE_TITLES = {Role.CLERK: "窗口工作人员", Role.SUPERVISOR: "审核负责人", Role.IT_ADMIN: "系统管理员"}


class Permission(str, enum.Enum):
    HANDLE_CASE = "case.handle"
    START_CORRECTION = "correction.start"
    APPROVE_CORRECTION = "correction.approve"
    OVERRIDE_ELIGIBILITY = "eligibility.override"
    REVEAL = "case.reveal"
    EXPORT_FULL = "case.export_full"
    VIEW_REPORTS = "report.view"
    MANAGE_OPERATORS = "operators.manage"
    MANAGE_KEYS = "keys.manage"
    CHANGE_SETTINGS = "settings.change"
    VERIFY_AUDIT = "audit.verify"
    RUN_RETENTION = "retention.run"


_P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset({_P.HANDLE_CASE, _P.START_CORRECTION, _P.VIEW_REPORTS}),
    Role.SUPERVISOR: frozenset({_P.HANDLE_CASE, _P.START_CORRECTION, _P.APPROVE_CORRECTION, _P.OVERRIDE_ELIGIBILITY,
                                _P.REVEAL,
                                _P.EXPORT_FULL, _P.VIEW_REPORTS, _P.VERIFY_AUDIT}),
    Role.IT_ADMIN: frozenset({_P.MANAGE_OPERATORS, _P.MANAGE_KEYS, _P.CHANGE_SETTINGS, _P.VERIFY_AUDIT,
                              _P.RUN_RETENTION}),
}

PERMISSION_TITLES = {
    _P.HANDLE_CASE: "受理办件", _P.START_CORRECTION: "发起更正", _P.APPROVE_CORRECTION: "审批更正",
    _P.OVERRIDE_ELIGIBILITY: "特批服务对象以外的申请",
    _P.REVEAL: "查看完整个人信息", _P.EXPORT_FULL: "导出未脱敏数据", _P.VIEW_REPORTS: "查看报表",
    _P.MANAGE_OPERATORS: "管理工作人员账户", _P.MANAGE_KEYS: "管理密钥", _P.CHANGE_SETTINGS: "修改系统设置",
    _P.VERIFY_AUDIT: "核验审计记录", _P.RUN_RETENTION: "执行到期清除",
}


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValueError(f"未知的角色：{value!r}（应为 clerk、supervisor 或 it_admin）。") from None


def allowed(role: str | Role, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False  # "system" and unknown roles hold no interactive permission


def denial_message(role: str | Role, permission: Permission) -> str:
    try:
        who = Role(role).title
    except ValueError:
        who = str(role)
    return f"当前账户（{who}）无权{PERMISSION_TITLES[permission]}。"
