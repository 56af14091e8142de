"""Printing a PDF through the system spooler, and knowing when a printer cannot take it.

On Linux (and macOS) this is CUPS, spoken to over IPP (:mod:`printing.ipp`): the printer list
with each printer's state, state reasons and whether it accepts jobs, the job itself (the PDF
bytes go straight into the request; no copy with personal data is left in a temp dir), and the
job's state. Before a job is sent the printer's state is read, and a printer that is disabled,
paused, offline, out of paper, jammed or out of toner is refused with a Chinese message saying
what to do, instead of a job that silently never comes out.

On Windows the printers come from PowerShell's ``Get-Printer`` (:func:`parse_windows_printers`)
and the job goes to SumatraPDF when ``COUNTER_APP_SUMATRA`` names its executable (silent
``-print-to``, :func:`sumatra_command`), otherwise to the shell's "printto" verb.

The spooler remembers nothing: which printer prints which document is
``counter_app.printers``' (the caller passes the printer; ``None`` = the system default).

Thread contract: every function may be called from any worker thread (they block on the
print service for up to ``TIMEOUT`` seconds, so never call them on the GUI thread).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from printing import ipp
from printing.result import PrintingError

TIMEOUT = 15.0


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
    job_id: str      # CUPS: the IPP job id; Windows: "" (the shell does not tell)
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


# ---------------------------------------------------------------- CUPS (IPP)

NO_SERVICE = "打印服务（CUPS）没有运行或无法连接，请重启电脑；仍不行请联系技术人员检查打印服务。"


def _client() -> ipp.IppClient:
    return ipp.IppClient(timeout=TIMEOUT)


def printer_from_ipp(attrs: dict[str, list], default: str | None = None) -> PrinterInfo:
    """A :class:`PrinterInfo` from a printer's IPP attributes (CUPS-Get-Printers)."""
    name = str(attrs.get("printer-name", [""])[0])
    state = {ipp.PRINTER_IDLE: "idle", ipp.PRINTER_PROCESSING: "printing",
             ipp.PRINTER_STOPPED: "disabled"}.get(attrs.get("printer-state", [0])[0], "unknown")
    reasons = [str(r) for r in attrs.get("printer-state-reasons", [])]
    message = str(attrs.get("printer-state-message", [""])[0]).strip()
    if message:
        reasons.append(message)  # free text, e.g. "Media empty" from the backend
    return PrinterInfo(name, state, accepting=bool(attrs.get("printer-is-accepting-jobs", [True])[0]),
                       reasons=reasons, is_default=name == default,
                       description=str(attrs.get("printer-info", [""])[0]))


def _cups_list() -> list[PrinterInfo]:
    client = _client()
    try:
        printers = client.printers()
        default = client.default_printer() if printers else None
    except ipp.IppError as exc:
        if exc.status is None:
            raise PrinterError(NO_SERVICE) from None
        raise PrinterError(f"无法读取打印机列表：{exc}。请联系技术人员检查打印服务。") from None
    return [printer_from_ipp(attrs, default) for attrs in printers]


def _cups_print(pdf: bytes, printer: str, copies: int, title: str) -> PrintJob:
    try:
        job_id = _client().print_job(printer, pdf, title=title, copies=copies)
    except ipp.IppError as exc:
        if exc.status is None:
            raise PrinterError(NO_SERVICE) from None
        if exc.status == ipp.NOT_FOUND:
            raise PrinterError(f"找不到打印机“{printer}”，它可能已被删除或改名。请重新选择打印机。") from None
        if exc.status == ipp.NOT_ACCEPTING:
            raise PrinterError(f"打印机“{printer}”当前不接受打印任务，请在打印机管理中恢复（或联系技术人员）。") from None
        raise PrinterError(f"打印任务未能提交到打印机“{printer}”：{exc}。请检查打印机后重试。") from None
    return PrintJob(str(job_id), printer)


def job_state(job: PrintJob | str) -> str:
    """"pending" while the job waits or prints (then check the printer's ``problem``), "done" once
    printed, "failed" when CUPS stopped, cancelled or aborted it, "unknown" on Windows."""
    job_id = getattr(job, "job_id", job)
    if sys.platform.startswith("win") or not str(job_id).isdigit():
        return "unknown"
    try:
        state = _client().job_state(int(job_id))
    except ipp.IppError as exc:
        raise PrinterError(NO_SERVICE if exc.status is None else f"无法查询打印任务 {job_id}：{exc}。") from None
    if state == "completed":
        return "done"
    if state in ("stopped", "canceled", "aborted"):
        return "failed"
    return "pending" if state in ("pending", "held", "processing") else "unknown"


# ---------------------------------------------------------------- Windows

# Get-Printer's PrinterStatus (an enum name, or its number when PowerShell serialises it raw).
_WINDOWS_STATUS = {"offline": "offline", "7": "offline", "paperout": "media-empty", "paper out": "media-empty",
                   "5": "media-empty", "paused": "paused", "1": "paused", "paperjam": "media-jam", "8": "media-jam",
                   "dooropen": "door-open", "tonerlow": "toner-low-warning", "notoner": "toner-empty",
                   "error": "other-error", "2": "other-error"}


def parse_windows_printers(text: str) -> list[PrinterInfo]:
    """Parse ``Get-Printer | Select-Object Name,PrinterStatus,WorkOffline,Default | ConvertTo-Json``
    (one object or a list). Raises :class:`PrinterError` for output that is not that JSON."""
    try:
        data = json.loads(text or "[]")
    except json.JSONDecodeError:
        raise PrinterError("无法读取打印机列表，请检查Windows打印服务（Print Spooler）是否运行。") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise PrinterError("无法读取打印机列表，请检查Windows打印服务（Print Spooler）是否运行。")
    printers = []
    for d in data:
        if not isinstance(d, dict) or not d.get("Name"):
            continue
        info = PrinterInfo(str(d["Name"]), "idle")
        status = str(d.get("PrinterStatus", "")).strip().lower()
        if d.get("WorkOffline"):
            info.reasons.append("offline")
        if status in _WINDOWS_STATUS and _WINDOWS_STATUS[status] not in info.reasons:
            info.reasons.append(_WINDOWS_STATUS[status])
        if "paused" in info.reasons:
            info.state = "disabled"
        info.is_default = bool(d.get("Default"))
        printers.append(info)
    return printers


def sumatra_command(sumatra: str, path: Path, printer: str | None, copies: int) -> list[str]:
    """SumatraPDF's silent print command line (``-print-settings "2x,fit"``: copies, fit to page)."""
    args = [sumatra, "-silent", "-print-settings", f"{copies}x,fit"]
    args += ["-print-to", printer] if printer else ["-print-to-default"]
    return args + [str(path)]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise PrinterError(f"找不到打印程序 {args[0]}，请联系技术人员检查安装。") from None
    except subprocess.TimeoutExpired:
        raise PrinterError("打印服务长时间无响应，请稍后重试；如仍无响应，请重启电脑或联系技术人员。") from None


def _windows_list() -> list[PrinterInfo]:  # pragma: no cover - exercised on Windows only
    out = _run(["powershell", "-NoProfile", "-Command",
                "Get-Printer | Select-Object Name,PrinterStatus,WorkOffline,Default | ConvertTo-Json"])
    return parse_windows_printers(out.stdout)


def _windows_print(pdf: bytes, printer: str | None, copies: int) -> PrintJob:  # pragma: no cover
    fd, name = tempfile.mkstemp(prefix="counter-print-", suffix=".pdf")
    path = Path(name)
    with os.fdopen(fd, "wb") as f:
        f.write(pdf)
    try:
        sumatra = os.environ.get("COUNTER_APP_SUMATRA")
        if sumatra:
            out = _run(sumatra_command(sumatra, path, printer, copies))
            if out.returncode != 0:
                raise PrinterError(f"SumatraPDF 打印失败（代码 {out.returncode}），请检查打印机后重试。")
        elif printer:
            os.startfile(str(path), "printto", f'"{printer}"')  # type: ignore[attr-defined]
        else:
            os.startfile(str(path), "print")  # type: ignore[attr-defined]
    finally:
        if sumatra:
            path.unlink(missing_ok=True)  # the shell verbs read the file after returning: it stays
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


def print_pdf(pdf: bytes | str | Path, *, printer: str | None = None, copies: int = 1, title: str = "") -> PrintJob:
    """Send a PDF (bytes or a file path) to ``printer``, else the system default. Refuses, with a
    Chinese :class:`PrinterError`, when there is no printer or the printer is missing, offline,
    paused, disabled or out of paper, so a job is never queued where it cannot come out.
    Returns the spooler's job."""
    if not 1 <= int(copies) <= 99:
        raise PrinterError("打印份数应为1至99。")
    if isinstance(pdf, (bytes, bytearray)):
        data = bytes(pdf)
        if data[:5] != b"%PDF-":
            raise PrinterError("要打印的内容不是PDF文件。")
    else:
        path = Path(pdf)
        if not path.is_file():
            raise PrinterError(f"找不到要打印的文件：{path}。")
        data = path.read_bytes()
        if data[:5] != b"%PDF-":
            raise PrinterError(f"{path.name} 不是PDF文件，无法打印。")
    printers = list_printers()
    if not printers:
        raise PrinterError("本机没有可用的打印机，请连接打印机并在系统中添加后重试，或先“另存为PDF”。")
    name = printer or next((p.name for p in printers if p.is_default), None)
    if name is None:
        raise PrinterError("没有设置默认打印机，请选择一台打印机。")
    info = next((p for p in printers if p.name == name), None)
    if info is None:
        raise PrinterError(f"找不到打印机“{name}”，它可能已被删除或改名。请重新选择打印机。")
    if info.problem:
        raise PrinterError(info.problem)
    if sys.platform.startswith("win"):  # pragma: no cover
        return _windows_print(data, name, copies)
    return _cups_print(data, name, copies, title)
