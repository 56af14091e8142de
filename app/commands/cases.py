"""Case work from the command line: ``counter-app db``, ``case``, ``rules``, ``sla``, ``report``.

Readable Chinese for people; ``--json`` for machines. Bad input gives a one-line message
and a non-zero exit, and writes nothing partial (each write is one transaction).
"""
from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path
from typing import Any

from app.commands.common import add_operator_arguments as _operator_args
from app.commands.common import authenticate_operator as _operator
from app.commands.common import open_window_or_fail as _open
from app.commands.common import parse_date as _date
from app.commands.common import print_json as _print_json
from app.commands.common import read_json as _read_json
from counter_app.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="本机数据库").add_subparsers(dest="db_command", metavar="ACTION")
    p = db.add_parser("upgrade", help="升级数据库结构（保留数据；须系统管理员）")
    _operator_args(p)
    p.set_defaults(func=cmd_db_upgrade)
    p = db.add_parser("status", help="数据库结构版本")
    p.set_defaults(func=cmd_db_status)

    case = sub.add_parser("case", help="办件").add_subparsers(dest="case_command", metavar="ACTION")
    p = case.add_parser("create", help="从JSON文件新建办件（草稿）")
    p.add_argument("--json", dest="json_file", required=True, metavar="FILE")
    _operator_args(p)
    p.add_argument("--output-json", action="store_true", help="以JSON输出结果")
    p.set_defaults(func=cmd_case_create)
    p = case.add_parser("show", help="显示办件（默认脱敏）")
    p.add_argument("case_no")
    p.add_argument("--json", action="store_true")
    p.add_argument("--reveal", action="store_true", help="显示完整个人信息（需授权，记入审计）")
    _operator_args(p)
    p.set_defaults(func=cmd_case_show)
    p = case.add_parser("handover", help="登记出件：事项4、5、8的证照邮寄或申请人自取")
    p.add_argument("case_no")
    p.add_argument("--item", type=int, required=True, choices=(4, 5, 8), help="4 户口页、5 居民身份证、8 社会保障卡")
    p.add_argument("--mode", required=True, choices=("mail", "pickup"), help="mail 邮寄 / pickup 申请人自取")
    p.add_argument("--handed-by", required=True, help="交付人（经办部门或工作人员）")
    p.add_argument("--tracking-no", default="", help="邮件单号（邮寄时必填）")
    p.add_argument("--received-by", default="", help="领取人（自取时必填）")
    p.add_argument("--signature", metavar="PNG", help="领取人签名图片（自取时必填）")
    _operator_args(p)
    p.set_defaults(func=cmd_case_handover)
    p = case.add_parser("letter", help="回传盖章的落户介绍信扫描件（提交后盖章的，随同步上报，释放公安事项4、5）")
    p.add_argument("case_no")
    p.add_argument("--scan", required=True, metavar="FILE", help="扫描件（PDF、JPEG或PNG）")
    _operator_args(p)
    p.set_defaults(func=cmd_case_letter)
    p = case.add_parser("list", help="列出办件（脱敏）")
    p.add_argument("--date", help="受理日期 YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_case_list)

    rules = sub.add_parser("rules", help="规则检查").add_subparsers(dest="rules_command", metavar="ACTION")
    p = rules.add_parser("check", help="检查申请：所需材料与问题")
    p.add_argument("--json", dest="json_file", required=True, metavar="FILE")
    p.add_argument("--output-json", action="store_true")
    p.add_argument("--final", action="store_true", help="按提交要求检查（含材料、签名）")
    p.set_defaults(func=cmd_rules_check)

    sla = sub.add_parser("sla", help="办理时限").add_subparsers(dest="sla_command", metavar="ACTION")
    p = sla.add_parser("due", help="计算各事项到期日（工作日）")
    p.add_argument("--accepted", required=True, help="受理日期 YYYY-MM-DD")
    p.add_argument("--items", required=True, help="事项编号，如 1,4,8")
    p.add_argument("--today", help="用于判断是否超时的日期（默认今天）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sla_due)

    report = sub.add_parser("report", help="报表").add_subparsers(dest="report_command", metavar="ACTION")
    p = report.add_parser("daily", help="每日受理报表（PDF）")
    p.add_argument("--date", required=True)
    p.add_argument("--window", dest="window_no")
    p.add_argument("--center", action="store_true",
                   help="全中心所有窗口（数据来自省平台，离线时用本机缓存并注明截至时间）")
    p.add_argument("-o", "--output", required=True)
    _operator_args(p)
    p.set_defaults(func=cmd_report_daily)


# ------------------------------------------------------------------ db

def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """By an IT administrator of the store being upgraded, checked before it is touched and
    without writing to it (its schema is older than this program's); the installer while the store
    has no IT administrator (a fresh install, the package's own post-install upgrade)."""
    from counter_app.paths import data_home
    from counter_app.security.roles import Permission
    from counter_app.upgrade import safe_upgrade

    from app.commands.common import authenticate_it_offline

    path = data_home() / "counter.sqlite3"
    actor = authenticate_it_offline(path, args, Permission.CHANGE_SETTINGS) if path.exists() else None
    result = safe_upgrade(path)  # backs up first; a failed migration is rolled back and says so
    if result.migrated:
        if actor is not None:
            _audit_upgrade(actor.username, result)
        print(f"数据库结构已升级：{result.from_revision or '空'} → {result.to_revision}：{path}"
              + (f"（升级前备份：{result.backup}）" if result.backup else ""))
    else:
        print(f"数据库已是最新结构（{result.to_revision}）：{path}")
    return 0


def _audit_upgrade(operator: str, result) -> None:  # noqa: ANN001
    from counter_app import audit
    from counter_app.services import open_window

    window = open_window()
    try:
        with window.sessions.begin() as s:
            audit.append(s, operator, "upgrade", "database",
                         {"from": result.from_revision or "", "to": result.to_revision})
    finally:
        window.close()


def cmd_db_status(args: argparse.Namespace) -> int:
    from counter_app.paths import data_home
    from counter_app.store.db import current_revision, head_revision, make_engine

    engine = make_engine(data_home() / "counter.sqlite3")
    print(f"当前结构版本：{current_revision(engine) or '未初始化'}；程序需要：{head_revision()}")
    engine.dispose()
    return 0


# ------------------------------------------------------------------ case

def cmd_case_create(args: argparse.Namespace) -> int:
    from counter_app.security.roles import Permission

    data = _read_json(args.json_file)
    w = _open()
    try:
        actor = _operator(w, args, Permission.HANDLE_CASE)
        rec, problems = w.cases.import_case(data, actor)
    finally:
        w.close()
    if args.output_json:
        _print_json({"case_no": rec.case_no, "version": rec.version, "state": rec.state.value,
                     "problems": [p.to_dict() for p in problems]})
    else:
        print(f"已新建办件（草稿）：{rec.case_no}")
        for p in problems:
            print(f"  {'×' if p.blocking else '!'} {p.message}")
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    from counter_app.masking import mask_case_json

    w = _open()
    try:
        if args.reveal:
            data = _reveal(w, args)
        else:
            rec = w.cases.get_by_number(args.case_no)
            data = mask_case_json(w.cases.export(rec.id))
    finally:
        w.close()
    if args.json:
        _print_json(data)
        return 0
    _print_case_text(data)
    return 0


def cmd_case_handover(args: argparse.Namespace) -> int:
    """出件 (规程 五(五)): who handed the certificate over, when, and the tracking number or the receiver's signature."""
    from counter_app.delivery import DELIVERY_ITEMS, record_handover
    from counter_app.security.roles import Permission

    signature = b""
    if args.signature:
        try:
            signature = Path(args.signature).read_bytes()
        except OSError as exc:
            raise UserError(f"无法读取签名图片“{args.signature}”：{exc.strerror or exc}。") from None
        if not signature.startswith(b"\x89PNG"):
            raise UserError("签名图片应为PNG（签名板导出的图片）。")
    w = _open()
    try:
        actor = _operator(w, args, Permission.HANDLE_CASE)
        rec = w.cases.get_by_number(args.case_no)
        sig = w.cases.put_attachment(signature, "image/png") if signature else ""
        h = record_handover(w.cases, rec.id, args.item, args.mode, actor, handed_by=args.handed_by,
                            received_by=args.received_by, signature=sig, tracking_no=args.tracking_no)
    finally:
        w.close()
    print(f"已登记出件：办件{args.case_no} 事项{h.item}（{DELIVERY_ITEMS[h.item]}），{h.mode.title}。")
    return 0


def cmd_case_letter(args: argparse.Namespace) -> int:
    """The stamped 落户介绍信 scanned back after the case was submitted (规程 五(四)1); the sync worker sends it."""
    from counter_app.finalize import sniff_mime
    from counter_app.security.roles import Permission
    from counter_app.sync.followups import queue_settlement_letter

    try:
        data = Path(args.scan).read_bytes()
    except OSError as exc:
        raise UserError(f"无法读取扫描件“{args.scan}”：{exc.strerror or exc}。") from None
    mime = sniff_mime(data)
    if mime == "application/octet-stream":
        raise UserError("扫描件应为PDF、JPEG或PNG，请重新扫描。")
    w = _open()
    try:
        actor = _operator(w, args, Permission.HANDLE_CASE)
        rec = w.cases.get_by_number(args.case_no)
        queue_settlement_letter(w, rec.id, data, mime, actor)
    finally:
        w.close()
    print(f"已回传办件{args.case_no}盖章的落户介绍信，将随同步上报省平台，公安事项4、5随即推送。")
    return 0


def _reveal(w: Any, args: argparse.Namespace) -> dict:
    from counter_app.security import access
    from counter_app.security.roles import Permission

    if not args.user:
        raise UserError("查看完整个人信息须以授权账号登录：请加 --user 用户名（密码在提示时输入，或用 --password-stdin 从标准输入读取）。")
    return access.reveal_case(w, _operator(w, args, Permission.REVEAL), args.case_no)


def _print_case_text(data: dict) -> None:
    from counter_app.lifecycle import CaseState, ItemStatus
    from counter_app.scheme import ITEMS, RetirementType

    app = data["application"]
    a = app["applicant"]
    print(f"办件编号：{data['case_no']}（第{data['version']}版）  状态：{CaseState(data['state']).title}")
    rt = app.get("retirement_type")
    print(f"申请人：{a['name']}  {a['sex']}  公民身份号码：{a['id_number']}  退役类型：{RetirementType(rt).title if rt else '未选'}")
    print(f"联系电话：{a['phone']}  现居住地址：{a['current_address']}")
    due = {d["item"]: d["due"] for d in data.get("deadlines", []) if d.get("kind", "item") != "card_making"}
    status = {p["item"]: p["status"] for p in data.get("items_progress", [])}
    print("联办事项：")
    for n in app["items"]:
        st = ItemStatus(status[n]).title if n in status else "—"
        print(f"  {n:>2}. {ITEMS[n].title}  [{st}]  到期：{due.get(n) or '—'}")
    if None in due:
        print(f"全案办结时限：{due[None]}")
    print(f"上报平台：{'已确认' if data['platform']['acknowledged'] else '待上报'}")


def cmd_case_list(args: argparse.Namespace) -> int:
    day = _date(args.date, "日期") if args.date else None
    w = _open()
    try:
        rows = w.cases.list_cases(day=day)
    finally:
        w.close()
    if args.json:
        _print_json([{"case_no": r.case_no, "version": r.version, "state": r.state.value, "name": r.masked_name,
                      "id_number": r.masked_id, "items": r.items, "accepted_on": r.accepted_on,
                      "operator": r.operator, "synced": r.synced, "sla": r.sla, "damaged": r.damaged} for r in rows])
        return 0
    if not rows:
        print("没有办件。")
    for r in rows:
        print(f"{r.case_no}  v{r.version}  {r.masked_name:<6} {r.masked_id}  {r.state.title:<8} "
              f"事项{','.join(map(str, r.items))}  {'已上报' if r.synced else ('待上报' if r.accepted_on else '—')}")
    return 0


# ------------------------------------------------------------------ rules / sla

def cmd_rules_check(args: argparse.Namespace) -> int:
    from counter_app.application import parse_application
    from counter_app.rules import item_applicability, required_materials, validate

    data = _read_json(args.json_file)
    app, parse_problems = parse_application(data)
    problems = parse_problems + validate(app, for_finalize=args.final)
    mats = required_materials(app)
    blocking = [p for p in problems if p.blocking]
    if args.output_json:
        _print_json({"required_materials": [m.to_dict() for m in mats],
                     "items": [{"number": i.number, "applicable": i.applicable, "reason": i.reason}
                               for i in item_applicability(app)],
                     "problems": [p.to_dict() for p in problems], "ok": not blocking})
    else:
        print("所需材料：")
        for m in mats:
            print(f"  {m.number:>2}. {m.title} —— {m.reason}")
        print("问题：" if problems else "没有发现问题。")
        for p in problems:
            print(f"  {'×' if p.blocking else '!'} [{p.field or '整体'}] {p.message}")
    return 1 if blocking else 0


def cmd_sla_due(args: argparse.Namespace) -> int:
    from counter_app.scheme import ITEMS
    from counter_app.workdays import CARD_MAKING, HolidayTableError, WorkCalendar, plan_deadlines, sla_state

    accepted = _date(args.accepted, "受理日期")
    today = _date(args.today, "日期") if args.today else _dt.date.today()
    try:
        items = sorted({int(x) for x in args.items.replace("，", ",").split(",") if x.strip()})
    except ValueError:
        raise UserError(f"事项编号格式不正确：{args.items!r}（应如 1,4,8）") from None
    bad = [n for n in items if n not in ITEMS]
    if bad or not items:
        raise UserError(f"未知的事项编号：{bad or args.items}（应为1至11）")
    from counter_app.paths import data_home

    try:
        cal = WorkCalendar.default(extra_dirs=[data_home() / "holidays"])
    except HolidayTableError as exc:
        raise UserError(str(exc)) from None
    plan = plan_deadlines(cal, accepted, items)
    rows = []
    for key in items + [k for k in (CARD_MAKING,) if k in plan] + [None]:
        d = plan[key]
        title = ("社会保障卡制卡（不计入总时限）" if key == CARD_MAKING else ITEMS[key].title) if key else "全案（18个工作日）"
        rows.append({**d.to_dict(), "title": title, "state": sla_state(cal, d, today).value})
    if args.json:
        _print_json({"accepted": accepted, "today": today, "deadlines": rows})
        return 0
    print(f"受理日期：{accepted}（受理当日不计入）")
    for r in rows:
        flag = "" if r["verified"] else "（该年度节假日安排未发布，按周末推算，仅供参考）"
        number = f"{r['item']}." if r["item"] and r["kind"] == "item" else "  "
        print(f"  {number} {r['title']}：{r['due'] or '无时限'} {r['note']}{flag}")
    return 0


# ------------------------------------------------------------------ report

def _center_report_data(w, day, operator: str):
    from counter_app.clock import CHINA_TZ
    from counter_app.sync.center_report import center_figures, center_report_data
    from counter_app.sync.errors import SyncError

    try:
        figures = center_figures(w, day)
    except SyncError as exc:
        raise UserError(f"无法取得全中心数据：{exc.message}") from None
    print(figures.stamp)
    return center_report_data(figures, center=w.settings.center_name, operator=operator,
                              printed_at=_dt.datetime.now(CHINA_TZ))


def cmd_report_daily(args: argparse.Namespace) -> int:
    from counter_app.reports import daily_report_data
    from counter_app.security.roles import Permission

    day = _date(args.date, "日期")
    w = _open()
    try:
        actor = _operator(w, args, Permission.VIEW_REPORTS)
        if args.center:
            data = _center_report_data(w, day, actor.username)
        else:
            data = daily_report_data(w, day, args.window_no, operator=actor.username)
        from printing.report import render_daily_report

        result = render_daily_report(data)
        out = Path(args.output)
        try:
            out.write_bytes(result.pdf)
        except OSError as exc:
            raise UserError(f"无法写入 {out}：{exc.strerror}") from None
        try:
            from counter_app import audit

            with w.sessions.begin() as s:
                audit.append(s, actor.username, "print", f"daily-report:{day}", {"cases": len(data.cases)})
        except Exception:  # noqa: BLE001 - printing the report must not fail on the audit
            pass
    finally:
        w.close()
    print(f"已生成{day}的受理报表：{out}")
    return 0
