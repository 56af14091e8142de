"""``counter-app sync …``: run the sync worker, show the queue, export an offline bundle, manage
the credential and the quarantine lane."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
import threading


def _open():
    from counter_app.services import open_window

    return open_window()  # ConfigError / KeyStoreError are UserErrors: the CLI root prints them


def _print_status(st, as_json: bool) -> None:
    if as_json:
        print(json.dumps(st.to_dict(), ensure_ascii=False, indent=1))
        return
    print(st.summary)
    print(f"待上报：{st.waiting}  隔离区：{st.quarantined}  已确认：{st.acked}")
    if st.oldest_case_no:
        print(f"最早未上报：{st.oldest_case_no}（{st.oldest_waiting_at.astimezone().strftime('%Y-%m-%d %H:%M')}）")
    if st.block_new:
        print("停止受理：" + st.block_reason)
    elif st.warn_stale:
        print("提醒：" + st.warn_reason)
    if st.last_error:
        print("最近错误：" + st.last_error)
    if st.mismatch:
        print(st.mismatch)
    if st.unconfirmed_count:
        print(f"崩溃后恢复、待窗口确认的办件：{st.unconfirmed_count}件（{'、'.join(st.unconfirmed[:5])}…）")


def cmd_status(args: argparse.Namespace) -> int:
    from counter_app.sync.status import sync_status

    w = _open()
    try:
        _print_status(sync_status(w), args.json)
    finally:
        w.close()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from app.services import open_sync
    from counter_app.errors import UserError

    w = _open()
    try:
        worker = open_sync(w)
        if args.once:
            res = worker.run_once()
            d, st = res.drain, res.status
            if args.json:
                out = st.to_dict()
                if d is not None:
                    out["round"] = {"sent": d.sent, "replayed": d.replayed, "quarantined": d.quarantined,
                                    "deferred": d.deferred, "stop": d.stop}
                print(json.dumps(out, ensure_ascii=False, indent=1))
            else:
                if d is not None:
                    print(f"本次上报：新接收{d.sent}件，平台已有{d.replayed}件，隔离{d.quarantined}件。")
                _print_status(st, False)
            if st.needs_credentials:
                raise UserError(st.last_error or "需要登记省平台窗口凭据。", exit_code=3)
            if d is None or (d.stop is not None and d.stop.retry_later):
                return 1
            return 0
        stopped = threading.Event()
        last = [""]

        def show(st) -> None:
            line = f"{st.summary}；{st.last_error}" if st.last_error else st.summary
            if line != last[0]:
                last[0] = line
                print(line, flush=True)

        worker.add_listener(show)
        worker.start()
        print("同步已启动，按 Ctrl+C 停止。", flush=True)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass
        finally:
            worker.stop()
        return 0
    finally:
        w.close()


def cmd_export(args: argparse.Namespace) -> int:
    from counter_app.errors import UserError
    from counter_app.store.files import AttachmentCorrupt, AttachmentMissing
    from counter_app.sync.bundle import export_bundle

    w = _open()
    try:
        try:
            res = export_bundle(w, args.dir)
        except (AttachmentMissing, AttachmentCorrupt) as exc:
            raise UserError(f"{exc}；该办件无法导出，请先处理后再导出。") from None
    finally:
        w.close()
    if res.path is None:
        print("没有待上报的办件，无需导出。")
    else:
        print(f"已导出{res.cases}件待上报办件（附件{res.attachments}个）：{res.path}")
        print("请将该文件交省平台导入；办件仍保留在待上报队列，网络恢复后会自动确认，不会重复。")
        if res.warning:
            print("注意：" + res.warning)
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    from counter_app.errors import UserError
    from counter_app.sync.client import CredentialsError, SyncError, client_for
    from counter_app.sync.credentials import set_token

    from app.commands.common import authenticate_operator
    from counter_app import audit
    from counter_app.security.roles import Permission

    w = _open()
    try:
        # Who replaces the platform credential is authenticated (IT administrator) and audited.
        actor = authenticate_operator(w, args, Permission.CHANGE_SETTINGS, installer_ok=True)
        if args.stdin:
            token = sys.stdin.readline().strip()
        else:
            token = getpass.getpass("请输入省平台下发的窗口凭据：").strip()
        if not token:
            raise UserError("凭据不能为空。")
        if not args.no_verify:
            try:
                who = client_for(w, token=token).whoami()
            except CredentialsError:
                raise UserError("省平台不认可该凭据，未保存。请核对后重新输入。") from None
            except SyncError as exc:
                raise UserError(exc.message + "（可加 --no-verify 先保存，联网后再验证）") from None
            print(f"凭据有效（平台登记为：{who.get('window', '')}）。")
        try:
            set_token(w, token)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        with w.sessions.begin() as s:
            audit.append(s, actor.username, "settings", "platform-credential", {"changed": ["credential"]})
    finally:
        w.close()
    print("凭据已保存到系统密钥库。")
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    from counter_app.errors import UserError
    from counter_app.sync.outbox import quarantined_entries, requeue

    from app.commands.common import authenticate_operator
    from counter_app.security.roles import Permission

    w = _open()
    try:
        if args.requeue:
            actor = authenticate_operator(w, args, Permission.HANDLE_CASE)
            try:
                bk = requeue(w, args.requeue, actor.username)
            except LookupError as exc:
                raise UserError(str(exc)) from None
            print(f"{bk} 已重新排入上报队列。")
            return 0
        rows = quarantined_entries(w)
    finally:
        w.close()
    if args.json:
        print(json.dumps([{**r, "queued_at": r["queued_at"].isoformat()} for r in rows], ensure_ascii=False, indent=1))
    elif not rows:
        print("隔离区为空。")
    else:
        for r in rows:
            print(f"{r['business_key']}：{r['message']}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from counter_app.sync.client import client_for
    from counter_app.sync.reconcile import check_acknowledged, record_finding
    from counter_app.sync.status import read_runtime, write_runtime

    w = _open()
    try:
        check = check_acknowledged(w, client_for(w), full=True)  # SyncError is a UserError: said as it is
        runtime = read_runtime(w)
        signature = record_finding(w, check, str(runtime.get("mismatch_signature") or ""))
        try:
            write_runtime(w, {**runtime, "mismatch": check.message, "mismatch_signature": signature})
        except Exception:  # noqa: BLE001 - a read-only store: the finding is printed all the same
            pass
    finally:
        w.close()
    if args.json:
        print(json.dumps(check.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(f"省平台已收到本窗口办件{check.platform_cases}件；本机记为已确认{check.local_acked}件。")
        print(check.message or "核对一致。")
    return 0 if check.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    from app.commands.common import add_operator_arguments

    p = sub.add_parser("sync", help="与省平台同步：上报办件、拉取进度、离线导出")
    ss = p.add_subparsers(dest="sync_command", metavar="SUBCOMMAND")

    r = ss.add_parser("run", help="运行同步（默认持续运行，--once 只运行一轮）")
    r.add_argument("--once", action="store_true", help="上报所有待上报办件并拉取一次进度后退出")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)

    s = ss.add_parser("status", help="显示待上报、隔离、已确认数量")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)

    e = ss.add_parser("export", help="将待上报办件导出为签名离线包（人工交省平台导入）")
    e.add_argument("dir", help="导出目录（如U盘）")
    e.set_defaults(func=cmd_export)

    v = ss.add_parser("verify", help="与省平台核对：平台已收到的本窗口办件本机是否都在")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_verify)

    lg = ss.add_parser("login", help="登记省平台窗口凭据（保存到系统密钥库）")
    lg.add_argument("--stdin", action="store_true", help="从标准输入读取凭据")
    lg.add_argument("--no-verify", action="store_true", help="不联网验证，直接保存")
    add_operator_arguments(lg, stdin=False)
    lg.set_defaults(func=cmd_login)

    q = ss.add_parser("quarantine", help="查看隔离区，或将办件重新排入上报队列")
    q.add_argument("--requeue", metavar="CASE_NO", help="办件编号或“办件编号/v版本”")
    add_operator_arguments(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_quarantine)
