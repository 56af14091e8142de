"""Printing a PDF through the system spooler, and knowing when a printer cannot take it.

On Linux (and macOS) this is CUPS: ``lpstat`` lists printers and their state, ``lp`` queues
the job. Before a job is sent, the printer's state is read (``lpstat -l -p``) and a printer that
is disabled, paused, offline, out of paper, jammed, or out of toner is refused with a Chinese
message saying what to do, instead of a job that silently never comes out. After sending, the
CUPS job id is returned and :func:`job_state` can be polled.

On Windows the job goes to SumatraPDF when ``COUNTER_APP_SUMATRA`` names its executable
(``-print-to``, silent), otherwise to the shell's "printto" verb; printers are listed with
PowerShell's ``Get-Printer``.

The printer chosen for each document type (form, receipt, letter, report, scan) is remembered
in ``printers.json`` in the data directory.

Thread contract: every function may be called from any worker thread (they block on a
subprocess for up to ``TIMEOUT`` seconds, so never call them on the GUI thread); the
remembered-printer file is written atomically under a lock.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from printing.result import PrintingError

TIMEOUT = 15.0
DOC_TYPES = {"form": "联办申请表", "receipt": "受理回执", "letter": "介绍信/提醒", "report": "每日受理报表",
             "scan": "扫描件"}


class PrinterError(PrintingError):
    """The printer or the print service cannot take the job; ``message`` says what to do."""


# IPP printer-state-reasons (RFC 8011 §5.4.12, as CUPS reports them in "Alerts:") → Chinese.
NO_PAPER = "打印机缺纸，请添加A4纸后重试"
JAM = "打印机卡纸，请按打印机提示取出卡住的纸张"
NO_TONER = "墨粉（墨水）已用完，请更换硒鼓或墨盒"
DOOR_OPEN = "打印机盖板未关好，请关好后重试"
OFFLINE = "打印机未连接或已关机（脱机），请检查电源和数据线（网线）"
PAUSED = "打印机已暂停，请在打印机管理中恢复（或联系技术人员）"
TRAY_FULL = "出纸盒已满，请取走纸张"
_REASONS: list[tuple[tuple[str, ...], str]] = [
    (("media-empty", "media-needed", "input-tray-missing"), NO_PAPER),
    (("media-jam",), JAM),
    (("toner-empty", "marker-supply-empty"), NO_TONER),
    (("door-open", "cover-open", "interlock-open"), DOOR_OPEN),
    (("offline", "shutdown", "connecting-to-device", "timed-out"), OFFLINE),
    (("paused",), PAUSED),
    (("output-area-full", "output-tray-missing"), TRAY_FULL),
]
# Free-text status lines (the printer-state-message) that mean the same.
_MESSAGES: list[tuple[tuple[str, ...], str]] = [
    (("out of paper", "media empty", "no paper", "paper out"), NO_PAPER),
    (("paper jam", "media jam"), JAM),
    (("unplugged", "not connected", "offline", "unable to connect", "not responding", "powered off"), OFFLINE),
    (("paused", "stopped"), PAUSED),
]
# Reasons that do not stop printing.
_HARMLESS = ("none", "cups-waiting-for-job-completed", "marker-supply-low", "toner-low", "media-low",
             "cups-missing-filter")


def _harmless(reason: str) -> bool:
    # CUPS suffixes: -warning and -report are informational, except a reported offline state.
    if reason.startswith(_HARMLESS) or reason.endswith("-warning"):
        return True
    return reason.endswith("-report") and not reason.startswith("offline")


@dataclass
class PrinterInfo:
    name: str
    state: str = "unknown"          # idle / printing / disabled / unknown
    accepting: bool = True
    reasons: list[str] = field(default_factory=list)   # IPP reasons and CUPS' own message lines
    is_default: bool = False
    description: str = ""

    @property
    def problem(self) -> str:
        """A Chinese sentence when this printer cannot print now, else ""."""
        return printer_problem_text(self)

    @property
    def ready(self) -> bool:
        return not self.problem


@dataclass
class PrintJob:
    job_id: str
    printer: str

    def __str__(self) -> str:
        return self.job_id


def printer_problem_text(p: PrinterInfo) -> str:
    found: list[str] = []

    def add(text: str) -> None:
        if text not in found:
            found.append(text)

    for reason in p.reasons:
        r = reason.strip().lower()
        if not r or _harmless(r):
            continue
        if re.fullmatch(r"[a-z0-9-]+", r):  # an IPP keyword
            for keys, text in _REASONS:
                if r.startswith(keys):
                    add(text)
                    break
            else:
                if r.endswith("-error"):
                    add(f"打印机报告错误（{r}），请查看打印机面板")
            continue
        for keys, text in _MESSAGES:
            if any(k in r for k in keys):
                add(text)
                break
    if p.state == "disabled" and not found:
        add("打印机已停用，请在打印机管理中启用（或联系技术人员）")
    if not p.accepting and not found:
        add("打印机当前不接受打印任务，请在打印机管理中恢复（或联系技术人员）")
    if not found:
        return ""
    return f"打印机“{p.name}”无法打印：" + "；".join(found) + "。"


# ---------------------------------------------------------------- CUPS

def _run(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C", LANG="C")  # parse CUPS' English messages, not a translation
    try:
        if stdin is not None:
            out = subprocess.run(args, input=stdin, capture_output=True, timeout=TIMEOUT, env=env)
            return subprocess.CompletedProcess(args, out.returncode, out.stdout.decode("utf-8", "replace"),
                                               out.stderr.decode("utf-8", "replace"))
        return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except FileNotFoundError:
        raise PrinterError("本机未安装打印服务（CUPS 的 lp/lpstat 命令不存在），无法打印。请联系技术人员安装打印机。") from None
    except subprocess.TimeoutExpired:
        raise PrinterError("打印服务长时间无响应，请稍后重试；如仍无响应，请重启电脑或联系技术人员。") from None


def parse_lpstat_printers(text: str) -> list[PrinterInfo]:
    """Parse ``lpstat -l -p`` (or ``lpstat -p``) output."""
    printers: list[PrinterInfo] = []
    current: PrinterInfo | None = None
    for line in text.splitlines():
        m = re.match(r"^printer (\S+) (.*)$", line)
        if m:
            name, rest = m.groups()
            state = "unknown"
            if rest.startswith("disabled"):
                state = "disabled"
            elif "is idle" in rest:
                state = "idle"
            elif "now printing" in rest:
                state = "printing"
            current = PrinterInfo(name, state)
            printers.append(current)
            continue
        if current is None or not line.strip():
            continue
        s = line.strip()
        if s.startswith("Alerts:"):
            current.reasons += s[len("Alerts:"):].split()
        elif s.startswith("Description:"):
            current.description = s[len("Description:"):].strip()
        elif re.match(r"^(Location|Connection|Interface|On fault|After fault|Users allowed|Forms allowed|Banner|"
                      r"Charging|Quota|Page|k-limit|Options|Users denied|Printer types|Attributes)\b", s):
            continue
        elif line.startswith("\t") or line.startswith("  "):
            # A free-text status line (the printer-state-message), e.g. "Paused" or "Media empty".
            current.reasons.append(s)
    return printers


def _cups_list() -> list[PrinterInfo]:
    out = _run(["lpstat", "-l", "-p"])
    if out.returncode != 0 and "No destinations added" not in (out.stdout + out.stderr):
        if "scheduler is not running" in (out.stderr + out.stdout).lower():
            raise PrinterError("打印服务（CUPS）没有运行，请重启电脑或联系技术人员。")
        if not out.stdout.strip():
            raise PrinterError(f"无法读取打印机列表：{(out.stderr or '').strip() or '未知错误'}。")
    printers = parse_lpstat_printers(out.stdout)
    accepting = _run(["lpstat", "-a"])
    for line in accepting.stdout.splitlines():
        m = re.match(r"^(\S+) (not )?accepting", line)
        if m:
            for p in printers:
                if p.name == m.group(1):
                    p.accepting = m.group(2) is None
    default = _cups_default()
    for p in printers:
        p.is_default = p.name == default
    return printers


def _cups_default() -> str | None:
    out = _run(["lpstat", "-d"])
    m = re.search(r"system default destination:\s*(\S+)", out.stdout)
    return m.group(1) if m else None


def _cups_print(path: Path | bytes, printer: str, copies: int, title: str) -> PrintJob:
    """``path`` may be the PDF's bytes: ``lp`` then reads them from its standard input, so the
    form (personal data) never lands in a temporary file that a killed print would leave behind."""
    args = ["lp", "-d", printer, "-n", str(copies), "-o", "media=A4", "-o", "fit-to-page"]
    if title:
        args += ["-t", title]
    if isinstance(path, bytes):
        out = _run(args, stdin=path)
    else:
        out = _run(args + ["--", str(path)])
    if out.returncode != 0:
        detail = (out.stderr or out.stdout).strip().replace("lp: ", "")
        raise PrinterError(f"打印任务未能提交到打印机“{printer}”：{detail or '未知错误'}。请检查打印机后重试。")
    m = re.search(r"request id is (\S+)", out.stdout)
    return PrintJob(m.group(1) if m else "", printer)


def job_state(job: PrintJob | str) -> str:
    """"pending" while the job waits in the queue (then check the printer's ``problem``),
    "done" once CUPS no longer lists it as not completed."""
    job_id = getattr(job, "job_id", job)
    if sys.platform.startswith("win"):
        return "unknown"
    out = _run(["lpstat", "-o"])
    return "pending" if any(line.split()[:1] == [job_id] for line in out.stdout.splitlines()) else "done"


# ---------------------------------------------------------------- Windows

def _windows_list() -> list[PrinterInfo]:  # pragma: no cover - exercised on Windows only
    cmd = ["powershell", "-NoProfile", "-Command",
           "Get-Printer | Select-Object Name,PrinterStatus,WorkOffline,Default | ConvertTo-Json"]
    out = _run(cmd)
    try:
        data = json.loads(out.stdout or "[]")
    except json.JSONDecodeError:
        raise PrinterError("无法读取打印机列表，请检查Windows打印服务（Print Spooler）是否运行。") from None
    if isinstance(data, dict):
        data = [data]
    printers = []
    for d in data:
        info = PrinterInfo(str(d.get("Name", "")), "idle")
        status = str(d.get("PrinterStatus", "")).lower()
        if d.get("WorkOffline") or status in ("offline", "7"):
            info.reasons.append("offline")
        if status in ("paperout", "paper out", "5"):
            info.reasons.append("media-empty")
        if status in ("paused", "1"):
            info.reasons.append("paused")
        info.is_default = bool(d.get("Default"))
        printers.append(info)
    return printers


def _windows_print(path: Path, printer: str | None, copies: int) -> PrintJob:  # pragma: no cover
    sumatra = os.environ.get("COUNTER_APP_SUMATRA")
    if sumatra:
        args = [sumatra, "-silent", "-print-settings", f"{copies}x,fit"]
        args += ["-print-to", printer] if printer else ["-print-to-default"]
        out = _run(args + [str(path)])
        if out.returncode != 0:
            raise PrinterError(f"SumatraPDF 打印失败（代码 {out.returncode}），请检查打印机后重试。")
        return PrintJob("", printer or "")
    if printer:
        os.startfile(str(path), "printto", f'"{printer}"')  # type: ignore[attr-defined]
    else:
        os.startfile(str(path), "print")  # type: ignore[attr-defined]
    return PrintJob("", printer or "")


# ---------------------------------------------------------------- public API

def list_printers() -> list[PrinterInfo]:
    """Printers the system knows, with their state. Raises :class:`PrinterError` when the
    print service itself is missing or not running."""
    if sys.platform.startswith("win"):  # pragma: no cover
        return _windows_list()
    return _cups_list()


def default_printer() -> str | None:
    for p in list_printers():
        if p.is_default:
            return p.name
    return None


def printer_status(name: str) -> PrinterInfo:
    for p in list_printers():
        if p.name == name:
            return p
    raise PrinterError(f"找不到打印机“{name}”，它可能已被删除或改名。请重新选择打印机。")


def print_pdf(pdf: bytes | str | Path, *, printer: str | None = None, doc_type: str | None = None,
              copies: int = 1, title: str = "") -> PrintJob:
    """Send a PDF (bytes or a file path) to ``printer``, else the printer remembered for
    ``doc_type``, else the system default. Refuses, with a Chinese :class:`PrinterError`, when
    there is no printer or the printer is offline, paused, disabled or out of paper, so a job is
    never queued where it cannot come out. Returns the spooler's job."""
    if not 1 <= int(copies) <= 99:
        raise PrinterError("打印份数应为1至99。")
    printers = list_printers()
    if not printers:
        raise PrinterError("本机没有可用的打印机，请连接打印机并在系统中添加后重试，或先“另存为PDF”。")
    name = printer or (remembered_printer(doc_type) if doc_type else None)
    if name and not any(p.name == name for p in printers):
        if printer:
            raise PrinterError(f"找不到打印机“{name}”，它可能已被删除或改名。请重新选择打印机。")
        name = None  # a remembered printer that is gone: fall back to the default
    if not name:
        name = next((p.name for p in printers if p.is_default), None)
        if name is None:
            raise PrinterError("没有设置默认打印机，请选择一台打印机。")
    info = next(p for p in printers if p.name == name)
    if info.problem:
        raise PrinterError(info.problem)

    tmp: Path | None = None
    if isinstance(pdf, (bytes, bytearray)):
        if not bytes(pdf[:5]) == b"%PDF-":
            raise PrinterError("要打印的内容不是PDF文件。")
        if sys.platform.startswith("win"):  # pragma: no cover - the Windows path needs a file
            fd, tmp_name = tempfile.mkstemp(prefix="counter-print-", suffix=".pdf")
            with os.fdopen(fd, "wb") as f:
                f.write(pdf)
            path = tmp = Path(tmp_name)
        else:
            path = bytes(pdf)
    else:
        path = Path(pdf)
        if not path.is_file():
            raise PrinterError(f"找不到要打印的文件：{path}。")
        with open(path, "rb") as f:
            if f.read(5) != b"%PDF-":
                raise PrinterError(f"{path.name} 不是PDF文件，无法打印。")
    try:
        if sys.platform.startswith("win"):  # pragma: no cover
            job = _windows_print(path, name, copies)
        else:
            job = _cups_print(path, name, copies, title)
    finally:
        if tmp is not None:
            # lp has copied the file into the spool; do not leave personal data in /tmp.
            tmp.unlink(missing_ok=True)
    if doc_type:
        remember_printer(doc_type, name)
    return job


# ---------------------------------------------------------------- remembered printers

_lock = threading.Lock()


def _store_path() -> Path:
    from counter_app.paths import data_home

    return data_home() / "printers.json"


def _load() -> dict[str, str]:
    try:
        data = json.loads(_store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def remembered_printer(doc_type: str) -> str | None:
    """The printer last used (or chosen) for this document type, or None."""
    with _lock:
        return _load().get(doc_type) or None


def remember_printer(doc_type: str, printer: str | None) -> None:
    """Remember ``printer`` for ``doc_type`` (None forgets it)."""
    if doc_type not in DOC_TYPES:
        raise PrinterError(f"未知的单据类型：{doc_type}（应为 {'、'.join(DOC_TYPES)}）。")
    with _lock:
        data = _load()
        if printer:
            data[doc_type] = printer
        else:
            data.pop(doc_type, None)
        path = _store_path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
