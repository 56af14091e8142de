"""The layer rules of docs/architecture: the core runs with Qt, OpenCV and pyserial absent."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_core_imports_without_qt_opencv_or_pyserial():
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        BLOCKED = ("PySide6", "cv2", "serial")
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"blocked in the core: {name}")
        sys.meta_path.insert(0, Block())
        import counter_app
        names = [m.name for m in pkgutil.walk_packages(counter_app.__path__, "counter_app.")
                 if ".migrations" not in m.name and not m.name.endswith("__main__")]
        for name in names:
            importlib.import_module(name)
        print(len(names))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) > 20


def test_printing_never_imports_the_store():
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import printing
        for m in pkgutil.walk_packages(printing.__path__, "printing."):
            if not m.name.endswith(".cli"):
                importlib.import_module(m.name)
        bad = [n for n in sys.modules if n.startswith(("counter_app.store", "sqlalchemy", "PySide6"))]
        print(bad)
        sys.exit(1 if bad else 0)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_devices_never_import_qt_or_the_store():
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import devices
        for m in pkgutil.walk_packages(devices.__path__, "devices."):
            if not m.name.endswith("cli"):
                importlib.import_module(m.name)
        bad = [n for n in sys.modules if n.startswith(("PySide6", "counter_app.store", "sqlalchemy"))]
        print(bad)
        sys.exit(1 if bad else 0)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_linter_contracts_hold():
    """The layer rules of pyproject.toml, read by import-linter (it sees imports inside functions too)."""
    from pathlib import Path

    lint = Path(sys.executable).with_name("lint-imports")
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([str(lint), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout
