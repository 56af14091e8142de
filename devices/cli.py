"""Command-line part of the device drivers: ``counter-app idcard ...`` and ``counter-app devices ...``.

Loaded by ``app.cli`` through :func:`register`.  Camera commands live in
``devices.camera.cli`` and are registered from here when that module exists.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path


def _user_error(message: str):
    from counter_app.errors import UserError

    return UserError(message)


# ------------------------------------------------------------------------------ idcard simulate

def _load_card_arg(value: str):
    from devices.idcard.card_data import load_card, sample_card, sample_card_names
    from devices.idcard.errors import CardDataError

    try:
        if value in sample_card_names():
            return sample_card(value)
        return load_card(value)
    except CardDataError as exc:
        raise _user_error(exc.message) from None


SIMULATOR_HELP = "模拟器已启动。标准输入命令：remove（拿走证件）、place <样例名或文件>（放上证件）、fault <故障…>（设置故障，空为清除）、quit（退出）"


def _cmd_simulate(args: argparse.Namespace) -> int:
    from devices.idcard.simulator import FaultSet, SimulatedSamModule

    try:
        faults = FaultSet.parse(args.fault or [])
    except ValueError as exc:
        raise _user_error(str(exc)) from None
    card = _load_card_arg(args.card) if args.card else _load_card_arg("resident_xinxiang")
    module = SimulatedSamModule(card, faults, baudrate=args.baud)
    try:
        port = module.start()
    except OSError as exc:
        raise _user_error(str(exc)) from None
    try:
        print(port, flush=True)
        print(SIMULATOR_HELP, file=sys.stderr, flush=True)
        if args.forever:
            import threading

            threading.Event().wait()
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            verb, rest = words[0].lower(), words[1:]
            try:
                if verb == "quit":
                    break
                if verb == "remove":
                    module.remove_card()
                elif verb == "place" and rest:
                    module.place_card(_load_card_arg(rest[0]))
                elif verb == "fault":
                    module.set_faults(FaultSet.parse(rest))
                else:
                    print(f"未知命令：{line.strip()}。{SIMULATOR_HELP}", file=sys.stderr, flush=True)
                    continue
                print(f"已执行：{line.strip()}", file=sys.stderr, flush=True)
            except Exception as exc:  # a typo on stdin must not kill the simulator
                message = getattr(exc, "message", str(exc))
                print(f"错误：{message}", file=sys.stderr, flush=True)
    finally:
        module.stop()
    return 0


# ------------------------------------------------------------------------------ idcard read

FIELD_LABELS = (
    ("card_type_label", "证件类型"),
    ("name", "姓名"),
    ("name_en", "英文姓名"),
    ("sex_text", "性别"),
    ("ethnicity_text", "民族"),
    ("birth_date", "出生日期"),
    ("address", "住址"),
    ("new_address", "追加住址"),
    ("id_number", "证件号码"),
    ("nationality_code", "国籍代码"),
    ("pass_number", "通行证号码"),
    ("issue_count", "签发次数"),
    ("renewal_count", "换证次数"),
    ("issuing_authority", "签发机关"),
    ("authority_code", "受理机关代码"),
    ("card_version", "证件版本号"),
    ("valid_from", "有效期起始"),
    ("valid_to_text", "有效期截止"),
)


def format_card(card) -> str:
    data = card.to_dict(include_binary=False)
    lines = []
    for key, label in FIELD_LABELS:
        value = data.get(key)
        if value not in (None, ""):
            lines.append(f"{label}：{value}")
    digest = hashlib.sha256(card.photo_wlt).hexdigest()[:16]
    lines.append(f"照片：WLT 原始数据 {len(card.photo_wlt)} 字节（SHA-256 {digest}…）")
    if card.fingerprint:
        lines.append(f"指纹：{len(card.fingerprint)} 字节")
    for warning in card.warnings:
        lines.append(f"注意：{warning}")
    return "\n".join(lines)


def _cmd_read(args: argparse.Namespace) -> int:
    from devices.idcard.discovery import discover_reader
    from devices.idcard.errors import IdCardError
    from devices.idcard.sam import SamReader
    from devices.idcard.wlt import load_wlt_decoder

    if args.sdt:
        return _read_via_sdt(args)
    port, baud = args.port, args.baud
    if port is None:
        found = discover_reader(configured_baud=baud)
        if found.location is None:
            raise _user_error(found.message)
        port, baud = found.location.port, found.location.baudrate
    try:
        with SamReader(port, baud or 115200, timeout=args.timeout) as reader:
            reader.sam_status()
            card = reader.read_card(fingerprint=args.fingerprint, new_address=True)
    except IdCardError as exc:
        raise _user_error(exc.message) from None
    _print_card(args, card, load_wlt_decoder())
    return 0


def _read_via_sdt(args: argparse.Namespace) -> int:
    """``idcard read --sdt LIB``: the same read through the vendor's standard SDT library."""
    from devices.idcard.errors import IdCardError
    from devices.idcard.sdt import open_sdt_reader, photo_decoder
    from devices.idcard.wlt import load_wlt_decoder

    try:
        with open_sdt_reader(args.sdt, args.sdt_port) as reader:
            reader.sam_status()
            card = reader.read_card(new_address=True)
            decoder = photo_decoder(reader.lib)
    except IdCardError as exc:
        raise _user_error(exc.message) from None
    _print_card(args, card, decoder if decoder.available else load_wlt_decoder())
    return 0


def _print_card(args: argparse.Namespace, card, decoder) -> None:
    if card is None:
        raise _user_error("未检测到证件，请将证件放在读卡区后重试")
    if args.photo:
        image = decoder.decode(card.photo_wlt)
        if image is None:
            print(f"照片未保存：{decoder.status_message}", file=sys.stderr)
        else:
            Path(args.photo).write_bytes(image)
    if args.json:
        print(json.dumps(card.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_card(card))


# ------------------------------------------------------------------------------ devices

def _device_rows(args: argparse.Namespace, deep: bool):
    from devices import health

    ports = args.probe_port or None
    func = health.selftest if deep else health.list_devices
    return func(idcard_port=args.port, idcard_ports=ports)


def _print_rows(rows, as_json: bool) -> None:
    from devices.health import format_table

    if as_json:
        print(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=2))
    else:
        print(format_table(rows))


def _cmd_devices_list(args: argparse.Namespace) -> int:
    _print_rows(_device_rows(args, deep=False), args.json)
    return 0


def _cmd_devices_selftest(args: argparse.Namespace) -> int:
    """Exit code 0 only when every device is ready."""
    from devices.base import DeviceState

    rows = _device_rows(args, deep=True)
    _print_rows(rows, args.json)
    return 0 if all(r.state is DeviceState.READY for r in rows) else 1


# ------------------------------------------------------------------------------ registration

def register(sub) -> None:
    from devices.idcard.faults import FAULT_HELP

    idcard = sub.add_parser("idcard", help="二代身份证读卡器：读卡、模拟器")
    idcard_sub = idcard.add_subparsers(dest="idcard_command", metavar="SUBCOMMAND")
    idcard.set_defaults(func=lambda args: (idcard.print_help(), 2)[1])

    fault_help = "；".join(f"{f.value}={text}" for f, text in FAULT_HELP.items()) + "；status=XX=所有命令应答状态码XX（十六进制）"
    simulate = idcard_sub.add_parser(
        "simulate", help="在伪终端上运行模拟的身份证安全模块（SAM），首行输出端口路径",
        description="打开一个伪终端，首行输出其路径，然后按 GA 467 协议应答，直到进程被终止或标准输入关闭。")
    simulate.add_argument("--card", metavar="FILE", help="证件数据 JSON 文件或内置样例名（默认 resident_xinxiang）")
    simulate.add_argument("--fault", action="append", metavar="FAULT", help=f"故障模式，可重复：{fault_help}")
    simulate.add_argument("--baud", type=int, default=None, help="只应答该波特率（默认任何波特率）")
    simulate.add_argument("--forever", action="store_true", help="忽略标准输入，一直运行到被终止（后台运行时使用）")
    simulate.set_defaults(func=_cmd_simulate)

    read = idcard_sub.add_parser("read", help="读一张证件并输出各字段")
    read.add_argument("--port", metavar="PATH", help="串口路径（默认自动查找）")
    read.add_argument("--baud", type=int, default=None, help="波特率（默认 115200）")
    read.add_argument("--json", action="store_true", help="以 JSON 输出")
    read.add_argument("--timeout", type=float, default=1.0, help="每条命令的应答超时（秒）")
    read.add_argument("--fingerprint", action="store_true", help="同时读取指纹数据（30 10 命令）")
    read.add_argument("--photo", metavar="FILE", help="用已安装的厂商解码库把证件照片保存为 BMP")
    read.add_argument("--sdt", metavar="LIB", help="通过厂商的标准接口库读卡（libsdtapi.so / sdtapi.dll 的路径），不走串口")
    read.add_argument("--sdt-port", type=int, default=None, metavar="N",
                      help="标准接口库的端口号：1001–1016 为 USB，1–16 为串口（默认自动查找）")
    read.set_defaults(func=_cmd_read)

    devices = sub.add_parser("devices", help="外设状态：列出、自检")
    devices_sub = devices.add_subparsers(dest="devices_command", metavar="SUBCOMMAND")
    devices.set_defaults(func=lambda args: (devices.print_help(), 2)[1])
    for name, handler, text in (("list", _cmd_devices_list, "列出外设及其状态"),
                                ("selftest", _cmd_devices_selftest, "外设自检（全部就绪时退出码为 0）")):
        p = devices_sub.add_parser(name, help=text)
        p.add_argument("--json", action="store_true", help="以 JSON 输出")
        p.add_argument("--port", metavar="PATH", help="身份证读卡器串口（优先于自动查找）")
        p.add_argument("--probe-port", action="append", metavar="PATH",
                       help="只探测这些串口（可重复；默认探测系统列出的全部串口）")
        p.set_defaults(func=handler)

    from devices.camera import cli as camera_cli

    camera_cli.register(sub)
