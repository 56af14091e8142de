"""Shared pieces for the deployment tests: a window with real cases in it, and the bundle."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_packaging_module(name: str):
    """``packaging/<name>.py`` by path (the folder is deliberately no package: the name would shadow
    the ``packaging`` library pip and PyInstaller use)."""
    path = ROOT / "packaging" / f"{name}.py"
    if name == "build_deb":
        path = ROOT / "packaging" / "debian" / "build_deb.py"
    spec = importlib.util.spec_from_file_location(f"counter_app_packaging_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def snapshot(window) -> dict[str, dict]:
    """Every case's full export plus the bytes of every attachment it refers to (decrypted)."""
    from sqlalchemy import select

    from counter_app.store.models import CaseRow

    with window.sessions() as s:
        ids = [r for r in s.execute(select(CaseRow.id).order_by(CaseRow.case_no, CaseRow.version)).scalars()]
    out = {}
    for case_id in ids:
        export = window.cases.export(case_id)
        files = {a["sha256"]: window.files.get(a["sha256"]) for a in export["attachments"]}
        out[case_id] = {"export": export, "files": files}
    return out


@pytest.fixture(scope="session")
def populated_template(tmp_path_factory):
    """A data directory with three finalized cases (photo, signature, scans, form PDF) and two drafts,
    made once per session through the real CaseService (rendering the forms takes seconds)."""
    from app.demo.seed import seed
    from counter_app.services import open_window

    home = tmp_path_factory.mktemp("populated-template")
    window = open_window(home)  # the session-wide COUNTER_APP_KEYSTORE=file keeps keys in home/keys
    try:
        seed(window, 3, finalized=True, seed=11)
        seed(window, 2, finalized=False, seed=12)
    finally:
        window.close()
    return home


@pytest.fixture
def populated_window(populated_template, _fresh_home):
    """A copy of the populated template in this test's own data directory, opened."""
    import shutil

    from counter_app.services import open_window

    shutil.copytree(populated_template, _fresh_home, dirs_exist_ok=True)
    window = open_window(_fresh_home)
    yield window
    window.close()


@pytest.fixture(scope="session")
def bundle():
    """The PyInstaller bundle of the current sources (built once, cached by source digest)."""
    return load_packaging_module("bundle").ensure_bundle()
