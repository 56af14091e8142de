"""A window with staff accounts, built once (scrypt is deliberately slow) and copied per test."""
from __future__ import annotations

import shutil

import pytest

from counter_app.cases import Actor

STAFF = {  # user: (role, name, password)
    "admin": ("it_admin", "王管理", "Keys-and-roots-2026!"),
    "clerk1": ("clerk", "李晓燕", "Window-one-1"),
    "clerk2": ("clerk", "赵敏", "Window-two-2"),
    "sup1": ("supervisor", "陈刚", "Review-one-1"),
    "sup2": ("supervisor", "周平", "Review-two-2"),
}


@pytest.fixture(scope="session")
def staff_template(tmp_path_factory):
    from counter_app.security import access
    from counter_app.security.operators import INSTALLER
    from counter_app.services import open_window

    home = tmp_path_factory.mktemp("staffed") / "home"
    w = open_window(home)
    d = access.directory(w)
    admin = Actor("admin", "it_admin")
    for user, (role, name, pw) in STAFF.items():
        # The first account is created by the installer, the rest by that administrator.
        d.add(INSTALLER if user == "admin" else admin, user, role, name, pw)
    w.close()
    return home


@pytest.fixture
def staffed_window(_fresh_home, staff_template):
    from counter_app.services import open_window

    shutil.copytree(staff_template, _fresh_home, dirs_exist_ok=True)
    w = open_window(_fresh_home)
    yield w
    w.close()


@pytest.fixture
def staff(staffed_window):
    return {user: Actor(user, role) for user, (role, _, _) in STAFF.items()}
