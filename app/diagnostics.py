"""Finding out what is wrong at a window without touching personal data.

* :func:`run_selftest` — ``counter-app selftest``: a quick headless check that an installation is
  complete and usable (resources, migrations, key store, data directory, Qt platform plugin).
  Nothing in the window's store is changed: migrations are tried on a scratch database.
* :func:`export_diagnostics` — ``counter-app diagnostics export FILE.zip``: versions, the device
  list, the configuration without secrets, recent (already scrubbed) logs and crash reports, and
  the audit chain's head, zipped for IT. The export itself is recorded in the audit trail.

No personal data goes into either: the store's content is never read (only its schema revision,
integrity and the audit chain's hash), logs are scrubbed again on the way out, URLs lose their
user-info and query strings, and the credential is reported only as "set / not set".

This module is in the headless core: Qt and the device drivers are reached by module name at run
time (the Qt probe in a child process), exactly like the CLI's extension modules.
"""
from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

OK, WARN, FAIL = "ok", "warn", "fail"
STATUS_LABELS = {OK: "通过", WARN: "警告", FAIL: "失败"}

# Files the application cannot work without (relative to the resources folder).
REQUIRED_RESOURCES = ("fonts/wqy-zenhei.ttc", "fonts/CounterAppRareHan-ExtB.ttf")
OPTIONAL_RESOURCES = ("style/app.qss",)
# The Haar cascades devices.photo.detect loads (a test keeps these names in step with it).
CASCADES = ("haarcascade_frontalface_alt2.xml", "haarcascade_eye.xml")
LOG_BYTES_LIMIT = 2 * 1024 * 1024
SECRET_ENV_MARKERS = ("TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "KEY")


@dataclass
class Check:
    name: str
    status: str
    detail: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "label": STATUS_LABELS[self.status], "detail": self.detail}


def format_checks(checks: list[Check]) -> str:
    lines = [f"[{STATUS_LABELS[c.status]}] {c.name}" + (f"：{c.detail}" if c.detail else "") for c in checks]
    fails = sum(c.status == FAIL for c in checks)
    warns = sum(c.status == WARN for c in checks)
    if fails:
        lines.append(f"自检未通过：{fails} 项失败，{warns} 项警告。请按提示处理，或把“counter-app diagnostics export”"
                     "导出的文件交给技术人员。")
    else:
        lines.append("自检通过" + (f"（{warns} 项警告，不影响使用，请留意）。" if warns else "。"))
    return "\n".join(lines)


# ---------------------------------------------------------------- selftest

def self_command() -> list[str]:
    """How to start this program again: the bundle's executable, or ``python -m app``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "app"]


def _check_resources() -> list[Check]:
    from counter_app.paths import resources_root

    root = resources_root()
    missing = [r for r in REQUIRED_RESOURCES if not (root / r).is_file() or (root / r).stat().st_size == 0]
    checks = [Check("资源文件（字体）", FAIL if missing else OK,
                    f"缺少 {'、'.join(missing)}，请重新安装本程序" if missing else f"{len(REQUIRED_RESOURCES)} 个文件齐全")]
    absent = [r for r in OPTIONAL_RESOURCES if not (root / r).is_file()]
    if absent:
        checks.append(Check("资源文件（界面样式）", WARN, f"缺少 {'、'.join(absent)}，界面将使用默认外观"))
    return checks


def _check_holidays(home: Path) -> Check:
    from counter_app.workdays import HolidayTableError, WorkCalendar

    try:
        calendar = WorkCalendar.default(extra_dirs=[home / "holidays"])
    except HolidayTableError as exc:
        return Check("节假日表", FAIL, f"节假日表无法使用：{exc}")
    year = _dt.date.today().year
    if not calendar.covers(year):
        return Check("节假日表", WARN, f"没有 {year} 年的节假日安排，办理时限将按普通周末计算并标注“未核实”。"
                                    f"请导入 {year} 年节假日表")
    nxt = "" if calendar.covers(year + 1) else f"（尚无 {year + 1} 年数据，国务院公布后请导入）"
    return Check("节假日表", OK, f"已覆盖 {year} 年{nxt}")


def _check_cascades() -> Check:
    # find_spec locates OpenCV without importing it (the core never imports cv2).
    spec = importlib.util.find_spec("cv2")
    if spec is None or not spec.origin:
        return Check("人脸检测模型", FAIL, "未找到 OpenCV，照片检查无法使用，请重新安装本程序")
    data = Path(spec.origin).parent / "data"
    missing = [c for c in CASCADES if not (data / c).is_file()]
    if missing:
        return Check("人脸检测模型", FAIL, f"缺少 {'、'.join(missing)}，请重新安装本程序")
    return Check("人脸检测模型", OK, f"{len(CASCADES)} 个模型文件齐全")


def _check_face_models() -> Check:
    from devices.photo.cnn import MODEL_SHA256, ModelError, verify_models

    verify_models.cache_clear()
    try:
        verify_models()
    except ModelError as exc:
        return Check("人脸神经网络模型", FAIL, f"{exc}；照片将改用备用检测器，闭眼、张嘴、侧脸、戴帽等无法自动检查")
    return Check("人脸神经网络模型", OK, f"{len(MODEL_SHA256)} 个模型文件齐全，校验值正确")


def _check_migrations() -> Check:
    from counter_app.upgrade import safe_upgrade

    with tempfile.TemporaryDirectory(prefix="counter-selftest-") as tmp:
        try:
            result = safe_upgrade(Path(tmp) / "selftest.sqlite3")
        except Exception as exc:
            return Check("数据库结构升级脚本", FAIL, f"在临时数据库上执行失败（{type(exc).__name__}），请重新安装本程序")
    return Check("数据库结构升级脚本", OK, f"临时数据库可建立并升级到 {result.to_revision}")


def _check_store(home: Path) -> Check:
    from counter_app.store.db import head_revision
    from counter_app.upgrade import integrity_ok
    from counter_app.version import database_revision

    db = home / "counter.sqlite3"
    if not db.exists():
        return Check("本窗口数据库", OK, "尚未创建（首次启动时建立）")
    current, head = database_revision(db), head_revision()
    ok, detail = integrity_ok(db)
    if not ok:
        return Check("本窗口数据库", FAIL, f"完整性检查未通过（{detail[:120]}），请立即联系技术人员，不要继续受理")
    if current == head:
        return Check("本窗口数据库", OK, f"结构版本 {current}，完整性检查通过")
    return Check("本窗口数据库", WARN, f"结构版本 {current}，下次启动将自动备份并升级到 {head}")


def _check_platform_agreement(home: Path) -> Check:
    """The last comparison with what the platform acknowledges (the sync worker's, or ``sync verify``)."""
    import sqlite3

    from counter_app.sync.status import RUNTIME_KEY

    name = "与省平台核对"
    db = home / "counter.sqlite3"
    if not db.exists():
        return Check(name, OK, "尚无办件")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (RUNTIME_KEY,)).fetchone()
    finally:
        conn.close()
    runtime = json.loads(row[0]) if row and row[0] else {}
    mismatch = str((runtime or {}).get("mismatch") or "") if isinstance(runtime, dict) else ""
    if mismatch:
        return Check(name, FAIL, mismatch)
    return Check(name, OK, "上次核对一致" if runtime else "尚未与省平台核对（联网同步时自动核对）")


def _check_keystore(home: Path) -> list[Check]:
    import secrets

    from counter_app.security.keystore import KeyStoreError, open_keystore
    from counter_app.services import keystore_namespace
    from counter_app.site_config import needs_first_run, platform_credential

    try:
        store = open_keystore(home, keystore_namespace(home))
        probe = secrets.token_bytes(16)
        store.set("selftest-probe", probe)
        if store.get("selftest-probe") != probe:
            return [Check("密钥库", FAIL, "写入后读出的内容不一致，请联系技术人员")]
    except KeyStoreError as exc:
        return [Check("密钥库", FAIL, exc.message)]
    except Exception as exc:
        return [Check("密钥库", FAIL, f"无法使用（{type(exc).__name__}），请联系技术人员")]
    checks = [Check("密钥库", OK, f"可读写（{store.kind}）")]
    if needs_first_run(home):
        checks.append(Check("窗口配置", WARN, "尚未配置：请在首次运行向导中填写，或执行 counter-app configure --from site.toml"))
    elif platform_credential(store) is None and not os.environ.get("COUNTER_APP_PLATFORM_TOKEN"):
        checks.append(Check("窗口配置", WARN, "尚未设置平台凭据，本窗口无法向平台上报"))
    else:
        checks.append(Check("窗口配置", OK, "已配置"))
    return checks


def _check_data_dir(home: Path) -> Check:
    try:
        probe = home / ".selftest-write"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check("数据目录", FAIL, f"{home} 不可写（{exc.strerror or exc}），请检查权限")
    free_mb = shutil.disk_usage(home).free // (1024 * 1024)
    if free_mb < 1024:
        return Check("数据目录", WARN, f"{home} 可用空间仅 {free_mb} MB，请尽快清理")
    return Check("数据目录", OK, f"{home}（可用 {free_mb // 1024} GB）")


def qt_probe(platform_name: str, timeout: float = 60) -> tuple[bool, str]:
    """Run the Qt probe in a child process (Qt aborts a process whose platform plugin fails)."""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    cmd = self_command() + ["selftest", "--qt-probe", platform_name]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", errors="replace",
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False, f"图形界面组件（{platform_name}）启动超时"
    if proc.returncode == 0:
        for line in reversed(proc.stdout.splitlines()):
            try:
                result = json.loads(line)
            except ValueError:
                continue
            if result.get("painted"):
                return True, f"{result.get('platform')} 可加载并绘制中文界面"
        return False, f"图形界面组件（{platform_name}）未能绘制界面"
    return False, explain_platform_failure(platform_name, proc.stderr + proc.stdout)


def explain_platform_failure(platform_name: str, output: str) -> str:
    """Chinese advice for a failed probe, from Qt's (English) output."""
    text = output.lower()
    if "xcb-cursor" in text or "libxcb" in text or "xcb" in platform_name and "could not load" in text:
        return (f"图形界面组件（{platform_name}）无法加载：系统缺少 XCB 相关库。请以管理员身份安装："
                "apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxkbcommon-x11-0，"
                "或重新安装本程序的 .deb 安装包（会自动安装这些依赖）。")
    if "could not connect to display" in text or "cannot open display" in text:
        return f"图形界面组件（{platform_name}）无法连接显示器：请在桌面环境中运行，或检查 DISPLAY 设置。"
    if "no qt platform plugin could be initialized" in text or "could not find the qt platform plugin" in text:
        return f"图形界面组件（{platform_name}）缺失或损坏：请重新安装本程序。"
    return f"图形界面组件（{platform_name}）无法启动，请重新安装本程序或联系技术人员。"


def _display_available() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _check_qt() -> list[Check]:
    if importlib.util.find_spec("PySide6") is None:
        return [Check("图形界面（Qt）", FAIL, "未安装图形界面组件，请重新安装本程序")]
    ok, detail = qt_probe("offscreen")
    checks = [Check("图形界面（Qt，离屏）", OK if ok else FAIL, detail)]
    if _display_available():
        from ui.crash import native_platform

        native = native_platform()
        ok, detail = qt_probe(native)
        checks.append(Check(f"图形界面（Qt，{native}）", OK if ok else FAIL, detail))
    else:
        checks.append(Check("图形界面（Qt，桌面）", OK, "当前没有桌面会话，未检查（离屏检查已通过即可）"
                            if ok else "当前没有桌面会话，未检查"))
    return checks


def run_selftest(home: Path | None = None, *, qt: bool = True) -> list[Check]:
    if home is None:
        from counter_app.paths import data_home

        home = data_home()
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    steps: list[Callable[[], Check | list[Check]]] = [
        _check_resources, lambda: _check_holidays(home), _check_cascades, _check_face_models, _check_migrations,
        lambda: _check_store(home), lambda: _check_platform_agreement(home), lambda: _check_keystore(home),
        lambda: _check_data_dir(home)]
    if qt:
        steps.append(_check_qt)
    checks: list[Check] = []
    for step in steps:
        try:
            result = step()
        except Exception as exc:  # one broken check must not hide the others
            result = Check(getattr(step, "__name__", "检查").lstrip("_"), FAIL, f"检查本身出错：{type(exc).__name__}")
        checks.extend(result if isinstance(result, list) else [result])
    return checks


# ---------------------------------------------------------------- diagnostics export

def clean_url(url: str) -> str:
    """``url`` without user-info, query or fragment (where a token could hide)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[无效地址]"
    if not parts.scheme:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _config_without_secrets(home: Path) -> dict:
    from counter_app.config import load_settings

    settings = load_settings(home / "config.toml")
    values = dict(settings.values)
    for name in ("platform_url", "lookup_url"):
        values[name] = clean_url(str(values.get(name, "")))
    return {"configured": (home / "config.toml").exists(), "values": values}


def _environment() -> dict:
    out = {}
    for key, value in sorted(os.environ.items()):
        if not key.startswith(("COUNTER_APP_", "QT_", "XDG_SESSION", "LANG", "LC_")):
            continue
        out[key] = "[已隐去]" if any(m in key.upper() for m in SECRET_ENV_MARKERS) else value
    return out


def _package_versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("PySide6-Essentials", "shiboken6", "opencv-python-headless", "numpy", "SQLAlchemy", "alembic",
                 "cryptography", "keyring", "reportlab", "pyserial", "requests", "chinesecalendar", "pyinstaller"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _versions(home: Path) -> dict:
    from counter_app.version import version_info

    info = version_info(home).as_dict()
    info["db_path"] = "counter.sqlite3"
    info.update({"python": platform.python_version(), "platform": platform.platform(),
                 "machine": platform.machine(), "frozen": bool(getattr(sys, "frozen", False)),
                 "packages": _package_versions(), "filesystem_encoding": sys.getfilesystemencoding()})
    try:
        import keyring

        backend = keyring.get_keyring()
        info["keyring_backend"] = type(backend).__module__ + "." + type(backend).__name__
    except Exception as exc:
        info["keyring_backend"] = f"unavailable ({type(exc).__name__})"
    return info


def _devices(home: Path, timeout: float) -> dict:
    """The device list from ``devices.health`` in a thread with a deadline (a hung port must not hang us)."""
    from devices.health import list_devices

    from counter_app.config import load_settings

    port = load_settings(home / "config.toml").reader_port or None
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["rows"] = list_devices(idcard_port=port)
        except Exception as exc:
            box["error"] = f"{type(exc).__name__}: {getattr(exc, 'message', '')}"

    thread = threading.Thread(target=work, name="diagnostics-devices", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return {"available": True, "error": f"设备查询超过 {timeout:.0f} 秒未完成"}
    if "error" in box:
        return {"available": True, "error": box["error"]}
    rows = []
    for row in box.get("rows", []):
        rows.append(row.to_dict())
    return {"available": True, "devices": rows}


def _store_facts(home: Path, operator: str) -> dict:
    """Schema revision, integrity, audit chain head — and the export recorded in the audit trail."""
    from counter_app.store.db import head_revision
    from counter_app.upgrade import integrity_ok
    from counter_app.version import database_revision

    db = home / "counter.sqlite3"
    if not db.exists():
        return {"exists": False}
    facts: dict[str, Any] = {"exists": True, "size_bytes": db.stat().st_size,
                             "schema_current": database_revision(db), "schema_head": head_revision()}
    ok, detail = integrity_ok(db)
    facts["quick_check"] = "ok" if ok else detail[:500]
    if ok and facts["schema_current"] == facts["schema_head"]:
        try:
            from counter_app import audit
            from counter_app.store.db import open_database

            engine, sessions = open_database(db, migrate=False)
            try:
                with sessions.begin() as s:
                    audit.append(s, operator, "diagnostics", "diagnostics-export", {"contents": "no-personal-data"})
                with sessions() as s:
                    seq, digest = audit.head(s)
                    facts["audit"] = {"head_seq": seq, "head_hash": digest, "entries": audit.count(s)}
            finally:
                engine.dispose()
        except Exception as exc:
            facts["audit_error"] = type(exc).__name__
    else:
        # An old or damaged store: read the head directly, change nothing.
        try:
            conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
                facts["audit"] = {"head_seq": row[0] if row else 0, "head_hash": row[1] if row else "0" * 64}
            finally:
                conn.close()
        except sqlite3.Error as exc:
            facts["audit_error"] = str(exc)[:200]
    from counter_app.upgrade import backups

    facts["backups"] = [{"name": b.name, "size_bytes": b.stat().st_size} for b in backups(home)]
    attachments = home / "attachments"
    facts["attachment_files"] = sum(1 for p in attachments.rglob("*") if p.is_file()) if attachments.is_dir() else 0
    facts["free_bytes"] = shutil.disk_usage(home).free
    return facts


def _printers(home: Path) -> dict:
    from counter_app.printers import SETTING_PREFIX as PRINTER_SETTING_PREFIX

    db = home / "counter.sqlite3"
    if not db.exists():
        return {}
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT key, value FROM settings WHERE key LIKE ?", (PRINTER_SETTING_PREFIX + "%",)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    return {k[len(PRINTER_SETTING_PREFIX):]: json.loads(v) if v else "" for k, v in rows}


def _keystore_facts(home: Path) -> dict:
    try:
        from counter_app.security.keystore import open_keystore
        from counter_app.services import keystore_namespace
        from counter_app.site_config import platform_credential

        store = open_keystore(home, keystore_namespace(home))
        return {"kind": store.kind, "platform_credential_set": platform_credential(store) is not None}
    except Exception as exc:
        return {"error": getattr(exc, "message", type(exc).__name__)}


def _recent_logs(home: Path) -> list[tuple[str, str]]:
    from counter_app.logs import log_files
    from counter_app.masking import mask_text

    out, budget = [], LOG_BYTES_LIMIT
    for path in log_files(home):
        if budget <= 0:
            break
        data = path.read_bytes()[-budget:]
        budget -= len(data)
        out.append((f"logs/{path.name}", mask_text(data.decode("utf-8", errors="replace"))))
    return out


def _crash_reports(home: Path, limit: int = 10) -> list[tuple[str, str]]:
    from counter_app.masking import mask_text

    folder = home / "crash"
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("crash-*.txt"), reverse=True)[:limit]
    return [(f"crash/{p.name}", mask_text(p.read_text(encoding="utf-8", errors="replace"))) for p in files]


README = """counter-app 诊断信息
====================
本文件由“counter-app diagnostics export”生成，供技术人员排查问题，不含个人信息：
- versions.json   程序版本、构建版本号、数据库结构版本、系统与组件版本
- devices.json    设备列表（读卡器、摄像头的状态与端口）
- config.json     窗口配置（不含平台凭据等机密；网址已去掉参数）
- store.json      数据库结构版本、完整性检查结果、审计链最新一条的序号与哈希、备份列表
- selftest.json   自检结果
- logs/           最近的日志（已再次过滤证件号、手机号、银行卡号）
- crash/          最近的错误报告
办件内容、照片、扫描件均未导出。
"""


@dataclass
class DiagnosticsResult:
    path: Path
    members: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def export_diagnostics(home: Path | None, dest: Path, *, operator: str = "it_admin",
                       device_timeout: float = 20, qt: bool = False,
                       device_rows: list | None = None) -> DiagnosticsResult:
    """Write the diagnostics zip to ``dest`` (atomically). Each section that fails is noted, not fatal.

    ``device_rows``: the running program's own device states (the GUI's self-test rows). The
    program holds the reader's port while it polls, so probing it again from here would find it
    busy and report 未连接 for a reader that works; only without them (the command line) is probed."""
    if home is None:
        from counter_app.paths import data_home

        home = data_home()
    home, dest = Path(home), Path(dest)
    if dest.suffix.lower() != ".zip":
        dest = dest.with_suffix(dest.suffix + ".zip") if dest.suffix else dest.with_suffix(".zip")
    dest.parent.mkdir(parents=True, exist_ok=True)
    result = DiagnosticsResult(dest)
    members: list[tuple[str, str]] = [("README.txt", README)]

    def section(name: str, produce: Callable[[], Any]) -> None:
        try:
            value = produce()
        except Exception as exc:
            result.problems.append(f"{name}: {type(exc).__name__}")
            value = {"error": type(exc).__name__}
        members.append((name, json.dumps(value, ensure_ascii=False, indent=2, default=str)))

    section("versions.json", lambda: _versions(home))
    section("config.json", lambda: {**_config_without_secrets(home), "printers": _printers(home),
                                    "keystore": _keystore_facts(home), "environment": _environment()})
    section("store.json", lambda: _store_facts(home, operator))
    if device_rows is not None:
        section("devices.json", lambda: {"available": True, "source": "running-program",
                                         "devices": [r.to_dict() for r in device_rows]})
    else:
        section("devices.json", lambda: _devices(home, device_timeout))
    section("selftest.json", lambda: [c.as_dict() for c in run_selftest(home, qt=qt)])
    for producer in (_recent_logs, _crash_reports):
        try:
            members.extend(producer(home))
        except Exception as exc:
            result.problems.append(f"{producer.__name__}: {type(exc).__name__}")

    tmp = dest.with_name(dest.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in members:
            zf.writestr(name, text)
    os.replace(tmp, dest)
    result.members = [name for name, _ in members]
    return result
