"""Which buttons and pages an operator's role gets: asked of the security package's matrix
(``counter_app.security.roles``). The core checks again at every action; this only decides what
the screens offer. Import-cheap: the main window asks it before any page module is loaded."""
from __future__ import annotations


def allowed(actor, permission_name: str) -> bool:
    """Whether the actor's role holds a permission (``counter_app.security.roles``)."""
    if actor is None:
        return False
    from counter_app.security.roles import Permission, allowed as role_allows

    return role_allows(actor.role, Permission[permission_name])


def role_title(role: str) -> str:
    """The role's name as the security package words it (窗口工作人员 / 审核负责人 / 系统管理员)."""
    from counter_app.security.roles import Role

    try:
        return Role(role).title
    except ValueError:
        return {"system": "系统"}.get(role, role)
