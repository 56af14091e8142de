"""The Python environment the Linux bundle is built in: the portable CPython (glibc 2.28, see
``portable_python.py``) with the project and PyInstaller installed under ``constraints.txt`` and
the PEP 600 override ``_manylinux.py`` (pip picks manylinux_2_28-or-older wheels only).

    .venv/bin/python packaging/linux/dist_env.py      # prints the environment's python

Rebuilt when the portable interpreter, the constraints, the override or pyproject.toml change.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV = ROOT / ".venv-dist"

sys.path.insert(0, str(HERE))
import portable_python  # noqa: E402


def environment_key(python: Path) -> str:
    h = hashlib.sha256(str(python).encode())
    for path in (HERE / "constraints.txt", HERE / "_manylinux.py", ROOT / "pyproject.toml"):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def ensure(venv: Path = VENV) -> Path:
    base = portable_python.build()
    key = environment_key(base)
    python = venv / "bin" / "python"
    stamp = venv / ".dist-env-key"
    if python.exists() and stamp.exists() and stamp.read_text() == key:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([str(base), "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    shutil.copy2(HERE / "_manylinux.py", site / "_manylinux.py")
    pip = [str(python), "-m", "pip", "install", "--quiet", "-c", str(HERE / "constraints.txt")]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dist]"], check=True)
    stamp.write_text(key)
    return python


if __name__ == "__main__":
    try:
        print(ensure())
    except (portable_python.BuildError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
