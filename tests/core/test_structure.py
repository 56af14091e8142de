"""The house rules of the tree (README "Layers"): our own modules are imported, never guarded;
no product file grows past ~600 lines; the core's own tests pass with Qt, OpenCV and pyserial
made unimportable."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWN = ("counter_app", "app", "ui", "devices", "printing", "refplatform", "resources", "tools")
MAX_LINES = 600


def _product_files() -> list[Path]:
    files = []
    for package in OWN:
        files += [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    return files


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)


def _own_imports(body: list[ast.stmt]) -> list[str]:
    found = []
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append("." + (node.module or ""))  # relative: our own by definition
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and getattr(node.func, "attr", getattr(node.func, "id", ""))
              in ("import_module", "__import__", "find_spec", "files")):
            found.append(node.args[0].value)
    return [n for n in found if n.startswith(".") or n.split(".")[0] in OWN]


def guarded_own_imports(source: str) -> list[str]:
    """``except ImportError`` (or ModuleNotFoundError) around an import of this repository's modules."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            bad += _own_imports(node.body)
    return bad


def test_the_check_sees_a_guarded_own_import_and_lets_a_platform_module_be():
    guarded = "try:\n    from printing import spool\nexcept ImportError:\n    spool = None\n"
    by_name = "try:\n    m = importlib.import_module('ui.crash')\nexcept (ImportError, AttributeError):\n    m = None\n"
    platform = "try:\n    import termios\nexcept ImportError:\n    termios = None\n"
    assert guarded_own_imports(guarded) == ["printing"]
    assert guarded_own_imports(by_name) == ["ui.crash"]
    assert guarded_own_imports(platform) == []


def test_no_except_import_error_around_our_own_modules():
    bad = {str(p.relative_to(ROOT)): names for p in _product_files()
           if (names := guarded_own_imports(p.read_text(encoding="utf-8")))}
    assert bad == {}


def test_no_product_file_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _product_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, "split these by domain"


CORE_TESTS = ["tests/core/test_store.py", "tests/core/test_rules.py", "tests/core/test_lifecycle.py",
              "tests/core/test_identity.py", "tests/core/test_statuses.py", "tests/core/test_case_json.py",
              "tests/core/test_after_acceptance.py"]


def test_core_tests_pass_with_qt_opencv_and_pyserial_unimportable():
    runner = textwrap.dedent("""
        import sys
        BLOCKED = ("PySide6", "cv2", "serial")
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"blocked for the core's tests: {name}")
        sys.meta_path.insert(0, Block())
        import pytest
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:pytest-qt", *sys.argv[1:]])
        leaked = [n for n in sys.modules if n.split(".")[0] in BLOCKED]
        print("LEAKED", leaked)
        sys.exit(code or (3 if leaked else 0))
    """)
    r = subprocess.run([sys.executable, "-c", runner, *CORE_TESTS], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout and "LEAKED []" in r.stdout
