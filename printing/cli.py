"""Printing subcommands of ``counter-app``.

    counter-app form render --json CASE.json -o form.pdf [--photo PHOTO.jpg] [--signature SIG.png]
    counter-app receipt render --json CASE.json -o receipt.pdf [--url URL]
    counter-app letter render --json CASE.json --kind settlement|reserve -o letter.pdf
    counter-app watermark --in SCAN.pdf -o STAMPED.pdf [--text 此件经与原件核对无误] [--checker NAME]
    counter-app print FILE.pdf [--printer NAME] [--copies N]
    counter-app printers list [--json]

(``report daily`` is the core's: it reads the store, then calls ``printing.report``.)
Bad input — a missing or malformed file, a broken image, no printer — is a one-line Chinese
message (``UserError``), never a traceback. Characters that had to fall back (生僻字) are listed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
from pathlib import Path
from typing import Any

from counter_app.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    form = sub.add_parser("form", help="联办申请表").add_subparsers(dest="form_command", metavar="ACTION")
    p = form.add_parser("render", help="由办件JSON生成联办申请表PDF")
    p.add_argument("--json", dest="json_file", required=True, metavar="CASE.json")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p.add_argument("--photo", metavar="PHOTO.jpg", help="白底一寸照片（JPEG）")
    p.add_argument("--signature", metavar="SIG.png", help="申请人签名图片（PNG）")
    p.set_defaults(func=cmd_form_render)

    receipt = sub.add_parser("receipt", help="受理回执").add_subparsers(dest="receipt_command", metavar="ACTION")
    p = receipt.add_parser("render", help="由办件JSON生成受理回执PDF")
    p.add_argument("--json", dest="json_file", required=True, metavar="CASE.json")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p.add_argument("--url", help="进度查询链接（二维码内容；可含 {case_no}）；默认取本窗口配置的查询地址")
    p.set_defaults(func=cmd_receipt_render)

    letter = sub.add_parser("letter", help="落户介绍信、预备役登记提醒").add_subparsers(
        dest="letter_command", metavar="ACTION")
    p = letter.add_parser("render", help="由办件JSON生成介绍信/提醒PDF")
    p.add_argument("--json", dest="json_file", required=True, metavar="CASE.json")
    p.add_argument("--kind", required=True, choices=("settlement", "reserve"),
                   help="settlement：落户介绍信；reserve：预备役登记提醒")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p.set_defaults(func=cmd_letter_render)

    p = sub.add_parser("watermark", help="为核验过原件的扫描件PDF加盖“此件经与原件核对无误”")
    p.add_argument("--in", dest="input", required=True, metavar="SCAN.pdf")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p.add_argument("--text", default=None)
    p.add_argument("--checker", default="", help="核对人")
    p.set_defaults(func=cmd_watermark)

    p = sub.add_parser("print", help="把PDF发送到打印机")
    p.add_argument("file", metavar="FILE.pdf")
    p.add_argument("--printer", help="打印机名称（默认：系统默认打印机）")
    p.add_argument("--copies", type=int, default=1)
    p.set_defaults(func=cmd_print)

    printers = sub.add_parser("printers", help="打印机").add_subparsers(dest="printers_command", metavar="ACTION")
    p = printers.add_parser("list", help="列出打印机及其状态")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_printers_list)


# ---------------------------------------------------------------- helpers

def _read_bytes(path: str | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"找不到{what}文件：{path}") from None
    except OSError as exc:
        raise UserError(f"无法读取{what}文件 {path}：{exc.strerror or exc}") from None


def _read_case(path: str) -> dict[str, Any]:
    raw = _read_bytes(path, "办件JSON")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UserError(f"{path} 不是UTF-8编码的文本文件。") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} 不是有效的JSON（第{exc.lineno}行第{exc.colno}列），请检查文件是否完整。") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} 不是办件JSON（应为包含 case_no、application 的对象）。")
    return data


def _write(result, output: str) -> None:
    out = Path(output)
    try:
        out.write_bytes(result.pdf if hasattr(result, "pdf") else result)
    except OSError as exc:
        raise UserError(f"无法写入 {out}：{exc.strerror or exc}") from None


def _render(fn, *args, **kwargs):
    from printing.result import PrintingError

    try:
        return fn(*args, **kwargs)
    except PrintingError as exc:
        raise UserError(exc.message) from None


def _report(result, output: str, what: str) -> int:
    print(f"已生成{what}：{output}（{result.pages}页）")
    if result.fallback_chars:
        chars = "".join(sorted(result.fallback_chars))
        boxed = "".join(sorted(result.boxed_chars))
        print(f"注意：以下生僻字由备用字体打印：{chars}" + (f"；其中无字形、以编码方框显示：{boxed}" if boxed else ""))
    for w in result.warnings:
        print(f"提示：{w}")
    return 0


# ---------------------------------------------------------------- handlers

def cmd_form_render(args: argparse.Namespace) -> int:
    from printing.form import render_application_form

    case = _read_case(args.json_file)
    photo = _read_bytes(args.photo, "照片")
    signature = _read_bytes(args.signature, "签名图片")
    result = _render(render_application_form, case, photo_jpeg=photo, signature_png=signature)
    _write(result, args.output)
    return _report(result, args.output, "联办申请表")


def cmd_receipt_render(args: argparse.Namespace) -> int:
    from printing.receipt import render_receipt

    case = _read_case(args.json_file)
    result = _render(render_receipt, case, lookup_url=args.url)
    _write(result, args.output)
    return _report(result, args.output, "受理回执")


def cmd_letter_render(args: argparse.Namespace) -> int:
    from printing.letters import render_reserve_reminder, render_settlement_letter

    case = _read_case(args.json_file)
    if args.kind == "settlement":
        result, what = _render(render_settlement_letter, case), "落户介绍信"
    else:
        result, what = _render(render_reserve_reminder, case), "预备役登记提醒"
    _write(result, args.output)
    return _report(result, args.output, what)


def cmd_watermark(args: argparse.Namespace) -> int:
    from printing.watermark import DEFAULT_TEXT, watermark_pdf

    data = _read_bytes(args.input, "扫描件PDF")
    pdf = _render(watermark_pdf, data, args.text or DEFAULT_TEXT, checker=args.checker, day=_dt.date.today())
    _write(pdf, args.output)
    print(f"已加盖水印：{args.output}")
    return 0


def cmd_print(args: argparse.Namespace) -> int:
    from printing.spool import print_pdf

    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"找不到要打印的文件：{path}")
    job = _render(print_pdf, path, printer=args.printer, copies=args.copies,
                  title=path.name)
    print(f"已发送到打印机“{job.printer}”" + (f"，作业号 {job.job_id}" if job.job_id else ""))
    return 0


def cmd_printers_list(args: argparse.Namespace) -> int:
    from printing.spool import list_printers

    printers = _render(list_printers)
    if args.json:
        print(json.dumps([{"name": p.name, "state": p.state, "accepting": p.accepting, "default": p.is_default,
                           "reasons": p.reasons, "problem": p.problem} for p in printers],
                         ensure_ascii=False, indent=2))
        return 0
    if not printers:
        print("本机没有可用的打印机。")
        return 0
    for p in printers:
        mark = "（默认）" if p.is_default else ""
        print(f"{p.name}{mark}：{p.problem or '就绪'}")
    return 0
