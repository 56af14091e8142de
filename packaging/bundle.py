"""Build the PyInstaller bundle once per source state; reuse it until something it contains changes.

Used by ``tests/deploy`` (the bundled executable is run headless in ``make test``) and by
``bench/bench_deploy.py``. ``make dist`` does not use the cache: a release is always built fresh.

The cache lives under the system temp dir, one folder per *digest* of everything that goes into
the bundle: the spec, ``pyproject.toml``, every file of our packages and resources, and the exact
set of installed distributions (name + version) and the Python version. Change any of it and the
next test session builds again (about a minute on a 2-core machine).

Concurrent test sessions (several people on one machine) take an exclusive file lock per digest, so
one builds and the others wait and then reuse it. A build goes to a temporary folder and is renamed
into place only when PyInstaller succeeded: a half-built bundle is never reused.

Run as a script to print the bundle folder (building it if needed)::

    .venv/bin/python packaging/bundle.py
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "counter-app"
SOURCES = ("build.spec", "pyproject.toml", "packaging/pyi_rth_counter_app.py", "packaging/linux",
           "counter_app", "devices", "printing", "ui", "resources")
CACHE_KEEP = 2
CACHE_IN_USE_SECONDS = 3 * 3600  # a build used this recently may belong to a test session still running


@dataclass(frozen=True)
class Bundle:
    folder: Path          # dist/counter-app
    build_seconds: float  # how long PyInstaller took when this bundle was built
    cached: bool          # True when an earlier session's build was reused

    @property
    def executable(self) -> Path:
        if sys.platform == "win32":
            return self.folder / f"{NAME}-cli.exe"
        return self.folder / NAME

    @property
    def gui_executable(self) -> Path:
        return self.folder / (f"{NAME}.exe" if sys.platform == "win32" else NAME)


def _installed_distributions() -> list[str]:
    from importlib.metadata import distributions

    return sorted({f"{d.metadata['Name']}=={d.version}" for d in distributions() if d.metadata["Name"]})


def bundle_python(root: Path = ROOT) -> str:
    """The interpreter that builds the bundle. On Linux the portable CPython's environment
    (``packaging/linux/dist_env.py``: glibc 2.28, manylinux_2_28 wheels under
    ``packaging/linux/constraints.txt``), built on first use; elsewhere this interpreter."""
    if not sys.platform.startswith("linux"):
        return sys.executable
    import importlib.util

    spec = importlib.util.spec_from_file_location("counter_app_dist_env", root / "packaging" / "linux" / "dist_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.ensure())


def source_digest(root: Path = ROOT, python: str = sys.executable) -> str:
    h = hashlib.sha256()
    h.update(sys.version.encode())
    for dist in _installed_distributions():
        h.update(dist.encode() + b"\n")
    h.update(python.encode())
    stamp = Path(python).parent.parent / ".dist-env-key"  # the build environment's own key
    if stamp.exists():
        h.update(stamp.read_bytes())
    for rel in SOURCES:
        base = root / rel
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
                continue
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def cache_root() -> Path:
    return Path(os.environ.get("COUNTER_APP_BUNDLE_CACHE") or Path(tempfile.gettempdir()) / "counter-app-bundle-cache")


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def build(dist_dir: Path, work_dir: Path, *, root: Path = ROOT, python: str = sys.executable,
          log_file: Path | None = None) -> float:
    """Run PyInstaller on build.spec into ``dist_dir``; returns the seconds it took."""
    cmd = [python, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist_dir), "--workpath", str(work_dir), str(root / "build.spec")]
    started = time.perf_counter()
    out = open(log_file, "wb") if log_file else subprocess.DEVNULL
    try:
        proc = subprocess.run(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log_file:
            out.close()
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace")[-4000:] if log_file else ""
        raise RuntimeError(f"PyInstaller failed (exit {proc.returncode}):\n{tail}")
    return time.perf_counter() - started


def ensure_bundle(root: Path = ROOT) -> Bundle:
    """The bundle for the current sources, built now if no earlier build matches."""
    python = bundle_python(root)
    digest = source_digest(root, python)[:20]
    base = cache_root()
    entry = base / digest
    with _exclusive(base / f"{digest}.lock"):
        meta = entry / "build.json"
        if meta.is_file() and (entry / "dist" / NAME).is_dir():
            os.utime(entry)  # in use: _prune of another session leaves it alone
            return Bundle(entry / "dist" / NAME, json.loads(meta.read_text())["build_seconds"], True)
        staging = Path(tempfile.mkdtemp(prefix=f"{digest}-", dir=base))
        try:
            seconds = build(staging / "dist", staging / "work", root=root, python=python,
                            log_file=staging / "pyinstaller.log")
            shutil.rmtree(staging / "work", ignore_errors=True)
            (staging / "build.json").write_text(json.dumps({"build_seconds": round(seconds, 1),
                                                            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}))
            shutil.rmtree(entry, ignore_errors=True)
            os.replace(staging, entry)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    _prune(base, keep=entry)
    return Bundle(entry / "dist" / NAME, seconds, False)


def _prune(base: Path, keep: Path) -> None:
    """Keep the newest CACHE_KEEP builds (a bundle is ~400 MB); never the one just returned, nor one
    another session on this machine built or used in the last CACHE_IN_USE_SECONDS."""
    entries = sorted((p for p in base.iterdir() if p.is_dir() and (p / "build.json").exists() and p != keep),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    recent = time.time() - CACHE_IN_USE_SECONDS
    for old in entries[CACHE_KEEP - 1:]:
        if old.stat().st_mtime > recent:
            continue
        lock = base / f"{old.name}.lock"
        shutil.rmtree(old, ignore_errors=True)
        lock.unlink(missing_ok=True)


if __name__ == "__main__":
    b = ensure_bundle()
    print(f"{b.folder}\t(build {b.build_seconds:.0f}s{', cached' if b.cached else ''})")
