"""The PyInstaller bundle, built from build.spec, run headless as IT would run it after installing.

The bundle is built once per source state (``packaging/bundle.py`` caches it under the system temp
dir keyed by a digest of the sources and the installed packages); the first run in a fresh clone
builds it (about 1–3 minutes on the 2-core CI machine), later sessions reuse it.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from counter_app.store.db import head_revision
from counter_app.version import app_version

pytestmark = pytest.mark.timeout(1800)  # the first session builds the bundle


def run(bundle, home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COUNTER_APP_", "QT_"))}
    env.update(COUNTER_APP_HOME=str(home), COUNTER_APP_KEYSTORE="file", QT_QPA_PLATFORM="offscreen")
    return subprocess.run([str(bundle.executable), *args], capture_output=True, text=True, encoding="utf-8",
                          errors="replace", timeout=timeout, env=env, cwd=home.parent)


def test_bundled_executable_names_its_version_revision_and_schema(bundle, tmp_path):
    proc = run(bundle, tmp_path / "home", "--version")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"counter-app {app_version()}"
    # The revision was embedded at build time (the bundle carries no .git to ask).
    assert re.search(r"构建版本号（git）：[0-9a-f]{12}(\+dirty)?，构建于 \d{4}-", lines[1]), lines[1]
    assert f"程序 {head_revision()}" in lines[2] and "尚未创建" in lines[2]


def test_bundled_selftest_passes_headless(bundle, tmp_path):
    proc = run(bundle, tmp_path / "home", "selftest", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = {c["name"]: c["status"] for c in json.loads(proc.stdout)}
    assert "fail" not in checks.values()
    for name in ("资源文件（字体）", "人脸检测模型", "人脸神经网络模型", "数据库结构升级脚本", "密钥库", "图形界面（Qt，离屏）"):
        assert checks[name] == "ok", name


def test_bundled_application_opens_its_main_window_offscreen(bundle, tmp_path):
    # `ui smoke` is the UI's own check (main window shown, event loop run); the selftest's Qt probe
    # is the fallback for a build without it.
    has_smoke = "smoke" in run(bundle, tmp_path / "home", "ui", "--help").stdout
    args = ("ui", "smoke", "--ms", "300") if has_smoke else ("selftest",)
    proc = run(bundle, tmp_path / "home", *args, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("界面自检通过" if has_smoke else "自检通过") in proc.stdout


def test_bundled_configure_and_diagnostics_work_end_to_end(bundle, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[center]\ncode = "410782"\n[window]\nnumber = 7\n'
                    '[platform]\nurl = "https://platform.example/api"\ncredential = "bundle-test-credential-7"\n'
                    '[printers]\nreceipt = "GP-58"\n', encoding="utf-8")
    home = tmp_path / "home"
    proc = run(bundle, home, "configure", "--from", str(site))
    assert proc.returncode == 0, proc.stderr
    assert 'window_no = "07"' in (home / "config.toml").read_text(encoding="utf-8")
    proc = run(bundle, home, "diagnostics", "export", str(tmp_path / "diag.zip"), "--device-timeout", "10")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "diag.zip") as zf:
        names = set(zf.namelist())
        assert {"versions.json", "devices.json", "config.json", "store.json"} <= names
        versions = json.loads(zf.read("versions.json"))
        config = json.loads(zf.read("config.json"))
        everything = b"".join(zf.read(n) for n in names)
    assert versions["frozen"] is True and versions["schema_current"] == head_revision()
    assert config["keystore"]["platform_credential_set"] is True
    assert config["printers"]["receipt"] == "GP-58"
    assert b"bundle-test-credential-7" not in everything


def test_bundle_holds_what_the_application_needs_and_not_what_it_does_not(bundle):
    internal = bundle.folder / "_internal"
    files = {p.relative_to(internal).as_posix() for p in internal.rglob("*")}
    needed = ["resources/fonts/wqy-zenhei.ttc", "resources/fonts/CounterAppRareHan-ExtB.ttf",
              "counter_app/store/migrations/env.py", "counter_app/build_info.json",
              "cv2/data/haarcascade_frontalface_alt2.xml", "cv2/data/haarcascade_eye.xml",
              "PySide6/Qt/translations/qtbase_zh_CN.qm"]
    if sys.platform.startswith("linux"):
        needed += ["PySide6/Qt/plugins/platforms/libqoffscreen.so", "PySide6/Qt/plugins/platforms/libqxcb.so",
                   "PySide6/Qt/plugins/printsupport/libcupsprintersupport.so",
                   "PySide6/Qt/plugins/platforminputcontexts/libibusplatforminputcontextplugin.so"]
    for path in needed:
        assert path in files, path
    assert any(f.startswith("counter_app/store/migrations/versions/") and f.endswith(".py") for f in files)
    # keyring discovers the OS key stores through entry points: without its metadata only the
    # "fail" backend would remain and every real window would refuse to start.
    entry_points = [f for f in files if re.fullmatch(r"keyring-[\d.]+\.dist-info/entry_points\.txt", f)]
    assert entry_points and "SecretService" in (internal / entry_points[0]).read_text()
    unwanted = re.compile(r"Qt6(Quick|Qml|WebEngine|3D|Pdf|VirtualKeyboard|Designer)|libqgtk3|tkinter|_tkinter"
                          r"|translations/qtbase_(de|fr|ja)|libgtk-3|libQt6WaylandClient")
    assert not [f for f in files if unwanted.search(f)]
